import { ast, Dialect, getColumns, parse } from '@polyglot-sql/sdk';

type Expression = Parameters<typeof getColumns>[0];

/** A column a metric's SQL names; `table` is undefined when the column is not qualified. */
export interface SqlColumnReference {
  table: string | undefined;
  column: string;
}

export type MetricSqlAnalysis =
  | { ok: true; references: SqlColumnReference[]; hasAggregate: boolean }
  | { ok: false; problem: string };

// A metric is written once and run on any engine, so any dialect that parses it will do.
const dialects = [Dialect.Generic, Dialect.DuckDB, Dialect.PostgreSQL, Dialect.MySQL] as const;

const clausesThatMustBeEmpty = ['from', 'joins', 'where_clause', 'group_by', 'having', 'qualify', 'order_by', 'limit', 'offset', 'with'] as const;

/**
 * Parses a metric's SQL as `SELECT <sql>` and lists the columns it references with their table
 * qualifiers. The SQL must be one expression: no FROM, clauses, subqueries or second statement.
 */
export function analyseMetricSql(sql: string): MetricSqlAnalysis {
  let firstError = '';
  for (const dialect of dialects) {
    const result = parse(`SELECT ${sql}`, dialect);
    if (!result.success || result.ast === null) {
      // Positions would point into the `SELECT ` wrapper, so keep only what went wrong.
      const message = result.error ?? 'it does not parse';
      firstError ||= message.slice(message.indexOf(': ') + 2);
      continue;
    }
    return judge(result.ast);
  }
  return { ok: false, problem: `the SQL does not parse as one expression (${firstError})` };
}

function judge(statements: Expression[]): MetricSqlAnalysis {
  const [root] = statements;
  if (root === undefined || statements.length !== 1) return { ok: false, problem: 'the SQL must be one expression, not several statements' };
  const select = (root as { select?: Record<string, unknown> }).select;
  if (select === undefined) return { ok: false, problem: 'the SQL must be one expression' };
  const expressions = select['expressions'];
  if (!Array.isArray(expressions) || expressions.length !== 1) {
    return { ok: false, problem: 'the SQL must be one expression (write one metric per entry, without commas between expressions)' };
  }
  for (const clause of clausesThatMustBeEmpty) {
    const value = select[clause];
    if (value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      return { ok: false, problem: 'the SQL must be one expression, without FROM, WHERE, GROUP BY or other clauses: iquery joins the tables itself' };
    }
  }
  if (ast.hasSubqueries(root)) return { ok: false, problem: 'the SQL must not contain subqueries' };
  const references = getColumns(root).map((node) => {
    const column = (node as { column: { name: { name: string }; table: { name: string } | null } }).column;
    return { table: column.table?.name, column: column.name.name };
  });
  return { ok: true, references, hasAggregate: ast.hasAggregates(root) };
}
