import pg from 'pg';
import Cursor from 'pg-cursor';
import { IqueryError, messageOf } from '../../errors.js';
import { redactSecrets, type ServerConnection } from '../connection-url.js';
import type { Cursor as EngineCursor, CursorRequest, Engine } from '../engine.js';
import type { ColumnMeta, ForeignKey, SqlValue, TableInfo } from '../source.js';
import { familyOfType } from '../type-family.js';

/** Below this estimated size a table's row count is taken exactly; above, the planner's estimate is used. */
const exactCountBelow = 1_000_000;

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

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

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

  async function listTables(): Promise<TableInfo[]> {
    const tableRows = await runInternal(
      `SELECT n.nspname, c.relname, c.reltuples::float8
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY (current_schemas(false))
       AND NOT c.relispartition
       ORDER BY n.nspname, c.relname`,
    );
    const columnRows = await runInternal(
      `SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY (current_schemas(false))
       ORDER BY n.nspname, c.relname, a.attnum`,
    );
    const keyRows = await runInternal(
      `SELECT n.nspname, c.relname, k.contype, k.conname,
         (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum)::text,
         rc.relname,
         (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum)::text
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class rc ON rc.oid = k.confrelid
       WHERE k.contype IN ('p', 'f') AND n.nspname = ANY (current_schemas(false))`,
    );
    const tables: TableInfo[] = [];
    for (const [schema, name, estimate] of tableRows) {
      const schemaName = String(schema);
      const tableName = String(name);
      const belongs = (row: SqlValue[]): boolean => row[0] === schemaName && row[1] === tableName;
      const qualified = `${quoteIdentifier(schemaName)}.${quoteIdentifier(tableName)}`;
      let rowCount = Number(estimate);
      let rowCountExact = false;
      // reltuples is -1 (or 0) until the table is first analysed.
      if (rowCount < exactCountBelow) {
        const [count] = await runInternal(`SELECT COUNT(*) FROM ${qualified}`);
        rowCount = Number(count?.[0] ?? 0);
        rowCountExact = true;
      }
      const keys = keyRows.filter(belongs);
      const primary = keys.find((row) => row[2] === 'p');
      const foreignKeys: ForeignKey[] = keys
        .filter((row) => row[2] === 'f')
        .map((row) => ({ columns: JSON.parse(String(row[4])) as string[], referencedTable: String(row[5]), referencedColumns: JSON.parse(String(row[6])) as string[] }));
      tables.push({
        name: tableName,
        schema: schemaName === searchSchema ? '' : schemaName,
        columns: columnRows.filter(belongs).map((row) => ({
          name: String(row[2]),
          nativeType: String(row[3]),
          family: familyOfType(String(row[3])),
          nullable: row[4] === true,
        })),
        primaryKey: primary === undefined ? [] : (JSON.parse(String(primary[4])) as string[]),
        foreignKeys,
        rowCount,
        rowCountExact,
      });
    }
    return tables;
  }

  return {
    dialect: 'postgres',
    label: connection.label,
    openCursor,
    runInternal,
    listTables,
    quoteIdentifier,
    close: () => pool.end(),
  };
}
