import type { RunInternal } from '../engine.js';
import { quoteWithDoubleQuotes } from '../quote.js';
import type { ForeignKey, SqlValue, TableInfo } from '../source.js';
import { familyOfType } from '../type-family.js';

/** Below this estimated size a table's row count is taken exactly; above, the planner's estimate is used. */
const exactCountBelow = 1_000_000;

/**
 * Tables, views and foreign tables in the schemas on the search path, with columns, declared keys and
 * row counts. Tables in `searchSchema` (the first one) are named without their schema.
 */
export async function listPostgresTables(runInternal: RunInternal, searchSchema: string): Promise<TableInfo[]> {
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
    const qualified = `${quoteWithDoubleQuotes(schemaName)}.${quoteWithDoubleQuotes(tableName)}`;
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
