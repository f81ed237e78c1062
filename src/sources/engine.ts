import { IqueryError, messageOf } from '../errors.js';
import { assertReadOnlySql } from '../guard/guard.js';
import {
  defaultMaxRows,
  defaultQueryTimeoutMs,
  type ColumnarBatch,
  type ColumnarStream,
  type ColumnMeta,
  type ColumnVector,
  type DataSource,
  type FrameFiles,
  type ProfileOptions,
  type QueryOptions,
  type QueryResult,
  type ResultBatch,
  type ResultStream,
  type SqlDialect,
  type SqlValue,
  type StreamOptions,
  type TableInfo,
  type TableProfile,
} from './source.js';
import { profileTable } from './profile.js';

/** Runs iquery's own SQL (never user text) and returns row-major values. */
export type RunInternal = (sql: string, params?: readonly SqlValue[]) => Promise<SqlValue[][]>;

/** An open result on the database side, read batch by batch. */
export interface Cursor {
  columns: ColumnMeta[];
  /** The next batch (column-major values), or null when the result is exhausted. */
  next(): Promise<SqlValue[][] | null>;
  /** Releases the result; stops the query on the server when it is still running. */
  close(): Promise<void>;
}

/** An open result read as raw column vectors (engines with columnar results). */
export interface ColumnarCursor {
  columns: ColumnMeta[];
  /** The next chunk, or null when the result is exhausted. Its vectors stay valid until `next` or `close` is called again. */
  next(): Promise<{ vectors: ColumnVector[]; rowCount: number } | null>;
  /** Releases the result; stops the query on the server when it is still running. */
  close(): Promise<void>;
}

export interface CursorRequest {
  sql: string;
  params: readonly SqlValue[];
  /** The engine should not produce more rows than this (the caller asks for cap + 1 to detect truncation). */
  rowLimit: number;
  batchRows: number;
  timeoutMs: number;
  /** Aborts on cancellation and on timeout; the engine stops the query on the server when it fires. */
  signal: AbortSignal;
}

/** A result to be written as frame files by the engine (see `DataSource.writeFrameFiles`). */
export interface FrameFilesRequest {
  sql: string;
  params: readonly SqlValue[];
  directory: string;
  /** Rows written at most; more rows mean `truncated`. */
  maxRows: number;
  /** Aborts on cancellation and on timeout; the engine stops the query when it fires. */
  signal: AbortSignal;
}

/**
 * What one database engine provides. Engines run SQL as given; the guard, the limits and the error
 * mapping live once, in `createGuardedSource`.
 */
export interface Engine {
  readonly dialect: SqlDialect;
  readonly label: string;
  /** Runs user SQL that the guard accepted, inside the engine's read-only session. */
  openCursor(request: CursorRequest): Promise<Cursor>;
  /** Like `openCursor`, but hands over the engine's column vectors as raw memory (DuckDB). */
  openColumnarCursor?(request: CursorRequest): Promise<ColumnarCursor>;
  /** Writes a result as frame files natively; undefined when it cannot for this result (nothing written). */
  writeFrameFiles?(request: FrameFilesRequest): Promise<FrameFiles | undefined>;
  /** Runs iquery's own introspection SQL (never user text); returns row-major values. */
  runInternal: RunInternal;
  listTables(): Promise<TableInfo[]>;
  quoteIdentifier(name: string): string;
  /** True for the server's own statement-timeout error (the database-side backstop of the time limit). */
  isServerTimeout?(error: unknown): boolean;
  close(): Promise<void>;
}

/** The error and the errors it wraps, outermost first. */
export function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 10; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

function normaliseLimit(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new IqueryError('usage', `${what} must be a positive whole number, got ${value}.`);
  }
  return value;
}

/** The first `rows` rows of a vector (views, not copies). */
function headOfVector(vector: ColumnVector, rowCount: number, rows: number): ColumnVector {
  switch (vector.layout) {
    case 'fixed':
      return {
        ...vector,
        data: vector.data.subarray(0, (vector.data.byteLength / rowCount) * rows),
        validity: vector.validity?.subarray(0, Math.ceil(rows / 8)) ?? null,
      };
    case 'utf8':
      return { ...vector, offsets: vector.offsets.subarray(0, rows + 1), validity: vector.validity?.subarray(0, Math.ceil(rows / 8)) ?? null };
    case 'dictionary':
      return { ...vector, codes: vector.codes.subarray(0, rows) };
    case 'values':
      return { layout: 'values', values: vector.values.slice(0, rows) };
  }
}

