/**
 * Catalog views that hold sample values of every column (PostgreSQL's `pg_stats` most common values
 * and histograms, MySQL 8's `COLUMN_STATISTICS` histograms). Reading them would take restricted and
 * confidential values out of the database around the column checks, so where the dictionary marks
 * any column sensitive, queries that read them are refused. Judged on the parse tree.
 */
import { parseStatements } from '../guard/parser.js';
import { fieldOf, taggedNodes } from '../guard/walk.js';
import type { SqlDialect } from '../sources/source.js';

const valueStatistics = new Set(['pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs', 'pg_statistic', 'pg_statistic_ext_data', 'column_statistics', 'pg_mcv_list_items']);

/** The statistics view or function a query reads, or undefined when it reads none (or cannot be parsed: the guard refuses that). */
export function readsValueStatistics(sql: string, dialect: SqlDialect): string | undefined {
  const parsed = parseStatements(sql, dialect);
  if (!parsed.ok) return undefined;
  for (const node of taggedNodes(parsed.statements)) {
    const name = node.kind === 'table' ? fieldOf(fieldOf(node.body, 'name'), 'name') : node.kind === 'function' ? fieldOf(node.body, 'name') : undefined;
    if (typeof name === 'string' && valueStatistics.has(name.toLowerCase())) return name;
  }
  return undefined;
}
