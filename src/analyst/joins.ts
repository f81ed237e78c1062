/**
 * How the tables connect: the dictionary's relationships, or, when it declares none, columns of the
 * same name where one side is its table's whole key. Each edge knows which side is unique, so that a
 * query only joins towards tables with one row per row it has (no fan-out that would double count);
 * a filter on a finer table becomes a semi-join (`IN (SELECT …)`) instead.
 */
import type { Dictionary, TableEntry } from '../dictionary/dictionary.js';

export interface JoinEdge {
  from: TableEntry;
  fromColumns: string[];
  to: TableEntry;
  toColumns: string[];
  /** Each `from` row matches at most one `to` row (the `to` columns are its key). */
  toUnique: boolean;
  /** Each `to` row matches at most one `from` row. */
  fromUnique: boolean;
}

export interface JoinGraph {
  edges(table: TableEntry): JoinEdge[];
  /** The path of edges from `from` to `to`, shortest first; undefined when they do not connect. */
  path(from: TableEntry, to: TableEntry): JoinEdge[] | undefined;
  /** True when every edge on the path keeps one row per `from` row (safe to join for measures of `from`). */
  manyToOne(path: readonly JoinEdge[]): boolean;
  /** The table most others point to, among `tables`. */
  hubOf(tables: readonly TableEntry[]): TableEntry | undefined;
  /** The table with the most rows per entity among `tables` (a fact table), else the hub. */
  finestOf(tables: readonly TableEntry[]): TableEntry | undefined;
  /** Has a key of several columns, or is on the many side of a relationship: rows are events, not entities. */
  isFactTable(table: TableEntry): boolean;
}

function isKey(table: TableEntry, columns: readonly string[]): boolean {
  const key = table.primaryKey.map((name) => name.toLowerCase());
  return key.length > 0 && key.length === columns.length && columns.every((column) => key.includes(column.toLowerCase()));
}

export function joinGraph(dictionary: Dictionary): JoinGraph {
  const byName = new Map(dictionary.tables.map((table) => [table.name.toLowerCase(), table]));
  const all: JoinEdge[] = [];
  const add = (from: TableEntry, fromColumns: string[], to: TableEntry, toColumns: string[]): void => {
    all.push({ from, fromColumns, to, toColumns, toUnique: isKey(to, toColumns), fromUnique: isKey(from, fromColumns) });
    all.push({ from: to, fromColumns: toColumns, to: from, toColumns: fromColumns, toUnique: isKey(from, fromColumns), fromUnique: isKey(to, toColumns) });
  };
  for (const relationship of dictionary.relationships) {
    const from = byName.get(relationship.from.table.toLowerCase());
    const to = byName.get(relationship.to.table.toLowerCase());
    if (from !== undefined && to !== undefined && from !== to) add(from, [relationship.from.column], to, [relationship.to.column]);
  }
  if (dictionary.relationships.length === 0) {
    // Inferred: a column named like another table's single-column key.
    for (const to of dictionary.tables) {
      if (to.primaryKey.length !== 1) continue;
      const key = (to.primaryKey[0] ?? '').toLowerCase();
      for (const from of dictionary.tables) {
        if (from === to) continue;
        const column = from.columns.find((candidate) => candidate.name.toLowerCase() === key);
        if (column === undefined) continue;
        // Two tables keyed by the same column would add the edge twice; once is enough.
        if (all.some((edge) => edge.from === from && edge.to === to)) continue;
        add(from, [column.name], to, [to.primaryKey[0] ?? column.name]);
      }
    }
  }

  const edges = (table: TableEntry): JoinEdge[] => all.filter((edge) => edge.from === table);

  const path = (from: TableEntry, to: TableEntry): JoinEdge[] | undefined => {
    if (from === to) return [];
    const previous = new Map<TableEntry, JoinEdge>();
    const queue: TableEntry[] = [from];
    const seen = new Set<TableEntry>([from]);
    // Breadth-first, preferring edges that keep one row per row (so that measures are not multiplied).
    while (queue.length > 0) {
      const table = queue.shift() as TableEntry;
      const outgoing = edges(table).sort((left, right) => Number(right.toUnique) - Number(left.toUnique));
      for (const edge of outgoing) {
        if (seen.has(edge.to)) continue;
        seen.add(edge.to);
        previous.set(edge.to, edge);
        if (edge.to === to) {
          const out: JoinEdge[] = [];
          for (let at: TableEntry = to; at !== from; ) {
            const step = previous.get(at) as JoinEdge;
            out.unshift(step);
            at = step.from;
          }
          return out;
        }
        queue.push(edge.to);
      }
    }
    return undefined;
  };

  const inbound = (table: TableEntry): number => all.filter((edge) => edge.to === table && edge.toUnique && !edge.fromUnique).length + all.filter((edge) => edge.to === table).length / 100;

  const hubOf = (tables: readonly TableEntry[]): TableEntry | undefined => {
    let best: TableEntry | undefined;
    for (const table of tables) if (best === undefined || inbound(table) > inbound(best)) best = table;
    return best;
  };

  const isFactTable = (table: TableEntry): boolean => table.primaryKey.length > 1 || all.some((edge) => edge.from === table && edge.toUnique && !edge.fromUnique);

  const finestOf = (tables: readonly TableEntry[]): TableEntry | undefined => {
    const unique = [...new Set(tables)];
    const facts = unique.filter(isFactTable);
    if (facts.length === 1) return facts[0];
    return hubOf(facts.length > 1 ? facts : unique);
  };

  return {
    edges,
    path,
    manyToOne: (steps) => steps.every((edge) => edge.toUnique),
    hubOf,
    finestOf,
    isFactTable,
  };
}
