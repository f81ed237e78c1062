/**
 * The offline analyst: answers a question with no model. It interprets the question against the
 * schema (dictionary plus introspection), compiles the plan to SQL in the source's dialect, runs it
 * through the source's guard, and writes a short answer and a chart spec from the result. When it is
 * not sure it abstains, saying what it understood and what it could not map.
 */
import type { Dictionary } from '../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../errors.js';
import type { DataSource, SqlValue } from '../sources/source.js';
import { composeAnswer } from './answer.js';
import { chooseChart, type ChartSpec } from './chart.js';
import { compile, CompileError, measureName, type CompileContext } from './compile.js';
import { interpret, type Cues } from './interpret.js';
import { joinGraph, type JoinGraph } from './joins.js';
import { columnLabel, measureLabel, metricLabel, styleOf, tableLabel } from './labels.js';
import { createMatcher, type Matcher } from './matcher.js';
import type { Dimension, Filter, Measure, Plan } from './plan.js';
import { analyseMetricSql } from '../dictionary/metric-references.js';
import { planFromJson, planToJson, type PlanJson } from './plan-json.js';
import { mergeSchema } from './schema.js';
import { detectLanguage, type Language } from './text.js';
import { parseToday, todayIso } from './time.js';
import { buildVocabulary } from './vocabulary.js';

export interface AskResult {
  status: 'answered' | 'abstained' | 'error';
  question: string;
  language: Language;
  plan: PlanJson | null;
  sql: string | null;
  columns: string[];
  rows: SqlValue[][];
  answer: string;
  chart: ChartSpec | null;
  /** How each result column reads to a person: `percent` (a fraction), `money`, `integer`, `number`, or `text`. */
  formats?: string[];
  /** Which analyst answered: always `offline` here. */
  analyst: 'offline';
  /** True when the result was cut at the row cap. */
  truncated: boolean;
  /** Abstentions: what was understood, the words that mapped to nothing, and a rephrasing to try. */
  understood?: string[];
  unmapped?: string[];
  suggestion?: string;
  /** Errors: the stable code and message. */
  error?: { code: string; message: string };
  /** Milliseconds spent planning (interpretation and compilation, no SQL). */
  planningMs: number;
}

export interface AskOptions {
  /** The previous answered plan of the conversation (`AskResult.plan`), for follow-ups. */
  previous?: PlanJson | null;
  signal?: AbortSignal;
  /** Most rows returned; default 1000. */
  maxRows?: number;
}

export interface OfflineAnalystOptions {
  /** What "today" is for relative time, as YYYY-MM-DD; default the system date. */
  today?: string;
}

const defaultMaxRows = 1000;

export class OfflineAnalyst {
  private readonly matcher: Matcher;
  private readonly joins: JoinGraph;
  private readonly today: Date;

  private constructor(
    private readonly source: DataSource,
    readonly schema: Dictionary,
    options: OfflineAnalystOptions,
  ) {
    this.matcher = createMatcher(buildVocabulary(schema));
    this.joins = joinGraph(schema);
    this.today = parseToday(options.today ?? todayIso());
  }

  /** Reads the source's tables once and merges them with the dictionary. */
  static async create(source: DataSource, dictionary: Dictionary, options: OfflineAnalystOptions = {}): Promise<OfflineAnalyst> {
    return new OfflineAnalyst(source, mergeSchema(dictionary, await source.listTables()), options);
  }

