/**
 * From a plan to one SQL statement in the source's dialect (DuckDB, MySQL family, PostgreSQL). The
 * measure's table is the base of the query; dimension and filter tables are joined only along
 * many-to-one paths, so that no row is counted twice, and a filter on a finer table (bills of a
 * customer) becomes a semi-join. Identifiers are quoted with the source's own quoting.
 */
import type { ColumnEntry, MetricEntry, TableEntry, ValueEntry } from '../dictionary/dictionary.js';
import type { SqlDialect } from '../sources/source.js';
import type { JoinEdge, JoinGraph } from './joins.js';
import type { ColumnRef, Dimension, Filter, Measure, Plan } from './plan.js';
import { metricTables } from './interpret.js';

export class CompileError extends Error {}

export interface CompileContext {
  dialect: SqlDialect;
  quote: (name: string) => string;
  joins: JoinGraph;
  tables: readonly TableEntry[];
}

export interface CompiledQuery {
  sql: string;
  /** Result column names, in order. */
  columns: string[];
}

function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export function literalFor(column: ColumnEntry, value: ValueEntry): string {
  const type = column.type;
  if (type === 'boolean' || value.literal === 'boolean') {
    const truthy = ['true', 't', '1', 'yes'].includes(value.value.toLowerCase());
    return truthy ? 'TRUE' : 'FALSE';
  }
  if ((type === 'integer' || type === 'float' || type === 'decimal') && /^-?\d+(\.\d+)?$/.test(value.value)) return value.value;
  return stringLiteral(value.value);
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new CompileError(`not a finite number: ${value}`);
  return String(value);
}