/** How the guarded stream handles one kind of cursor: values (`openCursor`) or vectors (`openColumnarCursor`). */
interface ChunkShape<Chunk, Batch> {
  open(request: CursorRequest): Promise<{ columns: ColumnMeta[]; next(): Promise<Chunk | null>; close(): Promise<void> }>;
  rowCount(chunk: Chunk): number;
  head(chunk: Chunk, rows: number): Chunk;
  empty(columns: ColumnMeta[]): Chunk;
  batch(columns: ColumnMeta[], chunk: Chunk, rowCount: number): Batch;
}

/** Wraps an engine as a `DataSource`: every user statement passes the guard first. */
export function createGuardedSource(engine: Engine): DataSource {
  let tablesCache: Promise<TableInfo[]> | undefined;

  function tables(): Promise<TableInfo[]> {
    tablesCache ??= engine.listTables().catch((error: unknown) => {
      tablesCache = undefined;
      throw error;
    });
    return tablesCache;
  }

  async function findTable(name: string): Promise<TableInfo> {
    const all = await tables();
    const found = all.find((table) => table.name === name) ?? all.find((table) => table.name.toLowerCase() === name.toLowerCase());
    if (found === undefined) {
      const known = all.map((table) => table.name).join(', ') || '(none)';
      throw new IqueryError('not_found', `No table named "${name}" in ${engine.label}.`, {
        hint: `Known tables: ${known}.`,
      });
    }
    return found;
  }

  /**
   * The time limit and the caller's signal for one query: `control` aborts on either, and
   * `describeStop` turns whatever the engine threw into the error the caller sees.
   */
  function startLimits(timeoutMs: number, callerSignal: AbortSignal | undefined): { control: AbortController; describeStop: (error: unknown) => IqueryError; dispose: () => void } {
    const control = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      control.abort();
    }, timeoutMs);
    const onCallerAbort = (): void => control.abort();
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    if (callerSignal?.aborted) control.abort();
    const describeStop = (error: unknown): IqueryError => {
      // The database's own limit may fire a moment before ours: it is the same time limit.
      if (timedOut || engine.isServerTimeout?.(error) === true) {
        return new IqueryError('query_timeout', `The query ran longer than ${timeoutMs} ms and was stopped.`, {
          hint: 'Narrow the query (filters, aggregates, LIMIT) or raise the timeout with --timeout.',
          cause: error,
        });
      }
      if (control.signal.aborted) return new IqueryError('query_cancelled', 'The query was cancelled.', { cause: error });
      if (error instanceof IqueryError) return error;
      return new IqueryError('query_failed', `The database rejected the query: ${messageOf(error)}`, { cause: error });
    };
    const dispose = (): void => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    };
    return { control, describeStop, dispose };
  }

  function guardedStream<Chunk, Batch>(sql: string, options: StreamOptions, shape: ChunkShape<Chunk, Batch>): AsyncIterable<Batch> & { readonly truncated: boolean } {
    const maxRows = normaliseLimit(options.maxRows, defaultMaxRows, 'The row cap');
    const timeoutMs = normaliseLimit(options.timeoutMs, defaultQueryTimeoutMs, 'The timeout');
    const batchRows = normaliseLimit(options.batchRows, 2048, 'The batch size');
    let truncated = false;

    async function* batches(): AsyncGenerator<Batch> {
      assertReadOnlySql(sql, engine.dialect);
      const { control, describeStop, dispose } = startLimits(timeoutMs, options.signal);

      let cursor: Awaited<ReturnType<ChunkShape<Chunk, Batch>['open']>> | undefined;
      try {
        if (control.signal.aborted) throw describeStop(undefined);
        cursor = await shape.open({ sql, params: options.params ?? [], rowLimit: maxRows + 1, batchRows, timeoutMs, signal: control.signal });
        let delivered = 0;
        for (;;) {
          // Checked at every batch: some engines cannot stop a cursor between fetches (PostgreSQL's cancel
          // only reaches a running statement), so a cancelled stream ends here.
          if (control.signal.aborted) throw describeStop(undefined);
          const chunk = await cursor.next();
          if (chunk === null) {
            // An interrupted DuckDB stream can end as if exhausted: a stopped query must not pass for a whole one.
            if (control.signal.aborted) throw describeStop(undefined);
            break;
          }
          const rowCount = shape.rowCount(chunk);
          if (rowCount === 0) continue;
          const room = maxRows - delivered;
          if (rowCount > room) {
            truncated = true;
            if (room > 0) yield shape.batch(cursor.columns, shape.head(chunk, room), room);
            break;
          }
          delivered += rowCount;
          yield shape.batch(cursor.columns, chunk, rowCount);
        }
        if (delivered === 0 && !truncated) yield shape.batch(cursor.columns, shape.empty(cursor.columns), 0);
      } catch (error) {
        throw describeStop(error);
      } finally {
        dispose();
        await cursor?.close().catch(() => undefined);
      }
    }

    const iterable = batches();
    return {
      get truncated() {
        return truncated;
      },
      [Symbol.asyncIterator]: () => iterable,
    };
  }

  function stream(sql: string, options: StreamOptions = {}): ResultStream {
    return guardedStream<SqlValue[][], ResultBatch>(sql, options, {
      open: (request) => engine.openCursor(request),
      rowCount: (values) => values[0]?.length ?? 0,
      head: (values, rows) => values.map((column) => column.slice(0, rows)),
      empty: (columns) => columns.map(() => []),
      batch: (columns, values, rowCount) => ({ columns, values, rowCount }),
    });
  }

  function streamColumnar(openColumnarCursor: NonNullable<Engine['openColumnarCursor']>, sql: string, options: StreamOptions = {}): ColumnarStream {
    type Chunk = { vectors: ColumnVector[]; rowCount: number };
    return guardedStream<Chunk, ColumnarBatch>(sql, options, {
      open: (request) => openColumnarCursor(request),
      rowCount: (chunk) => chunk.rowCount,
      head: (chunk, rows) => ({ vectors: chunk.vectors.map((vector) => headOfVector(vector, chunk.rowCount, rows)), rowCount: rows }),
      empty: (columns) => ({ vectors: columns.map(() => ({ layout: 'values', values: [] })), rowCount: 0 }),
      batch: (columns, chunk, rowCount) => ({ columns, vectors: chunk.vectors, rowCount }),
    });
  }

  const openColumnarCursor = engine.openColumnarCursor?.bind(engine);

  async function writeFrameFiles(
    write: NonNullable<Engine['writeFrameFiles']>,
    sql: string,
    directory: string,
    options: StreamOptions = {},
  ): Promise<FrameFiles | undefined> {
    const maxRows = normaliseLimit(options.maxRows, defaultMaxRows, 'The row cap');
    const timeoutMs = normaliseLimit(options.timeoutMs, defaultQueryTimeoutMs, 'The timeout');
    assertReadOnlySql(sql, engine.dialect);
    const { control, describeStop, dispose } = startLimits(timeoutMs, options.signal);
    try {
      if (control.signal.aborted) throw describeStop(undefined);
      const files = await write({ sql, params: options.params ?? [], directory, maxRows, signal: control.signal });
      // An interrupted DuckDB query can end as if exhausted: a stopped query must not pass for a whole one.
      if (control.signal.aborted) throw describeStop(undefined);
      return files;
    } catch (error) {
      throw describeStop(error);
    } finally {
      dispose();
    }
  }
  const engineWriteFrameFiles = engine.writeFrameFiles?.bind(engine);

  return {
    dialect: engine.dialect,
    label: engine.label,
    listTables: tables,
    describeTable: findTable,
    async profileTable(table: string, options: ProfileOptions = {}): Promise<TableProfile> {
      return profileTable(engine, await findTable(table), options);
    },
    async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
      const result = stream(sql, options);
      let columns: ColumnMeta[] = [];
      const rows: SqlValue[][] = [];
      for await (const batch of result) {
        columns = batch.columns;
        for (let row = 0; row < batch.rowCount; row++) rows.push(batch.values.map((column) => column[row] ?? null));
      }
      return { columns, rows, rowCount: rows.length, truncated: result.truncated };
    },
    stream,
    ...(openColumnarCursor === undefined
      ? {}
      : { streamColumnar: (sql: string, options?: StreamOptions) => streamColumnar(openColumnarCursor, sql, options) }),
    ...(engineWriteFrameFiles === undefined
      ? {}
      : { writeFrameFiles: (sql: string, directory: string, options?: StreamOptions) => writeFrameFiles(engineWriteFrameFiles, sql, directory, options) }),
    quoteIdentifier: (name) => engine.quoteIdentifier(name),
    close: () => engine.close(),
  };
}
