/**
 * Content hashes of results and tables, for the report's appendix and `iquery rerun`: sha256 over a
 * canonical JSON form, so that the same data hashes alike on every run and every engine's rounding.
 */
import { createHash, type Hash } from 'node:crypto';
import type { DataSource, SqlValue } from '../sources/source.js';
import type { ResultFingerprint } from './report.js';

/** Significant digits a non-integer keeps in the canonical form: engines differ in the last bits of a float sum. */
const significantDigits = 12;

/** Rows of a result kept beside its fingerprint. */
export const keptRows = 50;

/** Rows a fingerprinted query may produce before it counts as truncated. */
export const defaultHashRowLimit = 1_000_000;

/**
 * One number in canonical form: integers exactly as digits, other numbers rounded to 12 significant
 * digits and printed in JavaScript's shortest form (so 1 and 1.0 agree, and 0.1 + 0.2 equals 0.3).
 * Non-finite numbers, which JSON cannot hold, are written as bare `NaN`, `Infinity`, `-Infinity`.
 */
export function canonicalNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return value === 0 ? '0' : String(value);
  const rounded = Number(value.toPrecision(significantDigits));
  return rounded === 0 ? '0' : String(rounded);
}

function canonicalValue(value: SqlValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return canonicalNumber(value);
  return JSON.stringify(value);
}

/** A row as canonical JSON: `[cell,cell,…]` with canonical numbers. */
export function canonicalRow(row: readonly (SqlValue | undefined)[]): string {
  let text = '[';
  for (let index = 0; index < row.length; index++) text += (index === 0 ? '' : ',') + canonicalValue(row[index]);
  return text + ']';
}

/**
 * Builds the hash incrementally: `{"columns":[…],"rows":[row,row,…]}` in canonical JSON, so a result
 * is hashed as it streams, one row at a time.
 */
class ResultHasher {
  private readonly hash: Hash = createHash('sha256');
  private rows = 0;
  // Rows are gathered into chunks of about 64 KB: one update per row costs more than the hashing.
  private pending = '';

  constructor(columns: readonly string[]) {
    this.pending = `{"columns":${JSON.stringify(columns)},"rows":[`;
  }

  add(row: readonly (SqlValue | undefined)[]): void {
    this.pending += (this.rows++ === 0 ? '' : ',') + canonicalRow(row);
    if (this.pending.length >= 65_536) {
      this.hash.update(this.pending);
      this.pending = '';
    }
  }

  digest(): string {
    this.hash.update(`${this.pending}]}`);
    this.pending = '';
    return this.hash.digest('hex');
  }
}

/**
 * sha256 (hex) of the canonical JSON of a result: its column names, then every row in order. Numbers
 * are canonicalised (see `canonicalNumber`); null, booleans and strings are written as JSON. An empty
 * result still hashes its column names.
 */
export function hashResult(columns: readonly string[], rows: Iterable<readonly SqlValue[]>): string {
  const hasher = new ResultHasher(columns);
  for (const row of rows) hasher.add(row);
  return hasher.digest();
}

export interface HashQueryOptions {
  /** Rows read at most; a longer result is hashed over these and marked truncated. Default 1 000 000. */
  maxRows?: number;
  /** Default: the source's (30 s). */
  timeoutMs?: number;
  /** Rows kept in `rows`. Default 50. */
  keepRows?: number;
  signal?: AbortSignal;
}

/**
 * Runs a query through the source (and so through its guard) and fingerprints its whole result while
 * it streams: only the first `keepRows` rows are held in memory. Query failures are thrown as the
 * source throws them (`sql_refused`, `query_failed`, `query_timeout`…).
 */
export async function hashQuery(source: DataSource, sql: string, options: HashQueryOptions = {}): Promise<ResultFingerprint & { rows: SqlValue[][] }> {
  const keep = options.keepRows ?? keptRows;
  const stream = source.stream(sql, {
    maxRows: options.maxRows ?? defaultHashRowLimit,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  let columns: string[] = [];
  let hasher: ResultHasher | undefined;
  const kept: SqlValue[][] = [];
  let rowCount = 0;
  const row: SqlValue[] = [];
  for await (const batch of stream) {
    if (hasher === undefined) {
      columns = batch.columns.map((column) => column.name);
      hasher = new ResultHasher(columns);
    }
    const width = batch.values.length;
    row.length = width;
    for (let index = 0; index < batch.rowCount; index++) {
      for (let column = 0; column < width; column++) row[column] = batch.values[column]?.[index] ?? null;
      hasher.add(row);
      if (kept.length < keep) kept.push([...row]);
      rowCount++;
    }
  }
  hasher ??= new ResultHasher(columns);
  return { columns, rowCount, truncated: stream.truncated, hash: hasher.digest(), rows: kept };
}

export interface TableCount {
  rows: number;
  /** False when `rows` is the engine's estimate. */
  exact: boolean;
  /** sha256 of the table's content in canonical order; absent when the table has more than `maxRows` rows. */
  hash?: string;
}

/**
 * Counts a table and, when it has at most `maxRows` rows (default 1 000 000), hashes its content:
 * every row of `SELECT * FROM <table> ORDER BY <every column>`, so the hash does not depend on the
 * order the engine stores rows in. Columns of types engines cannot sort (the `other` family: lists,
 * structs, JSON…) are left out of the ORDER BY; rows differing only there may then hash in either order.
 */
export async function hashTable(source: DataSource, table: string, options: { maxRows?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TableCount> {
  const maxRows = options.maxRows ?? defaultHashRowLimit;
  const info = await source.describeTable(table);
  if (info.rowCount > maxRows) return { rows: info.rowCount, exact: info.rowCountExact };
  const quoted = source.quoteIdentifier(info.name);
  const sortable = info.columns.filter((column) => column.family !== 'other').map((column) => source.quoteIdentifier(column.name));
  const sql = `SELECT * FROM ${quoted}${sortable.length === 0 ? '' : ` ORDER BY ${sortable.join(', ')}`}`;
  const result = await hashQuery(source, sql, {
    maxRows,
    keepRows: 0,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (result.truncated) {
    // An estimate said the table fits, but it does not: count it rather than report a partial hash.
    const counted = await source.query(`SELECT COUNT(*) AS n FROM ${quoted}`, { maxRows: 1, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
    const rows = Number(counted.rows[0]?.[0]);
    return Number.isFinite(rows) ? { rows, exact: true } : { rows: Math.max(info.rowCount, result.rowCount), exact: false };
  }
  return { rows: result.rowCount, exact: true, hash: result.hash };
}
