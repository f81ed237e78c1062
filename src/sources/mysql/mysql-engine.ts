import mysql from 'mysql2';
import type { FieldPacket, Pool, PoolConnection, Query } from 'mysql2';
import type { Readable } from 'node:stream';
import { IqueryError, messageOf } from '../../errors.js';
import { redactSecrets, type ServerConnection } from '../connection-url.js';
import { errorChain, type Cursor, type CursorRequest, type Engine } from '../engine.js';
import { quoteWithBackticks } from '../quote.js';
import type { ColumnMeta, SqlValue, TypeFamily } from '../source.js';
import { listMysqlTables } from './mysql-introspector.js';

const typeNamesByCode = new Map<number, string>(Object.entries(mysql.Types).map(([name, code]) => [code as number, name]));

/** Makes driver values JSON-safe: buffers as hex, parsed JSON columns back to text. */
function normaliseValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

const familyByWireType: Record<string, TypeFamily> = {
  TINY: 'integer',
  SHORT: 'integer',
  LONG: 'integer',
  INT24: 'integer',
  LONGLONG: 'integer',
  YEAR: 'integer',
  DECIMAL: 'decimal',
  NEWDECIMAL: 'decimal',
  FLOAT: 'float',
  DOUBLE: 'float',
  DATE: 'date',
  NEWDATE: 'date',
  DATETIME: 'timestamp',
  TIMESTAMP: 'timestamp',
  TIME: 'time',
  VARCHAR: 'text',
  VAR_STRING: 'text',
  STRING: 'text',
  ENUM: 'text',
  SET: 'text',
  // TEXT columns travel as BLOB types with a text character set.
  TINY_BLOB: 'text',
  BLOB: 'text',
  MEDIUM_BLOB: 'text',
  LONG_BLOB: 'text',
};

/** Character set number 63 marks binary data (BLOB, VARBINARY) rather than text. */
const binaryCharacterSet = 63;

function columnOf(field: FieldPacket): ColumnMeta {
  const nativeType = field.typeName?.toUpperCase() ?? typeNamesByCode.get(field.columnType ?? field.type ?? -1) ?? 'UNKNOWN';
  const family = familyByWireType[nativeType] ?? 'other';
  const binary = family === 'text' && field.characterSet === binaryCharacterSet;
  return { name: field.name, nativeType, family: binary ? 'other' : family };
}

/** MariaDB's max_statement_time (1969) and MySQL's max_execution_time (3024) errors. */
const serverTimeoutErrors = new Set([1969, 3024]);

/** Parse error, unknown variable, not supported yet, and the generic code Doris and StarRocks use. */
const unsupportedStatementErrors = new Set([1064, 1193, 1235, 1105]);

interface ServerFlavour {
  mariadb: boolean;
}

function acquire(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))));
}

function run(connection: PoolConnection | Pool, sql: string, params: readonly unknown[] = []): Promise<unknown[][]> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, values: [...params], rowsAsArray: true }, (error, rows) => (error ? reject(error) : resolve(rows as unknown[][])));
  });
}

/** Reads a row stream in batches without a promise per row. */
function batchReader(stream: Readable): (size: number) => Promise<unknown[][] | null> {
  let ended = false;
  let failure: unknown;
  stream.on('end', () => (ended = true));
  stream.on('error', (error) => (failure = error));
  return async (size) => {
    const rows: unknown[][] = [];
    while (rows.length < size) {
      if (failure !== undefined) throw failure;
      const row = stream.read() as unknown[] | null;
      if (row !== null) {
        rows.push(row);
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          stream.off('readable', wake);
          stream.off('end', wake);
          stream.off('error', wake);
          stream.off('close', wake);
          resolve();
        };
        stream.on('readable', wake);
        stream.on('end', wake);
        stream.on('error', wake);
        stream.on('close', wake);
      });
    }
    if (failure !== undefined) throw failure;
    return rows.length === 0 && ended ? null : rows;
  };
}

