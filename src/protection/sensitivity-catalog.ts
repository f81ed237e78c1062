/**
 * The base tables a statement reads, with the sensitivity the dictionary gives their columns: what a
 * table reference resolves to, and what an unresolvable column name might be.
 */
import { findTable } from '../dictionary/dictionary.js';
import type { Dictionary, TableEntry } from '../dictionary/dictionary.js';
import { fieldOf, taggedNodes } from '../guard/walk.js';
import { identifierOf } from './identifier.js';
import { lineageOf, mergeLineages, noLineage, sameName, unknownColumns } from './lineage.js';
import type { Lineage, TracedColumn } from './lineage.js';

/** A table as introspected from the database: its columns in order. `TableInfo` fits. */
export interface SchemaTable {
  readonly name: string;
  readonly columns: readonly { readonly name: string }[];
}

/** A base table as a query sees it. */
export interface BaseTable {
  /** Columns a name can resolve to. */
  readonly columns: readonly TracedColumn[];
  /** What `*` over it yields, in order; a single unknown run when its column list is not known. */
  readonly star: readonly TracedColumn[];
}

export interface SensitivityCatalog {
  /** True when a table the statement names has a restricted or confidential column in the dictionary. */
  readonly hasSensitiveColumns: boolean;
  /**
   * The table of that name: columns from the introspected schema, sensitivity from the dictionary.
   * A table only the dictionary knows resolves its listed columns but stars to an unknown run; a
   * table neither knows is one unknown run with nothing sensitive behind it.
   */
  table(name: string): BaseTable;
  /**
   * Every restricted or confidential column of that name (ignoring case) in the tables the statement
   * names: what a column name that cannot be resolved is taken to be.
   */
  columnsNamed(name: string): Lineage;
}

/**
 * A catalog for one statement. `statement` is polyglot's tagged tree; every `table` node in it
 * counts as a table the statement names, CTE names included (which errs towards sensitivity).
 */
export function createSensitivityCatalog(
  statement: unknown,
  dictionary: Pick<Dictionary, 'tables'>,
  tables: readonly SchemaTable[],
): SensitivityCatalog {
  const byColumnName = new Map<string, Lineage>();
  const seen = new Set<TableEntry>();
  for (const node of taggedNodes(statement)) {
    if (node.kind !== 'table') continue;
    const name = identifierOf(fieldOf(node.body, 'name'));
    const entry = name === undefined ? undefined : findTable(dictionary, name.text);
    if (entry === undefined || seen.has(entry)) continue;
    seen.add(entry);
    for (const column of entry.columns) {
      const lineage = columnLineage(entry, column.name);
      if (lineage === noLineage) continue;
      const key = column.name.toLowerCase();
      byColumnName.set(key, mergeLineages([byColumnName.get(key) ?? noLineage, lineage]));
    }
  }
  const cache = new Map<string, BaseTable>();
  return {
    hasSensitiveColumns: byColumnName.size > 0,
    table(name) {
      const key = name.toLowerCase();
      let table = cache.get(key);
      if (table === undefined) {
        table = baseTable(name, dictionary, tables);
        cache.set(key, table);
      }
      return table;
    },
    columnsNamed(name) {
      return byColumnName.get(name.toLowerCase()) ?? noLineage;
    },
  };
}

function baseTable(name: string, dictionary: Pick<Dictionary, 'tables'>, tables: readonly SchemaTable[]): BaseTable {
  const entry = findTable(dictionary, name);
  const schema = tables.find((table) => table.name === name) ?? tables.find((table) => sameName(table.name, name));
  if (schema !== undefined) {
    const columns = schema.columns.map((column) => ({
      name: column.name,
      lineage: entry === undefined ? noLineage : columnLineage(entry, column.name),
    }));
    return { columns, star: columns };
  }
  if (entry !== undefined) {
    const listed = entry.columns.map((column) => ({ name: column.name, lineage: columnLineage(entry, column.name) }));
    // The dictionary may not list every column, nor in the table's order: a star over it has unknown width.
    return { columns: [...listed, unknownColumns(noLineage)], star: [unknownColumns(lineageOf(listed))] };
  }
  const unknown = unknownColumns(noLineage);
  return { columns: [unknown], star: [unknown] };
}

/**
 * The lineage of a base column: the most sensitive of the dictionary's columns of that name in the
 * table, ignoring case (PostgreSQL could hold both `ssn` and `"SSN"`; treat them alike).
 */
function columnLineage(entry: TableEntry, columnName: string): Lineage {
  let restricted: string | undefined;
  let confidential: string | undefined;
  for (const column of entry.columns) {
    if (!sameName(column.name, columnName)) continue;
    const reference = `${entry.name}.${column.name}`;
    if (column.sensitivity === 'restricted') restricted ??= reference;
    else if (column.sensitivity === 'confidential') confidential ??= reference;
  }
  if (restricted !== undefined) return { restricted: new Set([restricted]), confidential: new Set() };
  if (confidential !== undefined) return { restricted: new Set(), confidential: new Set([confidential]) };
  return noLineage;
}
