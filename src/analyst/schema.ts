/**
 * The schema the analyst reasons over: the dictionary's tables and columns, completed with what the
 * source reports (every column, with its type family), and limited to tables the source has.
 */
import { createDictionary, findColumn, findTable, type ColumnEntry, type Dictionary, type TableEntry } from '../dictionary/dictionary.js';
import type { TableInfo, TypeFamily } from '../sources/source.js';

export function mergeSchema(dictionary: Dictionary, tables: readonly TableInfo[]): Dictionary {
  const merged: TableEntry[] = [];
  for (const info of tables) {
    const entry = findTable(dictionary, info.name);
    const columns: ColumnEntry[] = info.columns.map((column) => {
      const described = entry === undefined ? undefined : findColumn(entry, column.name);
      return described === undefined
        ? { name: column.name, synonyms: [], values: [], sensitivity: 'public', type: column.family }
        : { ...described, name: column.name, type: column.family };
    });
    merged.push({
      name: info.name,
      synonyms: entry?.synonyms ?? [],
      primaryKey: entry !== undefined && entry.primaryKey.length > 0 ? entry.primaryKey : info.primaryKey,
      columns,
      ...(entry?.description === undefined ? {} : { description: entry.description }),
    });
  }
  const known = new Set(merged.map((table) => table.name.toLowerCase()));
  const relationships = dictionary.relationships.filter(
    (relationship) => known.has(relationship.from.table.toLowerCase()) && known.has(relationship.to.table.toLowerCase()),
  );
  const content = { name: dictionary.name, tables: merged, relationships, metrics: dictionary.metrics };
  return createDictionary(dictionary.description === undefined ? content : { ...content, description: dictionary.description });
}

export function familyOf(column: ColumnEntry): TypeFamily | undefined {
  return column.type;
}

export function isNumeric(column: ColumnEntry): boolean {
  return column.type === 'integer' || column.type === 'float' || column.type === 'decimal';
}

export function isTemporal(column: ColumnEntry): boolean {
  return column.type === 'date' || column.type === 'timestamp';
}

/** A column read as a measure: numeric, not a key, not a 0/1 or small code column with listed values. */
export function isMeasureColumn(table: TableEntry, column: ColumnEntry): boolean {
  return isNumeric(column) && !table.primaryKey.includes(column.name) && column.values.length === 0;
}