export async function openMysqlEngine(connection: ServerConnection): Promise<Engine> {
  const secrets = [connection.password];
  const pool = mysql.createPool({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    connectionLimit: 4,
    connectTimeout: 10_000,
    multipleStatements: false,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
  });
  const prepared = new WeakSet<PoolConnection>();
  let flavour: ServerFlavour;
  try {
    const [[version]] = (await run(pool, 'SELECT VERSION()')) as [[string]];
    flavour = { mariadb: String(version).toLowerCase().includes('mariadb') };
  } catch (error) {
    await new Promise<void>((resolve) => pool.end(() => resolve()));
    throw new IqueryError('connection_failed', `Cannot connect to ${connection.label}: ${redactSecrets(messageOf(error), secrets)}`, {
      hint: 'Check the host, port, user, password and database in the URL, and that the server is running.',
    });
  }

  /**
   * Every pooled connection is read-only for its whole life (defence in depth after the guard). A
   * server of the family that does not know the statement (some Doris and StarRocks versions) keeps
   * working with the guard alone; any other failure stops the query.
   */
  async function readOnlyConnection(): Promise<PoolConnection> {
    const pooled = await acquire(pool);
    if (!prepared.has(pooled)) {
      try {
        await run(pooled, 'SET SESSION TRANSACTION READ ONLY');
      } catch (error) {
        if (!unsupportedStatementErrors.has((error as { errno?: number }).errno ?? 0)) {
          pooled.destroy();
          throw error;
        }
      }
      // Division and AVG of decimals keep 4 digits by default (AVG of 1.0/0.0 flags is 0.4433): keep 30.
      await run(pooled, 'SET SESSION div_precision_increment = 30').catch(() => undefined);
      prepared.add(pooled);
    }
    return pooled;
  }

  async function limitSession(pooled: PoolConnection, timeoutMs: number, rowLimit: number): Promise<void> {
    // Each engine in the family names its statement timeout differently; unknown ones are skipped.
    const timeout = flavour.mariadb
      ? `SET SESSION max_statement_time = ${(timeoutMs / 1000).toFixed(3)}`
      : `SET SESSION max_execution_time = ${Math.ceil(timeoutMs)}`;
    await run(pooled, timeout).catch(() => undefined);
    await run(pooled, `SET SESSION sql_select_limit = ${Math.floor(rowLimit)}`).catch(() => undefined);
  }

  async function openCursor(request: CursorRequest): Promise<Cursor> {
    const pooled = await readOnlyConnection();
    let finished = false;
    let closed = false;
    const threadId = pooled.threadId;
    const kill = (): void => {
      if (closed) return;
      void run(pool, `KILL QUERY ${threadId}`).catch(() => undefined);
    };
    request.signal.addEventListener('abort', kill, { once: true });
    try {
      await limitSession(pooled, request.timeoutMs, request.rowLimit);
      const query: Query = pooled.query({ sql: request.sql, values: [...request.params], rowsAsArray: true });
      const fields = new Promise<FieldPacket[]>((resolve, reject) => {
        query.once('fields', (received: FieldPacket[]) => resolve(received));
        query.once('error', reject);
        query.once('end', () => resolve([]));
      });
      const stream = query.stream({ highWaterMark: request.batchRows });
      const readBatch = batchReader(stream);
      const columns = (await fields).map(columnOf);
      return {
        columns,
        async next() {
          const rows = await readBatch(request.batchRows);
          if (rows === null) {
            finished = true;
            return null;
          }
          return columns.map((_, column) => rows.map((row) => normaliseValue(row[column])));
        },
        async close() {
          request.signal.removeEventListener('abort', kill);
          if (finished) {
            closed = true;
            pooled.release();
            return;
          }
          // An unread result would block the connection: stop it on the server and drop the connection.
          kill();
          closed = true;
          stream.destroy();
          pooled.destroy();
        },
      };
    } catch (error) {
      request.signal.removeEventListener('abort', kill);
      closed = true;
      pooled.destroy();
      throw new Error(redactSecrets(messageOf(error), secrets), { cause: error });
    }
  }

  async function runInternal(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    const pooled = await readOnlyConnection();
    try {
      return (await run(pooled, sql, params)).map((row) => row.map(normaliseValue));
    } finally {
      pooled.release();
    }
  }


  return {
    dialect: 'mysql',
    label: connection.label,
    openCursor,
    runInternal,
    listTables: () => listMysqlTables(runInternal),
    isServerTimeout: (error) => errorChain(error).some((link) => serverTimeoutErrors.has((link as { errno?: number }).errno ?? 0)),
    quoteIdentifier: quoteWithBackticks,
    close: () => new Promise<void>((resolve) => pool.end(() => resolve())),
  };
}
