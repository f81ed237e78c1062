/**
 * The contract every data source implements: DuckDB (embedded), MySQL-family and PostgreSQL-family.
 * A source runs only statements the SQL guard accepts, inside a read-only session, with a time limit
 * and a row cap. Nothing here exposes credentials.
 */

export const sqlDialects = ['duckdb', 'mysql', 'postgres'] as const;
export type SqlDialect = (typeof sqlDialects)[number];

/** A value as iquery hands it on: JSON-safe, so results print and serialise without surprises. */
export type SqlValue = string | number | boolean | null;

/** Broad type families, shared by every engine, used by the dictionary and the analyst. */
export const typeFamilies = ['integer', 'decimal', 'float', 'text', 'boolean', 'date', 'timestamp', 'time', 'other'] as const;
export type TypeFamily = (typeof typeFamilies)[number];

export interface ColumnMeta {
  name: string;
  /** The engine's own type name, e.g. `VARCHAR`, `int(11)`, `numeric`. */
  nativeType: string;
  family: TypeFamily;
}

export interface QueryOptions {
  /** Positional parameters, bound by the driver (never spliced into the text). */
  params?: readonly SqlValue[];
  /** Wall-clock limit for the statement, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Most rows returned; when the result has more, `truncated` is true. Default 10 000. */
  maxRows?: number;
  signal?: AbortSignal;
}

export const defaultQueryTimeoutMs = 30_000;
export const defaultMaxRows = 10_000;

export interface QueryResult {
  columns: ColumnMeta[];
  /** Row-major values, at most `maxRows` rows. */
  rows: SqlValue[][];
  /** Rows returned in `rows`. */
  rowCount: number;
  /** True when the query produced more rows than the cap allowed. */
  truncated: boolean;
}

/** A slice of a streamed result, column-major so that it can be handed on as columnar buffers. */
export interface ResultBatch {
  columns: ColumnMeta[];
  /** `values[c][r]` is column c of row r in this batch. */
  values: SqlValue[][];
  rowCount: number;
}

export interface StreamOptions extends QueryOptions {
  /** Rows per batch, a hint: engines with native chunks (DuckDB: 2048) may use their own size. */
  batchRows?: number;
}

/** A streamed result: batches arrive as the database produces them; `truncated` is known at the end. */
export interface ResultStream extends AsyncIterable<ResultBatch> {
  /** Set once iteration ends: true when the row cap cut the result short. */
  readonly truncated: boolean;
}

/**
 * Fixed-width storage of a raw column vector, little-endian, one value per row: integers (`int128`
 * is two's complement, low word first), floats, `bool` (one byte, 0 or 1), `date32` (days since
 * 1970-01-01), `timestamp_*` (since 1970-01-01 00:00, in the unit named) and `decimal*` (unscaled
 * integers; the vector's `scale` places the point).
 */
export const fixedVectorKinds = [
  'bool', 'int8', 'int16', 'int32', 'int64', 'int128', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64',
  'date32', 'timestamp_s', 'timestamp_ms', 'timestamp_us', 'timestamp_ns', 'decimal16', 'decimal32', 'decimal64', 'decimal128',
] as const;
export type FixedVectorKind = (typeof fixedVectorKinds)[number];

/**
 * One column of a columnar batch, as raw memory. `validity` is a bitmap, least significant bit first,
 * 1 = valid, or null when every row is valid; what sits in the data of a null row is undefined.
 * Buffers may be views of the engine's own memory: they stay valid only until the stream moves on,
 * so copy what you keep.
 */
export type ColumnVector =
  | {
      layout: 'fixed';
      kind: FixedVectorKind;
      /** rowCount × the kind's width, in bytes. */
      data: Uint8Array;
      validity: Uint8Array | null;
      /** Digits after the point, for decimals. */
      scale?: number;
      /** Timestamps that are instants in UTC (TIMESTAMP WITH TIME ZONE). */
      utc?: boolean;
    }
  /** Strings: row r is `bytes[offsets[r] .. offsets[r + 1])`, UTF-8; null rows have empty ranges. */
  | { layout: 'utf8'; offsets: Int32Array; bytes: Uint8Array; validity: Uint8Array | null }
  /**
   * Strings the engine dictionary-encoded: `codes[r]` (-1 = null) numbers the distinct strings of the
   * whole result in order of first sight. `added` holds, as UTF-8 with offsets, the strings first seen
   * in this batch, whose codes follow those of earlier batches. A column may switch to `utf8` for the
   * rest of the result when it has too many distinct strings; it never switches back.
   */
  | { layout: 'dictionary'; codes: Int32Array; added: { offsets: Int32Array; bytes: Uint8Array } }
  /** A column the engine cannot hand over raw (nested types, intervals…): values as `stream` gives them. */
  | { layout: 'values'; values: SqlValue[] };

