import type { RunInternal } from '../engine.js';
import { quoteWithDoubleQuotes } from '../quote.js';
import type { ForeignKey, SqlValue, TableInfo } from '../source.js';
import { familyOfType } from '../type-family.js';

/** Tables and views of the open database, with columns, declared keys and exact row counts. */
export async function listDuckdbTables(runInternal: RunInternal): Promise<TableInfo[]> {
  const relations = await runInternal(
    `SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal AND database_name = current_database()
     UNION ALL
     SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database()
     ORDER BY 1, 2`,
  );
  const columnRows = await runInternal(
    `SELECT schema_name, table_name, column_name, data_type, is_nullable FROM duckdb_columns()
     WHERE NOT internal AND database_name = current_database() ORDER BY schema_name, table_name, column_index`,
  );
  const constraintRows = await runInternal(
    `SELECT schema_name, table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names
     FROM duckdb_constraints() WHERE database_name = current_database() AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')`,
  );
  const tables: TableInfo[] = [];
  for (const [schema, name] of relations) {
    const schemaName = String(schema);
    const tableName = String(name);
    const belongs = (row: SqlValue[]): boolean => row[0] === schemaName && row[1] === tableName;
    const [count] = await runInternal(`SELECT COUNT(*) FROM ${quoteWithDoubleQuotes(schemaName)}.${quoteWithDoubleQuotes(tableName)}`);
    const primaryKey: string[] = [];
    const foreignKeys: ForeignKey[] = [];
    for (const row of constraintRows.filter(belongs)) {
      const columns = JSON.parse(String(row[3])) as string[];
      if (row[2] === 'PRIMARY KEY') primaryKey.push(...columns);
      else foreignKeys.push({ columns, referencedTable: String(row[4]), referencedColumns: JSON.parse(String(row[5])) as string[] });
    }
    tables.push({
      name: tableName,
      schema: schemaName === 'main' ? '' : schemaName,
      columns: columnRows.filter(belongs).map((row) => ({
        name: String(row[2]),
        nativeType: String(row[3]),
        family: familyOfType(String(row[3])),
        nullable: row[4] === true,
      })),
      primaryKey,
      foreignKeys,
      rowCount: Number(count?.[0] ?? 0),
      rowCountExact: true,
    });
  }
  return tables;
}
