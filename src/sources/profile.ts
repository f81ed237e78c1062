import type { Engine } from './engine.js';
import type { ColumnProfile, ProfileOptions, TableInfo, TableProfile, ValueCount } from './source.js';

const defaultCategoricalLimit = 50;
const defaultSampleRows = 200_000;
const sampleValueCount = 5;

/**
 * Profiles one table with a few aggregate queries over at most `sampleRows` rows: distinct and null
 * counts for every comparable column, all values with counts for categorical columns, and a few
 * sample values for the rest. Columns of type family `other` (JSON, BLOB, arrays) are not profiled
 * beyond their null count, because not every engine can compare them.
 */
export async function profileTable(engine: Engine, table: TableInfo, options: ProfileOptions = {}): Promise<TableProfile> {
  const categoricalLimit = options.categoricalLimit ?? defaultCategoricalLimit;
  const sampleRows = options.sampleRows ?? defaultSampleRows;
  // The first rows stand for the table: LIMIT is cheap on every engine, where true sampling is not.
  const source = `(SELECT * FROM ${qualifiedName(engine, table)} LIMIT ${sampleRows}) AS sampled`;
  const quote = (name: string): string => engine.quoteIdentifier(name);

  const aggregates = ['COUNT(*)'];
  for (const column of table.columns) {
    const quoted = quote(column.name);
    aggregates.push(`COUNT(${quoted})`);
    aggregates.push(column.family === 'other' ? '0' : `COUNT(DISTINCT ${quoted})`);
  }
  const [totals] = await engine.runInternal(`SELECT ${aggregates.join(', ')} FROM ${source}`);
  const sampledRows = Number(totals?.[0] ?? 0);

  const columns: ColumnProfile[] = [];
  for (const [index, column] of table.columns.entries()) {
    options.signal?.throwIfAborted();
    const nonNull = Number(totals?.[1 + index * 2] ?? 0);
    const distinctCount = Number(totals?.[2 + index * 2] ?? 0);
    const comparable = column.family !== 'other';
    // Categorical: few distinct values, each seen at least twice on average (so a small table's id is not).
    const categorical = comparable && distinctCount > 0 && distinctCount <= categoricalLimit && distinctCount * 2 <= nonNull;
    let values: ValueCount[] = [];
    if (categorical) {
      const rows = await engine.runInternal(
        `SELECT ${quote(column.name)}, COUNT(*) FROM ${source} WHERE ${quote(column.name)} IS NOT NULL GROUP BY ${quote(column.name)} ORDER BY COUNT(*) DESC, ${quote(column.name)}`,
      );
      values = rows.map(([value, count]) => ({ value: value ?? null, count: Number(count) }));
    } else if (comparable && distinctCount > 0) {
      const rows = await engine.runInternal(
        `SELECT DISTINCT ${quote(column.name)} FROM ${source} WHERE ${quote(column.name)} IS NOT NULL ORDER BY ${quote(column.name)} LIMIT ${sampleValueCount}`,
      );
      values = rows.map(([value]) => ({ value: value ?? null, count: 0 }));
    }
    columns.push({
      name: column.name,
      distinctCount,
      nullCount: sampledRows - nonNull,
      sampledRows,
      categorical,
      values,
      unique: comparable && sampledRows > 0 && distinctCount === sampledRows,
    });
  }
  return { table: table.name, columns };
}

function qualifiedName(engine: Engine, table: TableInfo): string {
  const name = engine.quoteIdentifier(table.name);
  return table.schema === '' ? name : `${engine.quoteIdentifier(table.schema)}.${name}`;
}
