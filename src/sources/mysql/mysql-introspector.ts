import type { RunInternal } from '../engine.js';
import { quoteWithBackticks } from '../quote.js';
import type { ForeignKey, TableInfo } from '../source.js';
import { familyOfType } from '../type-family.js';

/** Below this estimated size a table's row count is taken exactly; above, the catalog estimate is used. */
const exactCountBelow = 1_000_000;

/** Tables of the connection's database, with columns, declared keys and row counts. */
export async function listMysqlTables(runInternal: RunInternal): Promise<TableInfo[]> {
  const tableRows = await runInternal(
    `SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`,
  );
  const columnRows = await runInternal(
    `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  );
  const keyRows = await runInternal(
    `SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
     FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE()
     AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
     ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
  );
  const tables: TableInfo[] = [];
  for (const [name, estimate] of tableRows) {
    const tableName = String(name);
    let rowCount = Number(estimate);
    let rowCountExact = false;
    if (rowCount < exactCountBelow) {
      const [count] = await runInternal(`SELECT COUNT(*) FROM ${quoteWithBackticks(tableName)}`);
      rowCount = Number(count?.[0] ?? 0);
      rowCountExact = true;
    }
    const keys = keyRows.filter((row) => row[0] === tableName);
    const foreignKeys = new Map<string, ForeignKey>();
    for (const row of keys.filter((key) => key[1] !== 'PRIMARY')) {
      const constraint = String(row[1]);
      const entry = foreignKeys.get(constraint) ?? { columns: [], referencedTable: String(row[3]), referencedColumns: [] };
      entry.columns.push(String(row[2]));
      entry.referencedColumns.push(String(row[4]));
      foreignKeys.set(constraint, entry);
    }
    tables.push({
      name: tableName,
      schema: '',
      columns: columnRows
        .filter((row) => row[0] === tableName)
        .map((row) => ({ name: String(row[1]), nativeType: String(row[2]), family: familyOfType(String(row[2])), nullable: row[3] === 'YES' })),
      primaryKey: keys.filter((key) => key[1] === 'PRIMARY').map((key) => String(key[2])),
      foreignKeys: [...foreignKeys.values()],
      rowCount,
      rowCountExact,
    });
  }
  return tables;
}