/** Names of result columns: readable, unique. */
function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let suffix = 2; taken.has(candidate.toLowerCase()); suffix++) candidate = `${name}_${suffix}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

export function measureName(measure: Measure): string {
  switch (measure.kind) {
    case 'metric':
      return measure.metric.name;
    case 'share':
      return 'share';
    case 'distribution':
      return 'share';
    case 'portion':
      return `${measureName(measure.of)}_share`;
    case 'aggregate': {
      if (measure.column === undefined) return 'count';
      if (measure.fn === 'percentile') return `p${Math.round((measure.percentile ?? 0) * 100)}_${measure.column.name}`;
      return `${measure.fn}_${measure.column.name}`;
    }
  }
}

/** A query being built: the base table, the joined tables with their aliases. */
class QueryBuilder {
  private readonly aliases = new Map<TableEntry, string>();
  private readonly joins: string[] = [];
  readonly where: string[] = [];

  constructor(
    private readonly context: CompileContext,
    readonly base: TableEntry,
  ) {
    this.aliases.set(base, 't0');
  }

  column(ref: ColumnRef): string {
    return `${this.aliasFor(ref.table)}.${this.context.quote(ref.column.name)}`;
  }

  /** The alias of a table joined many-to-one from the base; throws when the join would multiply rows. */
  aliasFor(table: TableEntry): string {
    const known = this.aliases.get(table);
    if (known !== undefined) return known;
    const path = this.context.joins.path(this.base, table);
    if (path === undefined) throw new CompileError(`${table.name} is not related to ${this.base.name}; the dictionary has no relationship between them`);
    if (!this.context.joins.manyToOne(path)) {
      throw new CompileError(`${table.name} has several rows for each row of ${this.base.name}; grouping ${this.base.name}'s measure by it would count rows more than once`);
    }
    let from = this.base;
    for (const edge of path) {
      if (!this.aliases.has(edge.to)) {
        const alias = `t${this.aliases.size}`;
        this.aliases.set(edge.to, alias);
        const on = edge.fromColumns
          .map((column, index) => `${this.aliases.get(from)}.${this.context.quote(column)} = ${alias}.${this.context.quote(edge.toColumns[index] ?? column)}`)
          .join(' AND ');
        this.joins.push(`JOIN ${this.context.quote(edge.to.name)} ${alias} ON ${on}`);
      }
      from = edge.to;
    }
    return this.aliases.get(table) as string;
  }

  canJoin(table: TableEntry): boolean {
    if (this.aliases.has(table)) return true;
    const path = this.context.joins.path(this.base, table);
    return path !== undefined && this.context.joins.manyToOne(path);
  }

  /** A filter as a condition: joined when many-to-one, else as a semi-join through the path. */
  condition(filter: Filter): string {
    if (filter.kind === 'exists') {
      const path = this.context.joins.path(this.base, filter.table);
      if (path === undefined || path.length === 0) throw new CompileError(`${filter.table.name} is not related to ${this.base.name}`);
      const condition = this.semiJoin(path, filter);
      return filter.negate ? `NOT (${condition})` : condition;
    }
    if (this.canJoin(filter.table)) return filterCondition(filter, this.column(filter), this.context);
    const path = this.context.joins.path(this.base, filter.table);
    if (path === undefined || path.length === 0) throw new CompileError(`${filter.table.name} is not related to ${this.base.name}`);
    return this.semiJoin(path, filter);
  }

  /**
   * Conditions for all filters: joined tables filter directly; filters on a finer table (bills of a
   * customer) go into one semi-join per table, so that "late bills in 2023" means the same bills are
   * both late and in 2023. A negated existence (`no bills`) negates its table's whole semi-join.
   */
  conditions(filters: readonly Filter[]): string[] {
    const out: string[] = [];
    const finer = new Map<TableEntry, Filter[]>();
    for (const filter of filters) {
      if (filter.kind !== 'exists' && this.canJoin(filter.table)) {
        out.push(filterCondition(filter, this.column(filter), this.context));
        continue;
      }
      const group = finer.get(filter.table) ?? [];
      group.push(filter);
      finer.set(filter.table, group);
    }
    for (const [table, group] of finer) {
      // `had at least one bill`, counted over bills: rows of the base table always exist.
      if (table === this.base) {
        if (group.some((filter) => filter.kind === 'exists' && filter.negate)) out.push('1 = 0');
        for (const filter of group) if (filter.kind !== 'exists') out.push(filterCondition(filter, this.column(filter), this.context));
        continue;
      }
      const path = this.context.joins.path(this.base, table);
      if (path === undefined || path.length === 0) throw new CompileError(`${table.name} is not related to ${this.base.name}`);
      const negated = group.some((filter) => filter.kind === 'exists' && filter.negate);
      // `never late`, `没有逾期过`: a negated value on a finer table means no such row, not some other row.
      const absent = group.filter((filter): filter is Extract<Filter, { kind: 'values' }> => filter.kind === 'values' && filter.negate);
      const inner = group.filter((filter) => filter.kind !== 'exists' && !absent.includes(filter as never));
      for (const filter of absent) out.push(`NOT (${this.semiJoin(path, [{ ...filter, negate: false }])})`);
      if (inner.length === 0 && absent.length > 0 && !group.some((filter) => filter.kind === 'exists')) continue;
      const condition = this.semiJoin(path, inner.length > 0 ? inner : group.slice(0, 1));
      out.push(negated ? `NOT (${condition})` : condition);
    }
    return out;
  }

  private semiJoin(path: JoinEdge[], filters: Filter | readonly Filter[]): string {
    const list = Array.isArray(filters) ? filters : [filters as Filter];
    const [first, ...rest] = path as [JoinEdge, ...JoinEdge[]];
    const quote = this.context.quote;
    const aliases = new Map<TableEntry, string>([[first.to, 's0']]);
    const joins: string[] = [];
    let from = first.to;
    for (const edge of rest) {
      const alias = `s${aliases.size}`;
      aliases.set(edge.to, alias);
      const on = edge.fromColumns.map((column, index) => `${aliases.get(from)}.${quote(column)} = ${alias}.${quote(edge.toColumns[index] ?? column)}`).join(' AND ');
      joins.push(`JOIN ${quote(edge.to.name)} ${alias} ON ${on}`);
      from = edge.to;
    }
    const inner = list.map((filter) => filterCondition(filter, `${aliases.get(filter.table)}.${quote(filter.column.name)}`, this.context)).join(' AND ');
    // EXISTS with the link as a condition: every engine plans it as a (anti-)semi-join, where NOT IN
    // over a large table can fall back to a nested loop.
    const link = first.fromColumns
      .map((column, index) => `s0.${quote(first.toColumns[index] ?? column)} = ${this.aliasFor(this.base)}.${quote(column)}`)
      .join(' AND ');
    return `EXISTS (SELECT 1 FROM ${quote(first.to.name)} s0${joins.length > 0 ? ` ${joins.join(' ')}` : ''} WHERE ${link} AND ${inner})`;
  }

  from(): string {
    return [`${this.context.quote(this.base.name)} t0`, ...this.joins].join(' ');
  }

  whereClause(): string {
    return this.where.length === 0 ? '' : ` WHERE ${this.where.join(' AND ')}`;
  }
}