/** A slice of a result as raw column vectors. */
export interface ColumnarBatch {
  columns: ColumnMeta[];
  vectors: ColumnVector[];
  rowCount: number;
}

/** A streamed columnar result; `truncated` is known at the end. */
export interface ColumnarStream extends AsyncIterable<ColumnarBatch> {
  readonly truncated: boolean;
}

/**
 * A result written by the engine itself as a frame's column files (FORMAT.md in src/sandbox/frames),
 * without passing through JS: the manifest's columns, still to be checked and written by the caller.
 */
export interface FrameFiles {
  rows: number;
  /** True when the query had more rows than `maxRows`; the files hold the first `maxRows`. */
  truncated: boolean;
  /** Bytes of the column files. */
  bytes: number;
  /** Manifest entries (`kind`, file names, `nulls`…), unchecked. */
  columns: unknown[];
}

export interface ColumnInfo {
  name: string;
  nativeType: string;
  family: TypeFamily;
  nullable: boolean;
}

export interface ForeignKey {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
}

export interface TableInfo {
  name: string;
  /** Schema or database the table lives in, when the engine has one. */
  schema: string;
  columns: ColumnInfo[];
  /** Declared primary key columns; empty when none is declared. */
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  rowCount: number;
  /** False when `rowCount` is the engine's estimate (large MySQL/PostgreSQL tables). */
  rowCountExact: boolean;
}

export interface ValueCount {
  value: SqlValue;
  count: number;
}

export interface ColumnProfile {
  name: string;
  /** Distinct non-null values seen (exact on small tables, over a sample on large ones). */
  distinctCount: number;
  nullCount: number;
  /** Rows the profile looked at. */
  sampledRows: number;
  /** True when the column has few distinct values (at most the categorical limit), each seen twice or more on average; they are all listed in `values`. */
  categorical: boolean;
  /** All distinct values with counts (categorical), or a few sample values otherwise. */
  values: ValueCount[];
  /** True when no value repeats among the rows looked at (a key candidate). */
  unique: boolean;
}

export interface TableProfile {
  table: string;
  columns: ColumnProfile[];
}

export interface ProfileOptions {
  /** Most distinct values for a column to count as categorical. Default 50. */
  categoricalLimit?: number;
  /** Rows profiled at most; larger tables are sampled. Default 200 000. */
  sampleRows?: number;
  signal?: AbortSignal;
}

export interface DataSource {
  readonly dialect: SqlDialect;
  /** How to name the source to a person: a file path or a URL with the password removed. */
  readonly label: string;
  listTables(): Promise<TableInfo[]>;
  describeTable(table: string): Promise<TableInfo>;
  /** Distinct counts, nulls, and values of categorical columns for one table. */
  profileTable(table: string, options?: ProfileOptions): Promise<TableProfile>;
  /** Runs one statement the guard accepts; anything else is refused with `sql_refused`. */
  query(sql: string, options?: QueryOptions): Promise<QueryResult>;
  /** Like `query`, but yields column-major batches as they arrive. */
  stream(sql: string, options?: StreamOptions): ResultStream;
  /**
   * Like `stream`, but yields raw column vectors without making a JS value per cell; only engines
   * that hold results in columnar memory have it (DuckDB). Same guard, limits and errors as `stream`.
   */
  streamColumnar?(sql: string, options?: StreamOptions): ColumnarStream;
  /**
   * Writes the result straight into frame column files under `directory` (an existing, empty folder),
   * natively, with the same guard, limits and errors as `stream`. Resolves to undefined, having written
   * nothing, when this source cannot do it for this result (no native writer, a column type without a
   * raw form): the caller then streams instead.
   */
  writeFrameFiles?(sql: string, directory: string, options?: StreamOptions): Promise<FrameFiles | undefined>;
  /** Quotes an identifier for this dialect. */
  quoteIdentifier(name: string): string;
  close(): Promise<void>;
}
