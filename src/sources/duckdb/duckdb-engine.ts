import { DuckDBInstance, StatementType, type DuckDBConnection, type DuckDBDataChunk, type DuckDBResult, type DuckDBType } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { IqueryError, messageOf } from '../../errors.js';
import type { ColumnarCursor, Cursor, CursorRequest, Engine, FrameFilesRequest } from '../engine.js';
import { quoteWithDoubleQuotes } from '../quote.js';
import type { ColumnMeta, FrameFiles, SqlValue } from '../source.js';
import { listDuckdbTables } from './duckdb-introspector.js';
import { familyOfDuckdbType, toSqlValue } from './duckdb-values.js';
import { createVectorReader } from './duckdb-vectors.js';
import { nativeFrames, type NativeFrameDatabase } from './native-frames.js';

export interface DuckdbEngineSettings {
  /** A DuckDB database file, opened read-only. */
  path: string;
  /** How the source is named to a person (defaults to the path). */
  label?: string;
}

/**
 * Settings applied when the database opens. With external access off and the configuration locked,
 * no statement can read files, reach the network, attach databases or load extensions, even one the
 * guard missed.
 */
const lockedDown: Record<string, string> = {
  access_mode: 'READ_ONLY',
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  allow_community_extensions: 'false',
  lock_configuration: 'true',
};

const statementTypeNames: Record<number, string> = Object.fromEntries(
  Object.entries(StatementType).filter(([, value]) => typeof value === 'number').map(([name, value]) => [value, name]),
);

function columnsOf(result: DuckDBResult): ColumnMeta[] {
  return result.columnTypes().map((type, index) => ({
    name: result.columnName(index),
    nativeType: type.toString(),
    family: familyOfDuckdbType(type),
  }));
}

function chunkValues(chunk: DuckDBDataChunk, types: readonly DuckDBType[]): SqlValue[][] {
  const values: SqlValue[][] = [];
  for (let column = 0; column < chunk.columnCount; column++) {
    const type = types[column];
    const raw = chunk.getColumnValues(column);
    values.push(type === undefined ? raw.map(() => null) : raw.map((value) => toSqlValue(value, type)));
  }
  return values;
}