function filterCondition(filter: Filter, column: string, context: CompileContext): string {
  switch (filter.kind) {
    case 'values': {
      const literals = filter.values.map((value) => literalFor(filter.column, value));
      if (literals.length === 1) return `${column} ${filter.negate ? '<>' : '='} ${literals[0]}`;
      return `${column} ${filter.negate ? 'NOT IN' : 'IN'} (${literals.join(', ')})`;
    }
    case 'compare':
      return `${column} ${filter.op} ${numberLiteral(filter.value)}`;
    case 'between':
      return `${column} BETWEEN ${numberLiteral(Math.min(filter.low, filter.high))} AND ${numberLiteral(Math.max(filter.low, filter.high))}`;
    case 'null':
      return `${column} IS ${filter.negate ? 'NOT ' : ''}NULL`;
    case 'time':
      return `${column} >= ${dateLiteral(filter.from, context)} AND ${column} < ${dateLiteral(filter.to, context)}`;
    case 'exists':
      return `${column} IS NOT NULL`;
  }
}

function dateLiteral(iso: string, context: CompileContext): string {
  void context;
  return `DATE '${iso}'`;
}

/** A metric's SQL with `table.column` references rewritten to the query's aliases. */
function metricSql(metric: MetricEntry, builder: QueryBuilder, context: CompileContext): string {
  let sql = metric.sql;
  for (const name of metricTables(metric)) {
    const table = context.tables.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (table === undefined) throw new CompileError(`metric ${metric.name} uses table ${name}, which the data does not have`);
    const alias = builder.aliasFor(table);
    const pattern = new RegExp(`(?<![\\w."])(["\`]?)${escapeRegExp(name)}\\1\\.(["\`]?)(\\w+)\\2`, 'gi');
    sql = sql.replace(pattern, (_match, _q1: string, _q2: string, columnName: string) => {
      const column = table.columns.find((candidate) => candidate.name.toLowerCase() === columnName.toLowerCase());
      return `${alias}.${context.quote(column?.name ?? columnName)}`;
    });
  }
  return sql;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function aggregateSql(measure: Extract<Measure, { kind: 'aggregate' }>, column: string | undefined, dialect: SqlDialect): string {
  if (column === undefined) return 'COUNT(*)';
  switch (measure.fn) {
    case 'count':
      return `COUNT(${column})`;
    case 'count_distinct':
      return `COUNT(DISTINCT ${column})`;
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
      return `${measure.fn.toUpperCase()}(${column})`;
    case 'stddev':
      return `STDDEV_SAMP(${column})`;
    case 'variance':
      return `VAR_SAMP(${column})`;
    case 'median':
    case 'percentile': {
      const fraction = measure.fn === 'median' ? 0.5 : (measure.percentile ?? 0.5);
      if (dialect === 'duckdb') return `QUANTILE_CONT(${column}, ${fraction})`;
      if (dialect === 'postgres') return `PERCENTILE_CONT(${fraction}) WITHIN GROUP (ORDER BY ${column})`;
      throw new CompileError('medians and percentiles are not supported on MySQL-family databases by the offline analyst');
    }
  }
}

function tableOfMeasure(measure: Measure, context: CompileContext): TableEntry {
  if (measure.kind === 'portion') return tableOfMeasure(measure.of, context);
  if (measure.kind !== 'metric') return measure.table;
  const names = metricTables(measure.metric);
  const tables = names
    .map((name) => context.tables.find((table) => table.name.toLowerCase() === name.toLowerCase()))
    .filter((table): table is TableEntry => table !== undefined);
  const finest = context.joins.finestOf(tables);
  if (finest === undefined) throw new CompileError(`metric ${measure.metric.name} names no table of this data`);
  return finest;
}

function dimensionSql(dimension: Dimension, column: string, dialect: SqlDialect): string {
  if (dimension.bin !== undefined && dimension.bin > 0) {
    const width = numberLiteral(dimension.bin);
    return `FLOOR(${column} / ${width.includes('.') ? width : `${width}.0`}) * ${width}`;
  }
  if (dimension.grain !== undefined) return truncateDate(column, dimension.grain, dialect);
  return column;
}

export function truncateDate(column: string, grain: NonNullable<Dimension['grain']>, dialect: SqlDialect): string {
  if (dialect !== 'mysql') return `CAST(DATE_TRUNC('${grain}', ${column}) AS DATE)`;
  switch (grain) {
    case 'day':
      return `DATE(${column})`;
    case 'week':
      return `DATE_SUB(DATE(${column}), INTERVAL WEEKDAY(${column}) DAY)`;
    case 'month':
      return `CAST(DATE_FORMAT(${column}, '%Y-%m-01') AS DATE)`;
    case 'quarter':
      return `MAKEDATE(YEAR(${column}), 1) + INTERVAL (QUARTER(${column}) - 1) QUARTER`;
    case 'year':
      return `MAKEDATE(YEAR(${column}), 1)`;
  }
}

/** The measure's table for the whole query: the finest of the measures' tables; the others must join to it. */
function baseTable(measures: readonly Measure[], context: CompileContext): TableEntry {
  const tables = measures.map((measure) => tableOfMeasure(measure, context));
  const base = context.joins.finestOf(tables);
  if (base === undefined) throw new CompileError('nothing to measure');
  return base;
}

function measureSql(measure: Measure, builder: QueryBuilder, context: CompileContext): string {
  switch (measure.kind) {
    case 'metric':
      return metricSql(measure.metric, builder, context);
    case 'aggregate':
      return aggregateSql(measure, measure.column === undefined ? undefined : builder.column({ table: measure.table, column: measure.column }), context.dialect);
    case 'share': {
      const condition = builder.conditions(measure.condition).join(' AND ');
      if (measure.weight !== undefined) {
        // `what percentage of revenue came from …`: the part of the sum that meets the condition.
        const weight = builder.column({ table: measure.weight.table, column: measure.weight.column });
        return `SUM(CASE WHEN ${condition} THEN ${weight} ELSE 0 END) * 1.0 / SUM(${weight})`;
      }
      return `AVG(CASE WHEN ${condition} THEN 1.0 ELSE 0.0 END)`;
    }
    case 'distribution':
      return 'COUNT(*) * 1.0 / SUM(COUNT(*)) OVER ()';
    case 'portion': {
      const inner = measureSql(measure.of, builder, context);
      return `${inner} * 1.0 / SUM(${inner}) OVER ()`;
    }
  }
}

type AggregatePlan = Extract<Plan, { intent: 'aggregate' }>;

function compileAggregate(plan: AggregatePlan, context: CompileContext, filters: readonly Filter[] = plan.filters): CompiledQuery {
  const builder = new QueryBuilder(context, baseTable(plan.measures, context));
  const taken = new Set<string>();
  const select: string[] = [];
  const columns: string[] = [];
  for (const dimension of plan.dimensions) {
    const name = uniqueName(dimension.column.name, taken);
    select.push(`${dimensionSql(dimension, builder.column(dimension), context.dialect)} AS ${context.quote(name)}`);
    columns.push(name);
    if (dimension.only !== undefined && dimension.only.length > 0) {
      builder.where.push(filterCondition({ kind: 'values', table: dimension.table, column: dimension.column, values: dimension.only, negate: false }, builder.column(dimension), context));
    }
  }
  const measureExpressions: string[] = [];
  // The same number asked twice (`逾期率最高…逾期率是多少`, `总收入` and `收入`) is one column.
  const expressions = plan.measures.map((measure) => measureSql(measure, builder, context));
  const keep = plan.measures.filter((_, index) => expressions.indexOf(expressions[index] as string) === index);
  if (keep.length < plan.measures.length) {
    plan.measures.splice(0, plan.measures.length, ...keep);
    plan.having.splice(0, plan.having.length, ...plan.having.filter((having) => having.measure < keep.length));
    if (plan.order !== undefined && 'measure' in plan.order.by && plan.order.by.measure >= keep.length) plan.order = { ...plan.order, by: { measure: 0 } };
  }
  for (const measure of plan.measures) {
    const name = uniqueName(measureName(measure), taken);
    const expression = measureSql(measure, builder, context);
    measureExpressions.push(expression);
    select.push(`${expression} AS ${context.quote(name)}`);
    columns.push(name);
  }
  builder.where.push(...builder.conditions(filters));
  let sql = `SELECT ${select.join(', ')} FROM ${builder.from()}${builder.whereClause()}`;
  if (plan.dimensions.length > 0) sql += ` GROUP BY ${plan.dimensions.map((_, index) => index + 1).join(', ')}`;
  if (plan.having.length > 0) {
    sql += ` HAVING ${plan.having.map((having) => `${measureExpressions[having.measure] ?? 'NULL'} ${having.op} ${numberLiteral(having.value)}`).join(' AND ')}`;
  }
  const order: string[] = [];
  if (plan.order !== undefined) {
    const by = 'measure' in plan.order.by ? plan.dimensions.length + plan.order.by.measure : plan.order.by.dimension;
    order.push(orderTerm(String(by + 1), plan.order.direction, context.dialect));
  }
  for (let index = 0; index < plan.dimensions.length; index++) if (!order.some((item) => item.startsWith(`${index + 1} `))) order.push(`${index + 1}`);
  // Ranked groups: a tie at the cut-off falls to the group names, the same on every engine.
  if (order.length > 0) sql += ` ORDER BY ${order.join(', ')}`;
  if (plan.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(plan.limit))}`;
  return { sql, columns };
}

/** The measures for a period beside the same measures for the period before, and the change. */
function compileChange(plan: AggregatePlan, context: CompileContext): CompiledQuery {
  const change = plan.change;
  if (change === undefined) throw new CompileError('no period to compare');
  const timeFilter = (window: { from: string; to: string; label: string }): Filter => ({ kind: 'time', ...change.column, ...window });
  const withoutOrder: AggregatePlan = { ...plan, having: [] };
  delete withoutOrder.order;
  delete withoutOrder.limit;
  // Every period (no window named): no time filter on either side; each period meets the one before.
  const everyPeriod = change.period.from === '0001-01-01';
  const current = compileAggregate(withoutOrder, context, everyPeriod ? plan.filters : [...plan.filters, timeFilter(change.period)]);
  const previous = compileAggregate(withoutOrder, context, everyPeriod ? plan.filters : [...plan.filters, timeFilter(change.previous)]);
  const quote = context.quote;
  const dimensionNames = current.columns.slice(0, plan.dimensions.length);
  const measureNames = current.columns.slice(plan.dimensions.length);
  const growth = (name: string): string => `(c.${quote(name)} - p.${quote(name)}) * 1.0 / NULLIF(p.${quote(name)}, 0) AS ${quote(`${name}_change`)}`;
  const select = [
    ...dimensionNames.map((name) => `c.${quote(name)}`),
    ...measureNames.flatMap((name) =>
      change.growthOnly ? [...(change.withCurrent === true ? [`c.${quote(name)} AS ${quote(name)}`] : []), growth(name)] : [`c.${quote(name)} AS ${quote(`${name}_current`)}`, `p.${quote(name)} AS ${quote(`${name}_previous`)}`, growth(name)],
    ),
  ];
  // A time grain is compared with the same period a year (or a period) earlier, not with itself.
  const shift = everyPeriod ? (change.kind === 'yoy' ? 12 : 1) : monthsBetween(change.previous.from, change.period.from);
  const on =
    dimensionNames.length === 0
      ? '1 = 1'
      : dimensionNames
          .map((name, index) =>
            plan.dimensions[index]?.grain !== undefined ? `c.${quote(name)} = ${addMonths(`p.${quote(name)}`, shift, context.dialect)}` : `c.${quote(name)} = p.${quote(name)}`,
          )
          .join(' AND ');
  const sql = `SELECT ${select.join(', ')} FROM (${current.sql}) c LEFT JOIN (${previous.sql}) p ON ${on}${dimensionNames.length > 0 ? ` ORDER BY ${dimensionNames.map((_, index) => index + 1).join(', ')}` : ''}`;
  return { sql, columns: [...dimensionNames, ...measureNames.flatMap((name) => (change.growthOnly ? [...(change.withCurrent === true ? [name] : []), `${name}_change`] : [`${name}_current`, `${name}_previous`, `${name}_change`]))] };
}

function monthsBetween(from: string, to: string): number {
  const left = new Date(`${from}T00:00:00Z`);
  const right = new Date(`${to}T00:00:00Z`);
  return (right.getUTCFullYear() - left.getUTCFullYear()) * 12 + right.getUTCMonth() - left.getUTCMonth();
}

function addMonths(expression: string, months: number, dialect: SqlDialect): string {
  if (dialect === 'mysql') return `DATE_ADD(${expression}, INTERVAL ${months} MONTH)`;
  if (dialect === 'postgres') return `CAST(${expression} + INTERVAL '${months} months' AS DATE)`;
  return `CAST(${expression} + INTERVAL ${months} MONTH AS DATE)`;
}

/**
 * An ordering that puts missing values last on every engine (PostgreSQL would put them first when
 * descending; MySQL has no NULLS LAST, so nulls are sorted by `IS NULL` first).
 */
function orderTerm(expression: string, direction: 'asc' | 'desc', dialect: SqlDialect): string {
  const way = direction === 'desc' ? 'DESC' : 'ASC';
  if (dialect === 'mysql') return /^\d+$/.test(expression) ? `${expression} ${way}` : `${expression} IS NULL, ${expression} ${way}`;
  return `${expression} ${way} NULLS LAST`;
}

export function compile(plan: Plan, context: CompileContext): CompiledQuery | undefined {
  const quote = context.quote;
  switch (plan.intent) {
    case 'aggregate':
      return plan.change === undefined ? compileAggregate(plan, context) : compileChange(plan, context);
    case 'rows': {
      const builder = new QueryBuilder(context, plan.table);
      const select = plan.columns.map((column) => `${builder.column(column)} AS ${quote(column.column.name)}`);
      builder.where.push(...builder.conditions(plan.filters));
      let sql = `SELECT ${select.join(', ')} FROM ${builder.from()}${builder.whereClause()}`;
      if (plan.order !== undefined) sql += ` ORDER BY ${orderTerm(builder.column(plan.order.column), plan.order.direction, context.dialect)}`;
      sql += ` LIMIT ${Math.max(0, Math.floor(plan.limit))}`;
      return { sql, columns: plan.columns.map((column) => column.column.name) };
    }
    case 'histogram': {
      const builder = new QueryBuilder(context, plan.column.table);
      const column = builder.column(plan.column);
      const width = numberLiteral(plan.width);
      builder.where.push(`${column} IS NOT NULL`);
      builder.where.push(...builder.conditions(plan.filters));
      const bin = `FLOOR(${column} / ${width.includes('.') ? width : `${width}.0`}) * ${width}`;
      return {
        sql: `SELECT ${bin} AS ${quote('bin_start')}, COUNT(*) AS ${quote('count')} FROM ${builder.from()}${builder.whereClause()} GROUP BY 1 ORDER BY 1`,
        columns: ['bin_start', 'count'],
      };
    }
    case 'correlation': {
      const builder = new QueryBuilder(context, context.joins.finestOf([plan.x.table, plan.y.table]) ?? plan.x.table);
      const x = builder.column(plan.x);
      const y = builder.column(plan.y);
      builder.where.push(...builder.conditions(plan.filters));
      const expression =
        context.dialect === 'mysql'
          ? `(COUNT(*) * SUM(${x} * ${y}) - SUM(${x}) * SUM(${y})) / SQRT((COUNT(*) * SUM(${x} * ${x}) - SUM(${x}) * SUM(${x})) * (COUNT(*) * SUM(${y} * ${y}) - SUM(${y}) * SUM(${y})))`
          : `CORR(${x}, ${y})`;
      if (context.dialect === 'mysql') builder.where.push(`${x} IS NOT NULL AND ${y} IS NOT NULL`);
      return { sql: `SELECT ${expression} AS ${quote('correlation')} FROM ${builder.from()}${builder.whereClause()}`, columns: ['correlation'] };
    }
    case 'missing': {
      const columns = plan.columns.length > 0 ? plan.columns.map((ref) => ref.column) : plan.table.columns;
      const table = quote(plan.table.name);
      const distinct = plan.stat === 'distinct';
      const stat = (name: string): string => (distinct ? `COUNT(DISTINCT ${quote(name)})` : `COUNT(*) - COUNT(${quote(name)})`);
      const label = distinct ? 'distinct_values' : 'missing';
      if (plan.columns.length === 1 && columns[0] !== undefined) {
        return { sql: `SELECT ${stat(columns[0].name)} AS ${quote(label)} FROM ${table}`, columns: [label] };
      }
      const parts = columns.map((column) => `SELECT ${stringLiteral(column.name)} AS ${quote('column_name')}, ${stat(column.name)} AS ${quote(label)} FROM ${table}`);
      return { sql: parts.join(' UNION ALL '), columns: ['column_name', label] };
    }
    case 'duplicates': {
      // Named columns (`duplicate customer IDs`): how many values occur more than once. Whole rows:
      // how many rows are copies of another (every row of a group of identical rows).
      const columns = plan.columns.length > 0 ? plan.columns.map((ref) => ref.column.name) : plan.table.columns.map((column) => column.name);
      const list = columns.map(quote).join(', ');
      const groups = `(SELECT ${list}, COUNT(*) AS ${quote('n')} FROM ${quote(plan.table.name)} GROUP BY ${list} HAVING COUNT(*) > 1) d`;
      return plan.columns.length > 0
        ? { sql: `SELECT COUNT(*) AS ${quote('duplicated_values')} FROM ${groups}`, columns: ['duplicated_values'] }
        : { sql: `SELECT COALESCE(SUM(${quote('n')}), 0) AS ${quote('duplicate_rows')} FROM ${groups}`, columns: ['duplicate_rows'] };
    }
    case 'distinct_values': {
      const builder = new QueryBuilder(context, plan.column.table);
      const column = builder.column(plan.column);
      builder.where.push(...builder.conditions(plan.filters));
      return { sql: `SELECT DISTINCT ${column} AS ${quote(plan.column.column.name)} FROM ${builder.from()}${builder.whereClause()} ORDER BY 1`, columns: [plan.column.column.name] };
    }
    case 'list_tables':
    case 'describe_table':
    case 'describe_column':
      return undefined;
  }
}