  async ask(question: string, options: AskOptions = {}): Promise<AskResult> {
    const started = performance.now();
    const language = detectLanguage(question);
    const base = { question, language, analyst: 'offline' as const, truncated: false };
    const previous = options.previous === undefined || options.previous === null ? undefined : planFromJson(this.schema, options.previous);
    const reading = { schema: this.schema, matcher: this.matcher, joins: this.joins, today: this.today, ...(previous === undefined ? {} : { previous }) };
    const main = mainRequest(question);
    let interpretation = interpret(main, reading);
    // The request alone may not name the data (`Give me the coefficient`): then the whole question is read.
    if (interpretation.status === 'abstained' && main !== question) interpretation = interpret(question, reading);
    if (interpretation.status === 'abstained') {
      return this.abstain(base, interpretation.understood, interpretation.unmapped, interpretation.reason, performance.now() - started);
    }
    const plan = previous === undefined ? interpretation.plan : mergeFollowUp(previous, interpretation.plan, interpretation.cues);
    const context: CompileContext = { dialect: this.source.dialect, quote: (name) => this.source.quoteIdentifier(name), joins: this.joins, tables: this.schema.tables };
    try {
      await this.chooseWidths(plan, context, options.signal);
      const outside = await this.outsideCoverage(plan, context);
      if (outside !== undefined) return this.abstain(base, [], [], outside, performance.now() - started);
    } catch (error) {
      return this.failure(base, plan, null, error, performance.now() - started);
    }
    let compiled;
    try {
      compiled = compile(plan, context);
    } catch (error) {
      if (error instanceof CompileError) return this.abstain(base, [], [], error.message, performance.now() - started);
      throw error;
    }
    const planningMs = performance.now() - started;
    const planJson = planToJson(plan, language);
    if (compiled === undefined) {
      const { columns, rows } = describeRows(plan, this.schema, language);
      const answer = composeAnswer(plan, { columns, rows, truncated: false }, language, this.schema);
      return { ...base, status: 'answered', plan: planJson, sql: null, columns, rows, answer, chart: chooseChart(plan, columns, rows.length, answer), planningMs };
    }
    let result;
    try {
      result = await this.source.query(compiled.sql, { maxRows: options.maxRows ?? defaultMaxRows, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    } catch (error) {
      return this.failure(base, plan, compiled.sql, error, planningMs);
    }
    const rows = result.rows;
    const answer = composeAnswer(plan, { columns: compiled.columns, rows, truncated: result.truncated }, language, this.schema);
    const chart = chooseChart(plan, compiled.columns, rows.length, titleOf(plan, language));
    if (chart.type === 'scatter' && plan.intent === 'correlation') chart.points = await this.scatterPoints(plan, context);
    return { ...base, status: 'answered', plan: planJson, sql: compiled.sql, columns: compiled.columns, formats: formatsOf(plan, compiled.columns), rows, answer, chart, truncated: result.truncated, planningMs };
  }

  /** Bin widths not given in the question: a round width giving about ten bins over the data's range. */
  private async chooseWidths(plan: Plan, context: CompileContext, signal: AbortSignal | undefined): Promise<void> {
    const targets: { ref: Dimension | Extract<Plan, { intent: 'histogram' }>['column']; set: (width: number) => void }[] = [];
    if (plan.intent === 'histogram' && plan.width <= 0) targets.push({ ref: plan.column, set: (width) => (plan.width = width) });
    if (plan.intent === 'aggregate') for (const dimension of plan.dimensions) if (dimension.bin !== undefined && dimension.bin <= 0) targets.push({ ref: dimension, set: (width) => (dimension.bin = width) });
    for (const target of targets) {
      const column = context.quote(target.ref.column.name);
      const sql = `SELECT MIN(${column}), MAX(${column}) FROM ${context.quote(target.ref.table.name)}`;
      const result = await this.source.query(sql, { maxRows: 1, ...(signal === undefined ? {} : { signal }) });
      const [low, high] = (result.rows[0] ?? []) as [unknown, unknown];
      target.set(niceWidth(Number(low), Number(high)));
    }
  }

  private readonly coverage = new Map<string, { first: string; last: string } | undefined>();

  /**
   * A period the data does not reach is not "zero": the analyst says what the data covers instead
   * (`上周的收入` on monthly bills that end last month).
   */
  private async outsideCoverage(plan: Plan, context: CompileContext): Promise<string | undefined> {
    const filters = plan.intent === 'aggregate' || plan.intent === 'rows' || plan.intent === 'histogram' || plan.intent === 'correlation' ? plan.filters : [];
    const periods = [...filters.filter((filter) => filter.kind === 'time')];
    if (plan.intent === 'aggregate' && plan.change !== undefined && plan.change.period.from !== '0001-01-01') periods.push({ kind: 'time', ...plan.change.column, ...plan.change.period }, { kind: 'time', ...plan.change.column, ...plan.change.previous });
    for (const period of periods) {
      if (period.kind !== 'time') continue;
      const key = `${period.table.name}.${period.column.name}`;
      if (!this.coverage.has(key)) {
        const column = context.quote(period.column.name);
        const result = await this.source.query(`SELECT CAST(MIN(${column}) AS DATE), CAST(MAX(${column}) AS DATE) FROM ${context.quote(period.table.name)}`, { maxRows: 1 });
        const [first, last] = result.rows[0] ?? [];
        this.coverage.set(key, typeof first === 'string' && typeof last === 'string' ? { first: first.slice(0, 10), last: last.slice(0, 10) } : undefined);
      }
      const range = this.coverage.get(key);
      if (range === undefined) continue;
      if (period.to <= range.first || period.from > range.last) {
        return `the data's ${period.column.name} runs from ${range.first} to ${range.last}, so it has nothing for ${period.label}`;
      }
    }
    return undefined;
  }

  private async scatterPoints(plan: Extract<Plan, { intent: 'correlation' }>, context: CompileContext): Promise<[number, number][]> {
    const points = compile({ intent: 'rows', table: plan.x.table, columns: [plan.x, plan.y], filters: plan.filters, limit: 500 }, context);
    if (points === undefined) return [];
    try {
      const result = await this.source.query(points.sql, { maxRows: 500 });
      return result.rows.filter((row) => typeof row[0] === 'number' && typeof row[1] === 'number').map((row) => [row[0] as number, row[1] as number]);
    } catch {
      return [];
    }
  }

  private abstain(base: Pick<AskResult, 'question' | 'language' | 'analyst' | 'truncated'>, understood: string[], unmapped: string[], reason: string, planningMs: number): AskResult {
    const suggestion = this.suggestion(base.language);
    const zh = base.language === 'zh';
    const answer = zh
      ? `我不确定如何回答这个问题：${chineseReason(reason)}。${understood.length > 0 ? `我理解到：${understood.join('；')}。` : ''}可以换个说法，例如：${suggestion}`
      : `I am not sure how to answer this: ${reason}.${understood.length > 0 ? ` I understood: ${understood.join('; ')}.` : ''} Try, for example: ${suggestion}`;
    return { ...base, status: 'abstained', plan: null, sql: null, columns: [], rows: [], answer, chart: null, understood, unmapped, suggestion, planningMs };
  }

  private failure(base: Pick<AskResult, 'question' | 'language' | 'analyst' | 'truncated'>, plan: Plan, sql: string | null, error: unknown, planningMs: number): AskResult {
    const code = error instanceof IqueryError ? error.code : 'internal';
    const message = messageOf(error);
    const answer = base.language === 'zh' ? `查询失败：${message}` : `The query failed: ${message}`;
    return { ...base, status: 'error', plan: planToJson(plan, base.language), sql, columns: [], rows: [], answer, chart: null, error: { code, message }, planningMs };
  }

  /** A question this data can answer, built from its own metrics and columns. */
  private suggestion(language: Language): string {
    const metric = this.schema.metrics[0];
    // A category of an entity table (one row per customer), so that the suggestion is a sound question.
    const measured = metric === undefined ? [] : measureColumns({ kind: 'metric', metric });
    const category = this.schema.tables
      .filter((table) => !this.joins.isFactTable(table))
      .flatMap((table) => table.columns.filter((column) => column.values.length > 1 && column.values.length <= 8 && !measured.includes(column.name.toLowerCase())))
      .at(0);
    const zh = language === 'zh';
    if (metric !== undefined && category !== undefined) {
      return zh ? `「按${columnLabel(category, 'zh')}的${metricLabel(metric, 'zh')}」` : `"${metricLabel(metric, 'en')} by ${columnLabel(category, 'en')}"`;
    }
    const table = this.schema.tables[0];
    if (table !== undefined) return zh ? `「${tableLabel(table, 'zh')}有多少行」` : `"how many ${tableLabel(table, 'en')} are there"`;
    return zh ? '「有哪些表」' : '"what tables are there"';
  }
}

/** A follow-up keeps the previous question's context and changes what the new one names. */
export function mergeFollowUp(previous: Plan, current: Plan, cues: Cues): Plan {
  if (previous.intent !== 'aggregate' || current.intent !== 'aggregate') return current;
  const namesMeasure = !cues.defaultMeasure;
  const namesContext = current.dimensions.length > 0 || current.filters.length > 0 || current.chart !== undefined || current.change !== undefined;
  if (namesMeasure && !cues.followUp) return current;
  if (namesMeasure && namesContext && !cues.followUp) return current;
  const measures = namesMeasure ? current.measures : previous.measures;
  let dimensions = previous.dimensions;
  if (current.dimensions.length > 0) {
    const grainOnly = current.dimensions.every((dimension) => dimension.grain !== undefined);
    if (cues.also) dimensions = [...previous.dimensions, ...current.dimensions.filter((dimension) => !previous.dimensions.some((old) => old.column === dimension.column))];
    else if (grainOnly) dimensions = [...previous.dimensions.filter((dimension) => dimension.grain === undefined), ...current.dimensions];
    else dimensions = current.dimensions;
  }
  // A filter on the column a new measure is about goes (`流失率呢` after `流失了多少` drops Churn = Yes).
  const measured = new Set(namesMeasure ? measures.flatMap(measureColumns) : []);
  const replaced = (filter: Filter): boolean => current.filters.some((next) => next.column === filter.column) || measured.has(filter.column.name.toLowerCase());
  const filters = [...previous.filters.filter((filter) => !replaced(filter)), ...current.filters];
  const merged: Plan = { intent: 'aggregate', measures, dimensions, filters, having: current.having.length > 0 ? current.having : previous.having };
  const order = current.order ?? (dimensions === previous.dimensions ? previous.order : undefined);
  if (order !== undefined) merged.order = order;
  const limit = current.limit ?? (dimensions === previous.dimensions ? previous.limit : undefined);
  if (limit !== undefined) merged.limit = limit;
  const chart = current.chart ?? previous.chart;
  if (chart !== undefined) merged.chart = chart;
  const change = current.change ?? previous.change;
  if (change !== undefined) merged.change = change;
  return merged;
}

function measureColumns(measure: Measure): string[] {
  if (measure.kind === 'metric') {
    const analysis = analyseMetricSql(measure.metric.sql);
    return analysis.ok ? analysis.references.map((reference) => reference.column.toLowerCase()) : [];
  }
  if (measure.kind === 'share') return measure.condition.map((filter) => filter.column.name.toLowerCase());
  return [];
}

/** The reading of each result column: a measure's style, else text (dimensions, names). */
function formatsOf(plan: Plan, columns: readonly string[]): string[] {
  if (plan.intent !== 'aggregate') return columns.map(() => 'text');
  const styles = plan.measures.map((measure) => styleOf(measure).kind);
  const dimensions = plan.dimensions.length;
  if (plan.change !== undefined) {
    // Each measure becomes value columns and a growth rate (a fraction).
    return columns.map((name, index) => (index < dimensions ? 'text' : name.endsWith('_change') ? 'percent' : (styles[0] ?? 'number')));
  }
  return columns.map((_, index) => (index < dimensions ? 'text' : ((styles[index - dimensions] ?? 'plain') === 'unit' || styles[index - dimensions] === 'plain' ? 'number' : (styles[index - dimensions] as string))));
}

/** The usual reasons for abstaining, said in Chinese; others are left as they are. */
function chineseReason(reason: string): string {
  const rules: [RegExp, (match: RegExpExecArray) => string][] = [
    [/^could not map (.+) to the data$/, (match) => `无法把 ${match[1]} 对应到数据中的表、列、取值或指标`],
    [/^did not understand the role of (.+) in the question$/, (match) => `不清楚 ${match[1]} 在问题中的作用`],
    [/^the question names nothing in the data/, () => '问题中没有提到数据里的任何表、列、取值或指标'],
    [/^"(.+)" could be a value of (.+)$/, (match) => `“${match[1]}”可能是 ${(match[2] ?? "").replaceAll(' or ', '、')} 中任一列的取值`],
    [/^"(.+)" could be (.+)$/, (match) => `“${match[1]}”可能指 ${(match[2] ?? "").replaceAll(' or ', '、')}`],
    [/^the data's (.+) runs from (.+) to (.+), so it has nothing for (.+)$/, (match) => `数据中的 ${match[1]} 只覆盖 ${match[2]} 至 ${match[3]}，没有 ${match[4]} 的数据`],
    [/^what should be counted or measured\?$/, () => '不清楚要统计或计算什么'],
    [/^a share of what\?/, () => '不清楚是什么的占比，请说明分组或条件，例如“女性用户占比”'],
  ];
  for (const [pattern, say] of rules) {
    const match = pattern.exec(reason);
    if (match !== null) return say(match);
  }
  return reason;
}

/**
 * `Is churn higher with paperless billing? Show the churn rate for …`: a yes/no question followed by the
 * request that answers it is the request.
 */
export function mainRequest(question: string): string {
  const sentences = question.split(/(?<=[?？。!！])\s*/).filter((sentence) => sentence.trim() !== '');
  if (sentences.length < 2) return question;
  const [first, ...rest] = sentences as [string, ...string[]];
  const yesNo = /^\s*(do|does|did|is|are|was|were|has|have|can|could|will)\b/i.test(first) || /[吗么][?？]?\s*$/.test(first);
  return yesNo ? rest.join(' ') : question;
}

/** A round bin width giving about ten bins between `low` and `high`. */
export function niceWidth(low: number, high: number): number {
  if (!Number.isFinite(low) || !Number.isFinite(high) || high <= low) return 1;
  const raw = (high - low) / 10;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= raw) return Number((step * magnitude).toPrecision(6));
  return 10 * magnitude;
}

function titleOf(plan: Plan, language: Language): string {
  if (plan.intent === 'aggregate') {
    const measures = plan.measures.map((measure) => measureLabel(measure, language)).join(', ');
    const by = plan.dimensions.map((dimension) => columnLabel(dimension.column, language)).join(language === 'zh' ? '、' : ', ');
    if (by === '') return measures;
    return language === 'zh' ? `按${by}的${measures}` : `${measures} by ${by}`;
  }
  if (plan.intent === 'histogram') return language === 'zh' ? `${columnLabel(plan.column.column, 'zh')}的分布` : `Distribution of ${columnLabel(plan.column.column, 'en')}`;
  if (plan.intent === 'correlation') return `${columnLabel(plan.x.column, language)} × ${columnLabel(plan.y.column, language)}`;
  return '';
}

/** Answers about the schema itself, without SQL. */
function describeRows(plan: Plan, schema: Dictionary, language: Language): { columns: string[]; rows: SqlValue[][] } {
  if (plan.intent === 'list_tables') {
    return { columns: ['table', 'description', 'columns'], rows: schema.tables.map((table) => [table.name, tableLabel(table, language), table.columns.length]) };
  }
  if (plan.intent === 'describe_table') {
    return {
      columns: ['column', 'type', 'description'],
      rows: plan.table.columns.map((column) => [column.name, column.type ?? null, column.description ?? columnLabel(column, language)]),
    };
  }
  if (plan.intent === 'describe_column') {
    const column = plan.column.column;
    return { columns: ['column', 'type', 'description', 'values'], rows: [[column.name, column.type ?? null, column.description ?? null, column.values.map((value) => value.value).join(', ')]] };
  }
  return { columns: [], rows: [] };
}

export { measureName };