export async function openDuckdbEngine(settings: DuckdbEngineSettings): Promise<Engine> {
  const label = settings.label ?? settings.path;
  if (!existsSync(settings.path)) {
    throw new IqueryError('not_found', `No DuckDB database at ${settings.path}.`, { hint: 'Check the path given to --data.' });
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(settings.path, lockedDown);
  } catch (error) {
    throw new IqueryError('connection_failed', `Cannot open the DuckDB database ${label}: ${messageOf(error)}`, {
      hint: 'Check that it is a DuckDB file and that no other program holds it open for writing.',
      cause: error,
    });
  }
  const internal = await instance.connect();
  const openConnections = new Set<DuckDBConnection>([internal]);
  /** Connections that finished a query cleanly, kept for the next one (connecting costs a little each time). */
  const idle: DuckDBConnection[] = [];
  const maxIdle = 2;
  let internalQueue: Promise<unknown> = Promise.resolve();

  async function runInternal(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    // One internal connection, used by one statement at a time.
    const run = internalQueue.then(async () => {
      const reader = await internal.runAndReadAll(sql, [...params]);
      const types = reader.columnTypes();
      return reader.getRows().map((row) => row.map((value, index) => {
        const type = types[index];
        return type === undefined ? null : toSqlValue(value, type);
      }));
    });
    internalQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts a streaming result for user SQL the guard accepted. `release(true)` after the result ran
   * to its end keeps the connection for the next query; anything else closes it.
   */
  async function openStream(request: CursorRequest): Promise<{ result: DuckDBResult; release: (reusable: boolean) => void }> {
    const connection = idle.pop() ?? (await instance.connect());
    openConnections.add(connection);
    const release = (reusable: boolean): void => {
      request.signal.removeEventListener('abort', interrupt);
      if (!openConnections.has(connection)) return;
      if (reusable && !request.signal.aborted && idle.length < maxIdle) {
        idle.push(connection);
        return;
      }
      openConnections.delete(connection);
      connection.closeSync();
    };
    const interrupt = (): void => connection.interrupt();
    request.signal.addEventListener('abort', interrupt, { once: true });
    try {
      // DuckDB's own parser is a second opinion after the guard: exactly one statement, and a SELECT.
      const extracted = await connection.extractStatements(request.sql);
      if (extracted.count !== 1) {
        throw new IqueryError('sql_refused', `Refused: DuckDB found ${extracted.count} statements; iquery runs exactly one read-only query.`);
      }
      const prepared = await extracted.prepare(0);
      if (prepared.statementType !== StatementType.SELECT) {
        const kind = statementTypeNames[prepared.statementType] ?? 'non-SELECT';
        throw new IqueryError('sql_refused', `Refused ${kind} statement: iquery only runs read-only queries (SELECT, WITH … SELECT, VALUES).`);
      }
      if (request.params.length > 0) prepared.bind([...request.params]);
      return { result: await prepared.stream(), release };
    } catch (error) {
      release(false);
      throw error;
    }
  }

  async function openCursor(request: CursorRequest): Promise<Cursor> {
    const { result, release } = await openStream(request);
    const columns = columnsOf(result);
    const types = result.columnTypes();
    let produced = 0;
    let exhausted = false;
    return {
      columns,
      async next() {
        if (produced >= request.rowLimit) return null;
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) {
          exhausted = true;
          return null;
        }
        produced += chunk.rowCount;
        return chunkValues(chunk, types);
      },
      async close() {
        release(exhausted);
      },
    };
  }

  /**
   * Reads the result as raw vectors (see duckdb-vectors.ts). The next chunk is fetched on the thread
   * pool while the caller works on the current one.
   */
  async function openColumnarCursor(request: CursorRequest): Promise<ColumnarCursor> {
    const { result, release } = await openStream(request);
    const columns = columnsOf(result);
    const readVectors = createVectorReader(result.columnTypes());
    let produced = 0;
    let exhausted = false;
    const fetch = (): Promise<DuckDBDataChunk | null> => {
      const fetching = result.fetchChunk();
      fetching.catch(() => undefined); // awaited by next() or close(); never left unhandled
      return fetching;
    };
    let pending: Promise<DuckDBDataChunk | null> | undefined = fetch();
    return {
      columns,
      async next() {
        if (pending === undefined) return null;
        const chunk = await pending;
        pending = undefined;
        if (chunk === null || chunk.rowCount === 0) {
          exhausted = true;
          return null;
        }
        produced += chunk.rowCount;
        if (produced < request.rowLimit) pending = fetch();
        return { vectors: readVectors(chunk), rowCount: chunk.rowCount };
      },
      async close() {
        if (pending !== undefined) await pending.catch(() => undefined);
        release(exhausted);
      },
    };
  }

  /** The native frame writer's own read-only handle of the file, opened at the first handoff. */
  let nativeDatabase: NativeFrameDatabase | undefined;

  async function writeFrameFiles(request: FrameFilesRequest): Promise<FrameFiles | undefined> {
    const { module } = nativeFrames();
    if (module === undefined || request.params.length > 0) return undefined;
    nativeDatabase ??= new module.Database(settings.path);
    const query = nativeDatabase.writeFrame(request.sql, request.directory, request.maxRows);
    const interrupt = (): void => query.interrupt();
    request.signal.addEventListener('abort', interrupt, { once: true });
    if (request.signal.aborted) query.interrupt();
    try {
      const outcome = await query.done;
      return 'unsupported' in outcome ? undefined : outcome;
    } catch (error) {
      if (error instanceof Error && (error as { code?: unknown }).code === 'sql_refused') throw new IqueryError('sql_refused', error.message);
      throw error;
    } finally {
      request.signal.removeEventListener('abort', interrupt);
    }
  }

  return {
    dialect: 'duckdb',
    label,
    openCursor,
    openColumnarCursor,
    writeFrameFiles,
    runInternal,
    listTables: () => listDuckdbTables(runInternal),
    quoteIdentifier: quoteWithDoubleQuotes,
    async close() {
      for (const connection of openConnections) connection.closeSync();
      openConnections.clear();
      idle.length = 0;
      nativeDatabase?.close();
      nativeDatabase = undefined;
      instance.closeSync();
    },
  };
}
