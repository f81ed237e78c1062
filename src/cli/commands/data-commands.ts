import type { Command } from 'commander';
import { numberFlag } from '../number-flag.js';
import type { ColumnProfile, TableInfo } from '../../sources/source.js';
import { withData } from '../open-data.js';
import { printJson, printLine, renderResult, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';

function tableSummary(table: TableInfo) {
  return {
    name: table.name,
    schema: table.schema,
    row_count: table.rowCount,
    row_count_exact: table.rowCountExact,
    column_count: table.columns.length,
    primary_key: table.primaryKey,
  };
}

function describeColumns(table: TableInfo, profiles: readonly ColumnProfile[]) {
  return table.columns.map((column) => {
    const profile = profiles.find((candidate) => candidate.name === column.name);
    return {
      name: column.name,
      type: column.nativeType,
      family: column.family,
      nullable: column.nullable,
      distinct_count: profile?.distinctCount ?? null,
      null_count: profile?.nullCount ?? null,
      categorical: profile?.categorical ?? false,
      values: profile?.values.map((entry) => (profile.categorical ? { value: entry.value, count: entry.count } : { value: entry.value })) ?? [],
    };
  });
}

export function registerDataCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('tables')
    .description('List the tables of the data source with row counts')
    .action(async () => {
      const options = globals();
      await withData(options, async (source) => {
        const tables = await source.listTables();
        if (options.json) {
          printJson({ source: source.label, dialect: source.dialect, tables: tables.map(tableSummary) });
          return;
        }
        printLine(`${source.label} (${source.dialect})`);
        printLine(
          renderTable(
            ['table', 'rows', 'columns', 'primary key'],
            tables.map((table) => [
              table.schema === '' ? table.name : `${table.schema}.${table.name}`,
              `${table.rowCountExact ? '' : '~'}${table.rowCount.toLocaleString('en-US')}`,
              String(table.columns.length),
              table.primaryKey.join(', '),
            ]),
            { rightAligned: new Set([1, 2]) },
          ),
        );
      });
    });

  program
    .command('describe')
    .description('Describe one table: columns, types, keys, distinct counts and categorical values')
    .argument('<table>', 'table name')
    .action(async (tableName: string) => {
      const options = globals();
      await withData(options, async (source) => {
        const table = await source.describeTable(tableName);
        const profile = await source.profileTable(table.name);
        const columns = describeColumns(table, profile.columns);
        if (options.json) {
          printJson({
            ...tableSummary(table),
            foreign_keys: table.foreignKeys.map((key) => ({ columns: key.columns, references: key.referencedTable, referenced_columns: key.referencedColumns })),
            sampled_rows: profile.columns[0]?.sampledRows ?? 0,
            columns,
          });
          return;
        }
        printLine(`${table.name}: ${table.rowCount.toLocaleString('en-US')} rows${table.rowCountExact ? '' : ' (estimate)'}`);
        if (table.primaryKey.length > 0) printLine(`primary key: ${table.primaryKey.join(', ')}`);
        for (const key of table.foreignKeys) printLine(`foreign key: ${key.columns.join(', ')} → ${key.referencedTable}(${key.referencedColumns.join(', ')})`);
        printLine(
          renderTable(
            ['column', 'type', 'null', 'distinct', 'values'],
            columns.map((column) => [
              column.name,
              column.type,
              String(column.null_count ?? ''),
              String(column.distinct_count ?? ''),
              column.values.map((entry) => formatCell(entry.value)).join(', ') + (column.categorical || column.values.length === 0 ? '' : ', …'),
            ]),
            { rightAligned: new Set([2, 3]) },
          ),
        );
      });
    });

  program
    .command('sql')
    .description('Run one read-only SQL query (SELECT, WITH … SELECT, VALUES) through the guard')
    .argument('<query>', 'the SQL text')
    .option('--max-rows <n>', 'most rows to return', numberFlag('--max-rows', 'positive whole number'), 1000)
    .option('--timeout <ms>', 'time limit for the query in milliseconds', numberFlag('--timeout', 'positive whole number'), 30_000)
    .action(async (query: string, commandOptions: { maxRows: number; timeout: number }) => {
      const options = globals();
      await withData(options, async (source) => {
        const result = await source.query(query, { maxRows: commandOptions.maxRows, timeoutMs: commandOptions.timeout });
        if (options.json) {
          printJson({
            columns: result.columns.map((column) => column.name),
            column_types: result.columns.map((column) => column.nativeType),
            rows: result.rows,
            row_count: result.rowCount,
            truncated: result.truncated,
          });
          return;
        }
        printLine(renderResult(result.columns, result));
      });
    });
}
