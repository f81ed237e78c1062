/**
 * Reads a metric's SQL, which must be one expression (`AVG(CASE WHEN user_churn.Churn = 'Yes' THEN 1.0
 * ELSE 0.0 END)`): lists the columns it references with their table qualifiers, says whether it
 * aggregates, and refuses clauses, subqueries, lists and second statements. A small tokenizer is
 * enough for this, and keeps dictionaries loading without the full SQL parser (which the guard loads
 * when a query runs).
 */

/** A column a metric's SQL names; `table` is undefined when the column is not qualified. */
export interface SqlColumnReference {
  table: string | undefined;
  column: string;
}

export type MetricSqlAnalysis =
  | { ok: true; references: SqlColumnReference[]; hasAggregate: boolean }
  | { ok: false; problem: string };

type Token = { kind: 'word'; text: string } | { kind: 'quoted'; text: string } | { kind: 'string' } | { kind: 'number' } | { kind: 'symbol'; text: string };

/** Words that make a clause or a statement: a metric is one expression, and iquery adds the FROM itself. */
const clauseWords = new Set([
  'select', 'from', 'where', 'group', 'having', 'order', 'limit', 'offset', 'union', 'intersect', 'except', 'join', 'with',
  'qualify', 'window', 'into', 'insert', 'update', 'delete', 'drop', 'create', 'alter', 'values', 'returning',
]);

const keywords = new Set([
  'case', 'when', 'then', 'else', 'end', 'and', 'or', 'not', 'null', 'is', 'in', 'between', 'like', 'ilike', 'distinct', 'as',
  'true', 'false', 'cast', 'interval', 'date', 'timestamp', 'time', 'filter', 'over', 'partition', 'by', 'asc', 'desc', 'nulls',
  'first', 'last', 'within', 'escape', 'similar', 'to', 'at', 'zone', 'any', 'all', 'some', 'exists', 'collate', 'extract', 'year',
  'month', 'day', 'hour', 'minute', 'second', 'quarter', 'week',
]);

const aggregates = new Set([
  'sum', 'avg', 'count', 'min', 'max', 'median', 'mode', 'stddev', 'stddev_samp', 'stddev_pop', 'variance', 'var_samp', 'var_pop',
  'quantile', 'quantile_cont', 'quantile_disc', 'percentile_cont', 'percentile_disc', 'string_agg', 'group_concat', 'array_agg',
  'listagg', 'bool_and', 'bool_or', 'every', 'any_value', 'approx_count_distinct', 'count_if', 'corr', 'covar_pop', 'covar_samp',
  'regr_slope', 'regr_intercept', 'bit_and', 'bit_or', 'arg_max', 'arg_min', 'first_value', 'last_value', 'product', 'entropy',
]);

function tokenize(sql: string): Token[] | string {
  const tokens: Token[] = [];
  let at = 0;
  while (at < sql.length) {
    const char = sql[at] as string;
    if (/\s/.test(char)) {
      at++;
    } else if (char === "'") {
      let end = at + 1;
      for (;;) {
        if (end >= sql.length) return 'a string is not closed';
        if (sql[end] === "'" && sql[end + 1] === "'") end += 2;
        else if (sql[end] === "'") break;
        else end++;
      }
      tokens.push({ kind: 'string' });
      at = end + 1;
    } else if (char === '"' || char === '`' || char === '[') {
      const close = char === '[' ? ']' : char;
      const end = sql.indexOf(close, at + 1);
      if (end < 0) return 'a quoted name is not closed';
      tokens.push({ kind: 'quoted', text: sql.slice(at + 1, end) });
      at = end + 1;
    } else if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(sql[at + 1] ?? ''))) {
      const match = /^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(sql.slice(at));
      tokens.push({ kind: 'number' });
      at += match?.[0].length ?? 1;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(char)) {
      const match = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(at)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: match[0] });
      at += match[0].length;
    } else if (char === '-' && sql[at + 1] === '-') {
      return 'comments are not allowed in a metric';
    } else if (char === '/' && sql[at + 1] === '*') {
      return 'comments are not allowed in a metric';
    } else {
      tokens.push({ kind: 'symbol', text: char });
      at++;
    }
  }
  return tokens;
}

function nameOf(token: Token | undefined): string | undefined {
  if (token?.kind === 'quoted') return token.text;
  if (token?.kind === 'word') return token.text;
  return undefined;
}

/**
 * Parses a metric's SQL as one expression and lists the columns it references with their table
 * qualifiers. The SQL must be one expression: no FROM, clauses, subqueries or second statement.
 */
export function analyseMetricSql(sql: string): MetricSqlAnalysis {
  const tokens = tokenize(sql);
  if (typeof tokens === 'string') return { ok: false, problem: `the SQL does not parse as one expression (${tokens})` };
  if (tokens.length === 0) return { ok: false, problem: 'the SQL is empty' };
  let depth = 0;
  const references: SqlColumnReference[] = [];
  let hasAggregate = false;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] as Token;
    const next = tokens[index + 1];
    const previous = tokens[index - 1];
    if (token.kind === 'symbol') {
      if (token.text === '(') depth++;
      if (token.text === ')') depth--;
      if (depth < 0) return { ok: false, problem: 'the SQL does not parse as one expression (a parenthesis closes that was never opened)' };
      if (token.text === ';') return { ok: false, problem: 'the SQL must be one expression, not several statements' };
      if (token.text === ',' && depth === 0) return { ok: false, problem: 'the SQL must be one expression (write one metric per entry, without commas between expressions)' };
      continue;
    }
    if (token.kind !== 'word' && token.kind !== 'quoted') continue;
    const lower = token.kind === 'word' ? token.text.toLowerCase() : '';
    if (token.kind === 'word' && clauseWords.has(lower)) {
      // `COUNT(*) FILTER (WHERE …)` is one expression.
      const filtered = lower === 'where' && nameOf(tokens[index - 2])?.toLowerCase() === 'filter';
      // `OVER (PARTITION BY … ORDER BY …)` too.
      if (!filtered && !(lower === 'order' && depth > 0)) {
        if (lower === 'select') return { ok: false, problem: 'the SQL must not contain subqueries' };
        return { ok: false, problem: 'the SQL must be one expression, without FROM, WHERE, GROUP BY or other clauses: iquery joins the tables itself' };
      }
      continue;
    }
    // `a.b` is read once, at `a`; the part after a dot is not a reference of its own.
    if (previous?.kind === 'symbol' && previous.text === '.') continue;
    if (next?.kind === 'symbol' && next.text === '(') {
      if (token.kind === 'word' && aggregates.has(lower)) hasAggregate = true;
      continue;
    }
    if (next?.kind === 'symbol' && next.text === '.') {
      const column = nameOf(tokens[index + 2]);
      if (column === undefined) return { ok: false, problem: `the SQL does not parse as one expression (nothing after "${token.text}.")` };
      if (tokens[index + 3]?.kind === 'symbol' && (tokens[index + 3] as { text: string }).text === '(') continue;
      references.push({ table: token.text, column });
      continue;
    }
    if (token.kind === 'word' && keywords.has(lower)) continue;
    // A type name after AS (`CAST(x AS DOUBLE)`) is not a column.
    if (nameOf(previous)?.toLowerCase() === 'as') continue;
    references.push({ table: undefined, column: token.text });
  }
  if (depth !== 0) return { ok: false, problem: 'the SQL does not parse as one expression (a parenthesis is not closed)' };
  return { ok: true, references, hasAggregate };
}
