import { IqueryError, messageOf } from '../errors.js';
import { assertReadOnlySql } from '../guard/guard.js';
import {
  defaultMaxRows,
  defaultQueryTimeoutMs,
  type ColumnMeta,
  type DataSource,
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

/**
 * What one database engine provides. Engines run SQL as given; the guard, the limits and the error
 * mapping live once, in `createGuardedSource`.
 */
export interface Engine {
  readonly dialect: SqlDialect;
  readonly label: string;
  /** Runs user SQL that the guard accepted, inside the engine's read-only session. */
  openCursor(request: CursorRequest): Promise<Cursor>;
  /** Runs iquery's own introspection SQL (never user text); returns row-major values. */
  runInternal: RunInternal;
  /** An engine's own second opinion after the guard (DuckDB asks its own parser). Throws to refuse. */
  confirmReadOnly?(sql: string): Promise<void>;
  listTables(): Promise<TableInfo[]>;
  quoteIdentifier(name: string): string;
  close(): Promise<void>;
}

function normaliseLimit(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new IqueryError('usage', `${what} must be a positive whole number, got ${value}.`);
  }
  return value;
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

  function stream(sql: string, options: StreamOptions = {}): ResultStream {
    const maxRows = normaliseLimit(options.maxRows, defaultMaxRows, 'The row cap');
    const timeoutMs = normaliseLimit(options.timeoutMs, defaultQueryTimeoutMs, 'The timeout');
    const batchRows = normaliseLimit(options.batchRows, 2048, 'The batch size');
    let truncated = false;

    async function* batches(): AsyncGenerator<ResultBatch> {
      assertReadOnlySql(sql, engine.dialect);
      await engine.confirmReadOnly?.(sql);
      const control = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        control.abort();
      }, timeoutMs);
      const onCallerAbort = (): void => control.abort();
      options.signal?.addEventListener('abort', onCallerAbort, { once: true });
      if (options.signal?.aborted) control.abort();
      const describeStop = (error: unknown): IqueryError => {
        if (timedOut) {
          return new IqueryError('query_timeout', `The query ran longer than ${timeoutMs} ms and was stopped.`, {
            hint: 'Narrow the query (filters, aggregates, LIMIT) or raise the timeout with --timeout.',
            cause: error,
          });
        }
        if (control.signal.aborted) return new IqueryError('query_cancelled', 'The query was cancelled.', { cause: error });
        if (error instanceof IqueryError) return error;
        return new IqueryError('query_failed', `The database rejected the query: ${messageOf(error)}`, { cause: error });
      };

      let cursor: Cursor | undefined;
      try {
        if (control.signal.aborted) throw describeStop(undefined);
        cursor = await engine.openCursor({ sql, params: options.params ?? [], rowLimit: maxRows + 1, batchRows, timeoutMs, signal: control.signal });
        let delivered = 0;
        for (;;) {
          const values = await cursor.next();
          if (values === null) break;
          const rowCount = values[0]?.length ?? 0;
          if (rowCount === 0) continue;
          const room = maxRows - delivered;
          if (rowCount > room) {
            truncated = true;
            if (room > 0) yield { columns: cursor.columns, values: values.map((column) => column.slice(0, room)), rowCount: room };
            break;
          }
          delivered += rowCount;
          yield { columns: cursor.columns, values, rowCount };
        }
        if (delivered === 0 && !truncated) yield { columns: cursor.columns, values: cursor.columns.map(() => []), rowCount: 0 };
      } catch (error) {
        throw describeStop(error);
      } finally {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onCallerAbort);
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
    quoteIdentifier: (name) => engine.quoteIdentifier(name),
    close: () => engine.close(),
  };
}
