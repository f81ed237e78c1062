import pg from 'pg';
import Cursor from 'pg-cursor';
import { IqueryError, messageOf } from '../../errors.js';
import { redactSecrets, type ServerConnection } from '../connection-url.js';
import { errorChain, type Cursor as EngineCursor, type CursorRequest, type Engine } from '../engine.js';
import { quoteWithDoubleQuotes } from '../quote.js';
import type { ColumnMeta, SqlValue } from '../source.js';
import { familyOfType } from '../type-family.js';
import { listPostgresTables } from './postgres-introspector.js';

const typeNamesByOid = new Map<number, string>(Object.entries(pg.types.builtins).map(([name, oid]) => [oid, name.toLowerCase()]));

const integerOids = new Set([pg.types.builtins.INT2, pg.types.builtins.INT4, pg.types.builtins.OID]);
const floatOids = new Set([pg.types.builtins.FLOAT4, pg.types.builtins.FLOAT8]);

/**
 * Text-format parsers: numbers become numbers (64-bit integers and numerics only when a double holds
 * them exactly), booleans booleans, and everything else, dates included, stays the server's text.
 */
function parserFor(oid: number): (text: string) => SqlValue {
  if (integerOids.has(oid) || floatOids.has(oid)) return Number;
  if (oid === pg.types.builtins.INT8) {
    return (text) => (Number.isSafeInteger(Number(text)) ? Number(text) : text);
  }
  if (oid === pg.types.builtins.NUMERIC) {
    return (text) => (Number.isFinite(Number(text)) ? Number(text) : text);
  }
  if (oid === pg.types.builtins.BOOL) return (text) => text === 't';
  return (text) => text;
}

const typeParsers = {
  getTypeParser: ((oid: number) => parserFor(oid)) as unknown as typeof pg.types.getTypeParser,
};

function nativeTypeName(oid: number): string {
  return typeNamesByOid.get(oid) ?? `oid ${oid}`;
}

export async function openPostgresEngine(connection: ServerConnection): Promise<Engine> {
  const secrets = [connection.password];
  const pool = new pg.Pool({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    max: 4,
    connectionTimeoutMillis: 10_000,
    // Defence in depth after the guard: every transaction on these connections is read-only.
    options: '-c default_transaction_read_only=on',
    types: typeParsers,
  });
  pool.on('error', () => undefined);
  let searchSchema: string;
  try {
    const result = await pool.query<[string]>({ text: 'SELECT current_schema()', rowMode: 'array' });
    searchSchema = result.rows[0]?.[0] ?? 'public';
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new IqueryError('connection_failed', `Cannot connect to ${connection.label}: ${redactSecrets(messageOf(error), secrets)}`, {
      hint: 'Check the host, port, user, password and database in the URL, and that the server is running.',
    });
  }

  async function runInternal(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    const result = await pool.query<SqlValue[]>({ text: sql, values: [...params], rowMode: 'array' });
    return result.rows;
  }

  async function openCursor(request: CursorRequest): Promise<EngineCursor> {
    const client = await pool.connect();
    const backend = (client as unknown as { processID: number }).processID;
    let open = true;
    const cancel = (): void => {
      if (open) void pool.query('SELECT pg_cancel_backend($1)', [backend]).catch(() => undefined);
    };
    request.signal.addEventListener('abort', cancel, { once: true });
    const release = (broken: boolean): void => {
      open = false;
      request.signal.removeEventListener('abort', cancel);
      client.release(broken);
    };
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.ceil(request.timeoutMs)}`);
      const cursor = client.query(new Cursor<SqlValue[]>(request.sql, [...request.params], { rowMode: 'array', types: typeParsers }));
      let produced = 0;
      let columns: ColumnMeta[] = [];
      const read = (size: number): Promise<SqlValue[][]> =>
        new Promise((resolve, reject) => {
          cursor.read(size, (error, rows, result) => {
            if (error) return reject(error);
            // After the result is exhausted pg-cursor answers without a result object.
            if (result === undefined) return resolve(rows);
            columns = result.fields.map((field) => {
              const nativeType = nativeTypeName(field.dataTypeID);
              return { name: field.name, nativeType, family: familyOfType(nativeType) };
            });
            resolve(rows);
          });
        });
      // The first read yields the column list, even for an empty result.
      let pending: SqlValue[][] | null = await read(Math.min(request.batchRows, request.rowLimit));
      const toColumns = (rows: SqlValue[][]): SqlValue[][] => columns.map((_, index) => rows.map((row) => row[index] ?? null));
      return {
        get columns() {
          return columns;
        },
        async next() {
          let rows: SqlValue[][];
          if (pending !== null) {
            rows = pending;
            pending = null;
          } else {
            if (produced >= request.rowLimit) return null;
            rows = await read(Math.min(request.batchRows, request.rowLimit - produced));
          }
          if (rows.length === 0) return null;
          produced += rows.length;
          return toColumns(rows);
        },
        async close() {
          try {
            await new Promise<void>((resolve) => cursor.close(() => resolve()));
            await client.query('ROLLBACK');
            release(false);
          } catch {
            release(true);
          }
        },
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      release(true);
      throw new Error(redactSecrets(messageOf(error), secrets), { cause: error });
    }
  }


  return {
    dialect: 'postgres',
    label: connection.label,
    openCursor,
    runInternal,
    listTables: () => listPostgresTables(runInternal, searchSchema),
    // 57014 is also what a cancel raises; only the statement_timeout one is a timeout.
    isServerTimeout: (error) =>
      errorChain(error).some((link) => (link as { code?: string }).code === '57014' && /statement timeout/.test(String((link as { message?: string }).message))),
    quoteIdentifier: quoteWithDoubleQuotes,
    close: () => pool.end(),
  };
}
