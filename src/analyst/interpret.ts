/**
 * From a question to a plan, with no model: the question's words are matched against the schema's
 * vocabulary and the keyword table (`matcher.ts`), resolved into slots (`slots.ts`), then read here
 * for their roles: what to measure, how to group, what to filter, which period, what order. Every
 * slot that carries meaning must find a role; a word that maps to nothing, or a slot left over, makes
 * the analyst abstain and say so, rather than answer a question it did not read.
 */
import type { ColumnEntry, Dictionary, MetricEntry, TableEntry, ValueEntry } from '../dictionary/dictionary.js';
import { analyseMetricSql } from '../dictionary/metric-references.js';
import type { Keyword } from './keywords.js';
import { tokenize, type Matcher } from './matcher.js';
import type { ChartType, ColumnRef, Dimension, Filter, Grain, Having, Measure, Plan } from './plan.js';
import { isMeasureColumn, isNumeric, isTemporal } from './schema.js';
import { hasKeyword, isStop, mentionedTables, settleValue, toSlots, type Slot, type SlotState, type ValueOption } from './slots.js';
import { hasHan, normalize } from './text.js';
import { calendarWindow, lastWindow, previousWeek, previousWindow, shiftWindow, thisWeek, thisWindow, type Window } from './time.js';
import { joinGraph, type JoinGraph } from './joins.js';

export interface InterpretContext {
  schema: Dictionary;
  matcher: Matcher;
  joins: JoinGraph;
  today: Date;
  /** The previous question's plan in this conversation, for follow-ups. */
  previous?: Plan;
}

/** What a follow-up keeps from the question before: read from the words, not the plan. */
export interface Cues {
  /** The measure was only the default count (no metric, aggregate, count or share word). */
  defaultMeasure: boolean;
  /** `再`, `also`, `细分`: add to the previous grouping rather than replace it. */
  also: boolean;
  /** Reads like a follow-up: `那…呢`, `what about`, `and by…`, `换成`, `只看`. */
  followUp: boolean;
}

export type Interpretation =
  | { status: 'planned'; plan: Plan; cues: Cues }
  | { status: 'abstained'; understood: string[]; unmapped: string[]; reason: string };

/** Why the analyst cannot go on; caught by `interpret` and turned into an abstention. */
class Abstain extends Error {
  constructor(
    readonly reason: string,
    readonly unmapped: string[] = [],
  ) {
    super(reason);
  }
}

/** English ordinals and `p90` as plain numbers before matching: `90th percentile` → `90 percentile`. */
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const monthPattern = /\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s+(?:of\s+)?(\d{4})\b/g;

function prepare(text: string): string {
  return text
    .replace(/\b(less than|more than|over|under|at least|at most|within|fewer than|longer than|shorter than) an? (year|month|week|day|quarter)\b/g, '$1 1 $2')
    .replace(monthPattern, (_match, month: string, year: string) => `${year}-${String(monthNames.indexOf(month.slice(0, 3)) + 1).padStart(2, '0')}`)
    .replace(/\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\b/g, (_match, which: string) => `q${['first', 'second', 'third', 'fourth'].indexOf(which) + 1 || which.charAt(0)}`)
    .replace(/\b(first|second)\s+half\s+(?:of\s+)?(\d{4})\b/g, (_match, which: string, year: string) => `${year}年${which === 'first' ? '上' : '下'}半年`)
    .replace(/\bq([1-4])\s+(?:of\s+)?(\d{4})\b/g, '$2 q$1')
    .replace(/\bp(\d{1,2})\b/g, '$1 percentile')
    .replace(/(\d+)(?:st|nd|rd|th)\b/g, '$1')
    .replace(/(\d+)-(month|year|day|week|dollar|usd|wide)/g, '$1 $2')
    .replace(/\$\s*(\d[\d.]*)/g, '$1 usd');
}

const metricTableCache = new WeakMap<MetricEntry, string[]>();
export function metricTables(metric: MetricEntry): string[] {
  let tables = metricTableCache.get(metric);
  if (tables === undefined) {
    const analysis = analyseMetricSql(metric.sql);
    tables = analysis.ok ? [...new Set(analysis.references.map((reference) => reference.table ?? '').filter((name) => name !== ''))] : [];
    metricTableCache.set(metric, tables);
  }
  return tables;
}

export function interpret(question: string, context: InterpretContext): Interpretation {
  const tokens = tokenize(context.matcher, prepare(normalize(question)));
  const reader = new Reader(toSlots(tokens), context);
  try {
    return reader.read();
  } catch (error) {
    if (!(error instanceof Abstain)) throw error;
    return { status: 'abstained', understood: reader.understood(), unmapped: error.unmapped, reason: error.reason };
  }
}

/** Single characters and English fragments that carry no meaning of their own when left over. */
const ignorableLeftovers = /^([量端限全同并集能拉一钱第的了吗呢吧啊呀么是都请把被让给对从向在和与及或还就也又再很更而且但如则那这哪谁怎用使得着过来去到上下中内外后里其每些个位名条笔次家种类项件多少几共总为按各占数值表列行哪]|[a-z]|'s|s)$/u;

const grainKeywords: [Keyword, Grain][] = [
  ['grain_day', 'day'],
  ['grain_week', 'week'],
  ['grain_month', 'month'],
  ['grain_quarter', 'quarter'],
  ['grain_year', 'year'],
];
const unitKeywords: [Keyword, Grain][] = [
  ['unit_day', 'day'],
  ['unit_week', 'week'],
  ['unit_month', 'month'],
  ['unit_quarter', 'quarter'],
  ['unit_year', 'year'],
];
const aggregateKeywords: [Keyword, Exclude<Measure & { kind: 'aggregate' }, never>['fn']][] = [
  ['avg', 'avg'],
  ['sum', 'sum'],
  ['min', 'min'],
  ['max', 'max'],
  ['median', 'median'],
  ['stddev', 'stddev'],
  ['variance', 'variance'],
  ['percentile', 'percentile'],
];
const chartKeywords: [Keyword, ChartType][] = [
  ['chart_bar', 'bar'],
  ['chart_line', 'line'],
  ['chart_pie', 'pie'],
  ['chart_scatter', 'scatter'],
  ['chart_histogram', 'histogram'],
];

class Reader {
  private readonly tables: Set<string>;
  private readonly dimensions: Dimension[] = [];
  private readonly filters: Filter[] = [];
  private readonly measures: Measure[] = [];
  private readonly having: Having[] = [];
  private order: { by: { measure: number }; direction: 'asc' | 'desc' } | undefined;
  private limit: number | undefined;
  private chart: ChartType | undefined;
  private change: Extract<Plan, { intent: 'aggregate' }>['change'];
  private readonly windows: Window[] = [];

  constructor(
    private readonly slots: SlotState[],
    private readonly context: InterpretContext,
  ) {
    this.tables = mentionedTables(slots, metricTables);
  }

  /** What was read, for an abstention's message. */
  understood(): string[] {
    const out: string[] = [];
    for (const { slot } of this.slots) {
      if (slot.kind === 'metric') out.push(`metric ${slot.metric.name}`);
      else if (slot.kind === 'column') out.push(`column ${slot.options.map((option) => `${option.table.name}.${option.column.name}`).join(' or ')}`);
      else if (slot.kind === 'value') out.push(`value ${slot.options.map((option) => `${option.column.name} = ${option.value.value}`).join(' or ')}`);
      else if (slot.kind === 'table') out.push(`table ${slot.options.map((table) => table.name).join(' or ')}`);
      else if (slot.kind === 'date') out.push(`date ${slot.text}`);
      else if (slot.kind === 'number') out.push(`number ${slot.value}`);
    }
    return [...new Set(out)];
  }

  read(): Interpretation {
    this.readRateSuffixes();
    const unmapped = this.slots
      .filter(({ slot }) => slot.kind === 'unknown' && !ignorableLeftovers.test(slot.text))
      .map(({ slot }) => slot.text);
    if (unmapped.length > 0) throw new Abstain(`could not map ${unmapped.map((text) => `"${text}"`).join(', ')} to the data`, unmapped);
    this.mergeNumberValues();
    if (!this.hasContent()) throw new Abstain('the question names nothing in the data (no table, column, value or metric)');
    this.readChart();

    const intent = this.readIntent();
    if (intent !== undefined) {
      this.checkAllUsed();
      return { status: 'planned', plan: intent, cues: this.cues(false) };
    }
    this.readTime();
    this.readGroups();
    this.readComparisons();
    this.readNulls();
    this.prepareValues();
    this.readCompareValues();
    this.readValueFilters();
    const rows = this.readRows();
    if (rows !== undefined) {
      this.checkAllUsed();
      return { status: 'planned', plan: rows, cues: this.cues(false) };
    }
    this.readMeasures();
    this.readMetricSubjects();
    this.readLeftoverDimensions();
    this.readDefaultMeasures();
    this.readOrdering();
    this.readRankLimit();
    this.readRankLimit();
    this.checkDirections();
    this.readHaving();
    this.readRestatedNumbers();
    this.useEntityDistinctKeys();
    this.checkAllUsed();
    return this.finish();
  }

  // ---------------------------------------------------------------- helpers

  private at(index: number): Slot | undefined {
    return this.slots[index]?.slot;
  }

  private use(...indexes: number[]): void {
    for (const index of indexes) {
      const state = this.slots[index];
      if (state !== undefined) state.used = true;
    }
  }

  private isUsed(index: number): boolean {
    return this.slots[index]?.used ?? true;
  }

  /** The next index after `index` that is not a stop word (or `among`, when asked). */
  private next(index: number, skip: Keyword[] = []): number {
    let at = index + 1;
    while (at < this.slots.length && (isStop(this.slots[at]) || this.slots[at]?.slot.kind === 'unknown' || skip.some((keyword) => hasKeyword(this.slots[at], keyword)))) at++;
    return at;
  }

  private previous(index: number, skip: Keyword[] = []): number {
    let at = index - 1;
    while (at >= 0 && (isStop(this.slots[at]) || this.slots[at]?.slot.kind === 'unknown' || skip.some((keyword) => hasKeyword(this.slots[at], keyword)))) at--;
    return at;
  }

  private indexesWith(keyword: Keyword): number[] {
    const out: number[] = [];
    this.slots.forEach((state, index) => {
      if (!state.used && hasKeyword(state, keyword)) out.push(index);
    });
    return out;
  }

  private has(keyword: Keyword): boolean {
    return this.slots.some((state) => hasKeyword(state, keyword));
  }

  /** One column for a column slot: the only option, or the one in a table already in play. */
  private columnOf(index: number): ColumnRef | undefined {
    const slot = this.at(index);
    if (slot?.kind !== 'column') return undefined;
    if (slot.options.length === 1) return slot.options[0];
    // `customer IDs in user_bills`: the table named right after says which.
    for (const at of [this.next(index), this.next(this.next(index))]) {
      const near = this.at(at);
      if (near?.kind !== 'table') continue;
      const named = slot.options.find((option) => near.options.includes(option.table));
      if (named !== undefined) return named;
    }
    const inPlay = slot.options.filter((option) => this.tables.has(option.table.name));
    if (inPlay.length === 1) return inPlay[0];
    const pool = inPlay.length > 0 ? inPlay : slot.options;
    // Several tables share the column (a key, a repeated attribute): the table the others point to.
    const hub = this.context.joins.hubOf(pool.map((option) => option.table));
    const chosen = pool.find((option) => option.table === hub);
    if (chosen !== undefined && new Set(pool.map((option) => option.column.name.toLowerCase())).size === 1) return chosen;
    throw new Abstain(`"${slot.text}" could be ${pool.map((option) => `${option.table.name}.${option.column.name}`).join(' or ')}`);
  }

  private numericColumnAt(index: number): ColumnRef | undefined {
    const slot = this.at(index);
    if (slot?.kind !== 'column' || this.isUsed(index)) return undefined;
    const column = this.columnOf(index);
    return column !== undefined && isNumeric(column.column) ? column : undefined;
  }

  private temporalColumn(): ColumnRef {
    const candidates: ColumnRef[] = [];
    for (const [index, state] of this.slots.entries()) {
      if (state.slot.kind !== 'column') continue;
      const column = this.columnOf(index);
      if (column !== undefined && isTemporal(column.column)) {
        this.use(index);
        return column;
      }
    }
    for (const table of this.context.schema.tables) {
      for (const column of table.columns) if (isTemporal(column)) candidates.push({ table, column });
    }
    const inPlay = candidates.filter((candidate) => this.tables.has(candidate.table.name));
    const pool = inPlay.length > 0 ? inPlay : candidates;
    if (pool.length === 1 && pool[0] !== undefined) return pool[0];
    if (pool.length === 0) throw new Abstain('the question asks about time, but the data has no date column');
    throw new Abstain(`the question asks about time, but there are several date columns (${pool.map((ref) => `${ref.table.name}.${ref.column.name}`).join(', ')}); name one`);
  }

  // ---------------------------------------------------------------- intents without aggregates

  private readChart(): void {
    for (const [index, state] of this.slots.entries()) {
      const found = chartKeywords.find(([keyword]) => hasKeyword(state, keyword));
      if (found === undefined) continue;
      // `histogram` is also a request for a histogram; the intent reader takes it when it applies.
      if (found[1] === 'histogram') continue;
      this.chart = found[1];
      this.use(index);
    }
    for (const index of this.indexesWith('replace')) this.use(index);
  }

  private columnsMentioned(): { index: number; ref: ColumnRef }[] {
    const out: { index: number; ref: ColumnRef }[] = [];
    this.slots.forEach((state, index) => {
      if (state.slot.kind === 'column' && !state.used) {
        const ref = this.columnOf(index);
        if (ref !== undefined) out.push({ index, ref });
      }
    });
    return out;
  }

  private tableMentioned(): { index: number; table: TableEntry } | undefined {
    for (const [index, state] of this.slots.entries()) {
      if (state.slot.kind !== 'table' || state.used) continue;
      const options = state.slot.options;
      const table = options.length === 1 ? options[0] : (options.find((option) => this.tables.has(option.name)) ?? this.context.joins.hubOf(options));
      if (table !== undefined) return { index, table };
    }
    return undefined;
  }

  private readIntent(): Plan | undefined {
    if (this.has('list_tables')) {
      this.indexesWith('list_tables').forEach((index) => this.use(index));
      this.slots.forEach((state, index) => {
        if (state.slot.kind === 'table' || hasKeyword(state, 'count') || hasKeyword(state, 'describe')) this.use(index);
      });
      return { intent: 'list_tables' };
    }
    // `distinct value count per column`, `每列有多少个不同的值`: a profile of the table's columns.
    if (this.has('distinct') && this.has('columns') && !this.has('missing') && this.tableMentioned() !== undefined && this.columnsMentioned().length === 0) {
      const table = this.tableMentioned() as { index: number; table: TableEntry };
      for (const keyword of ['distinct', 'columns', 'count', 'group', 'every', 'distinct_values'] as const) this.indexesWith(keyword).forEach((index) => this.use(index));
      this.use(table.index);
      return { intent: 'missing', table: table.table, columns: [], stat: 'distinct' };
    }
    if (this.has('missing')) {
      const marks = this.indexesWith('missing');
      const columns = this.columnsMentioned();
      const table = this.tableMentioned()?.table ?? columns[0]?.ref.table;
      if (table === undefined) throw new Abstain('which table should be checked for missing values?');
      this.use(...marks, ...columns.map((column) => column.index));
      const tableIndex = this.tableMentioned()?.index;
      if (tableIndex !== undefined) this.use(tableIndex);
      for (const keyword of ['count', 'group', 'columns', 'missing', 'null', 'every', 'rows'] as const) this.indexesWith(keyword).forEach((index) => this.use(index));
      return { intent: 'missing', table, columns: columns.map((column) => column.ref) };
    }
    if (this.has('duplicates')) {
      const marks = this.indexesWith('duplicates');
      const columns = this.columnsMentioned();
      const mentioned = this.tableMentioned();
      const table = columns[0]?.ref.table ?? mentioned?.table;
      if (table === undefined) throw new Abstain('which table should be checked for duplicates?');
      this.use(...marks, ...columns.map((column) => column.index));
      if (mentioned !== undefined) this.use(mentioned.index);
      this.indexesWith('count').forEach((index) => this.use(index));
      this.indexesWith('rows').forEach((index) => this.use(index));
      return { intent: 'duplicates', table, columns: columns.map((column) => column.ref) };
    }
    const describe = this.indexesWith('describe');
    const columnsWord = this.indexesWith('columns');
    if (describe.length > 0 || (columnsWord.length > 0 && this.columnsMentioned().length === 0 && this.tableMentioned() !== undefined)) {
      const columns = this.columnsMentioned();
      const table = this.tableMentioned();
      if (columns.length === 1 && columns[0] !== undefined && describe.length > 0) {
        this.use(...describe, ...columnsWord, columns[0].index);
        this.indexesWith('distinct_values').forEach((index) => this.use(index));
        if (table !== undefined) this.use(table.index);
        return { intent: 'describe_column', column: columns[0].ref };
      }
      if (table !== undefined && columns.length === 0) {
        this.use(...describe, ...columnsWord, table.index);
        this.indexesWith('count').forEach((index) => this.use(index));
        return { intent: 'describe_table', table: table.table };
      }
      if (describe.length > 0 && columns.length === 0 && table === undefined) {
        this.use(...describe);
        return { intent: 'list_tables' };
      }
    }
    if (this.has('correlation')) {
      const numeric = this.columnsMentioned().filter((column) => isNumeric(column.ref.column));
      if (numeric.length !== 2 || numeric[0] === undefined || numeric[1] === undefined) {
        throw new Abstain('a correlation needs exactly two numeric columns');
      }
      this.use(...this.indexesWith('correlation'), numeric[0].index, numeric[1].index);
      this.indexesWith('and').forEach((index) => this.use(index));
      this.indexesWith('between').forEach((index) => this.use(index));
      this.readTime();
      this.readComparisons();
      this.readValueFilters();
      return { intent: 'correlation', x: numeric[0].ref, y: numeric[1].ref, filters: this.filters, ...(this.chart === undefined ? {} : { chart: this.chart }) };
    }
    const histogram = this.indexesWith('histogram');
    if (histogram.length > 0) {
      const columns = this.columnsMentioned();
      const numeric = columns.filter((column) => isMeasureColumn(column.ref.table, column.ref.column));
      if (numeric.length === 1 && numeric[0] !== undefined && columns.length === 1 && !this.hasMeasureWords()) {
        this.use(...histogram, numeric[0].index);
        const width = this.readBinWidth(numeric[0].ref.column);
        this.readTime();
        this.readComparisons();
        this.readNulls();
        this.readValueFilters();
        return { intent: 'histogram', column: numeric[0].ref, width: width ?? 0, filters: this.filters, ...(this.chart === undefined ? {} : { chart: this.chart }) };
      }
      // The distribution of a category is its counts: read on as an aggregate grouped by it.
    }
    const listing = this.has('rows') && !this.hasMeasureWords() && this.columnsMentioned().length === 1 && this.slots.every(({ slot }) => slot.kind !== 'value' && slot.kind !== 'number' && slot.kind !== 'date');
    if ((this.has('distinct_values') || listing) && !this.hasMeasureWords()) {
      this.indexesWith('rows').forEach((index) => this.use(index));
      const columns = this.columnsMentioned();
      if (columns.length === 1 && columns[0] !== undefined) {
        this.use(...this.indexesWith('distinct_values'), columns[0].index);
        this.indexesWith('distinct').forEach((index) => this.use(index));
        this.readValueFilters();
        return { intent: 'distinct_values', column: columns[0].ref, filters: this.filters };
      }
    }
    return undefined;
  }

  /**
   * `离网率`, `无纸化率`: a value followed by 率 is the share of rows with that value; `环比增长率`: 率
   * after a growth word is that growth. Anywhere else an unread 率 makes the analyst abstain.
   */
  private readRateSuffixes(): void {
    for (const [index, state] of this.slots.entries()) {
      if (state.slot.kind !== 'unknown' || !/^[率比]$/.test(state.slot.text)) continue;
      const before = this.slots[index - 1];
      if (before?.slot.kind === 'value' && state.slot.text === '率') {
        this.slots[index] = { slot: { kind: 'keyword', keywords: ['share'], text: '率' }, used: false };
      } else if (before !== undefined && ['growth', 'yoy', 'mom'].some((keyword) => hasKeyword(before, keyword as Keyword))) {
        this.slots[index] = { slot: { kind: 'keyword', keywords: ['growth'], text: state.slot.text }, used: false };
      } else if (state.slot.text === '比') {
        // `2026年的收入比2025年…`: a comparison word, read with the growth or change it introduces.
        this.slots[index] = { slot: { kind: 'keyword', keywords: ['compare'], text: '比' }, used: false };
      }
    }
  }

  /**
   * `两年合同`, `1 year contracts`, `那 two year 的呢`: a number and a unit that together are a value's
   * name (One year, Two year) are that value, when its column is named beside them or the number has
   * no other role (no comparison, window or bin before it).
   */
  private mergeNumberValues(): void {
    for (let index = 0; index + 1 < this.slots.length; index++) {
      const number = this.at(index);
      const unit = this.at(index + 1);
      if (number?.kind !== 'number' || unit?.kind !== 'keyword' || !unitKeywords.some(([keyword]) => unit.keywords.includes(keyword))) continue;
      const text = hasHan(unit.text) ? `${number.text.trim()}${unit.text}` : `${number.text.trim()} ${unit.text}`;
      const entries = (this.context.matcher.vocabulary.surfaces.get(text) ?? []).filter((entry) => entry.meaning.kind === 'value');
      if (entries.length === 0) continue;
      const options: ValueOption[] = entries.map((entry) => {
        const meaning = entry.meaning as Extract<typeof entry.meaning, { kind: 'value' }>;
        return { table: meaning.table, column: meaning.column, value: meaning.value, strength: entry.strength };
      });
      const columns = new Set(options.map((option) => option.column));
      const next = this.at(this.next(index + 1));
      const besideColumn = next?.kind === 'column' && next.options.some((option) => columns.has(option.column));
      const before = this.slots[this.previous(index)];
      // `这两年`, `these two years`: the periods of the question before, not a value.
      if (['这', '这些', '那些', 'these', 'those', '近', '最近', '过去'].includes(this.slots[index - 1]?.slot.text ?? '')) {
        if (this.context.previous !== undefined) this.use(index - 1, index, index + 1);
        continue;
      }
      const hasRole = ['gt', 'gte', 'lt', 'lte', 'last', 'previous', 'this', 'every', 'top', 'bottom', 'between', 'range_to', 'percentile'].some((keyword) => hasKeyword(before, keyword as Keyword)) || this.at(index + 2)?.kind === 'number';
      if (!besideColumn && hasRole) continue;
      this.slots.splice(index, 2, { slot: { kind: 'value', options, negate: false, text }, used: false });
    }
  }

  /** Names something of the data, or asks something of a follow-up (a chart, a grain, an order). */
  private hasContent(): boolean {
    const followUps: Keyword[] = this.context.previous === undefined ? [] : ['highest', 'lowest', 'top', 'bottom', 'desc', 'asc', 'sort', 'unit_month', 'unit_quarter', 'unit_year'];
    const asks: Keyword[] = [...followUps, 'how_much', 'list_tables', 'describe', 'chart_bar', 'chart_line', 'chart_pie', 'chart_scatter', 'chart_histogram', 'grain_day', 'grain_week', 'grain_month', 'grain_quarter', 'grain_year', 'missing', 'duplicates'];
    return this.slots.some(({ slot }) => slot.kind === 'metric' || slot.kind === 'column' || slot.kind === 'value' || slot.kind === 'table' || slot.kind === 'date' || (slot.kind === 'keyword' && asks.some((keyword) => slot.keywords.includes(keyword))));
  }

  private hasMeasureWords(): boolean {
    return this.slots.some(
      (state) =>
        state.slot.kind === 'metric' ||
        ['avg', 'sum', 'median', 'stddev', 'variance', 'percentile', 'share', 'count'].some((keyword) => hasKeyword(state, keyword as Keyword)),
    );
  }

  /** `每20` / `20-month bands` / `bins of 10`: a bin width, in the column's unit. */
  private readBinWidth(column: ColumnEntry): number | undefined {
    for (const index of this.indexesWith('every')) {
      const at = this.next(index);
      const slot = this.at(at);
      if (slot?.kind === 'number') {
        this.use(index, at);
        const scaled = this.scaleByUnit(at, slot.value, column);
        this.indexesWith('bin').forEach((bin) => this.use(bin));
        return scaled;
      }
    }
    // `20 wide bins`, `bins 20 wide`: the number before `wide`.
    for (const index of this.indexesWith('every')) {
      if (this.slots[index]?.slot.text !== 'wide') continue;
      const at = this.previous(index, ['unit_money']);
      const slot = this.at(at);
      if (slot?.kind !== 'number' || this.isUsed(at)) continue;
      this.use(index, at);
      this.indexesWith('bin').forEach((bin) => this.use(bin));
      return slot.value;
    }
    for (const index of this.indexesWith('bin')) {
      for (const at of [this.previous(index, ['unit_month', 'unit_year', 'unit_day', 'unit_week']), this.next(index, ['every']), this.previous(this.previous(index))]) {
        const slot = this.at(at);
        if (slot?.kind === 'number' && !this.isUsed(at)) {
          this.use(index, at);
          this.indexesWith('every').forEach((every) => this.use(every));
          return this.scaleByUnit(at, slot.value, column);
        }
      }
    }
    return undefined;
  }

  /** A number followed by a unit: years given for a column in months become months, and so on. */
  private scaleByUnit(numberIndex: number, value: number, column: ColumnEntry): number {
    // `4 or more years`: the unit may follow a comparison word.
    const comparators: Keyword[] = ['gt', 'gte', 'lt', 'lte'];
    let unitIndex = numberIndex + 1;
    while (comparators.some((keyword) => hasKeyword(this.slots[unitIndex], keyword))) unitIndex++;
    const unit = unitKeywords.find(([keyword]) => hasKeyword(this.slots[unitIndex], keyword))?.[1];
    if (unit === undefined) return value;
    this.use(unitIndex);
    const columnUnit = (column.unit ?? '').toLowerCase();
    if (unit === 'year' && /month|月/.test(columnUnit)) return value * 12;
    if (unit === 'month' && /year|年/.test(columnUnit)) return value / 12;
    if (unit === 'year' && /day|天/.test(columnUnit)) return value * 365;
    return value;
  }

  // ---------------------------------------------------------------- time

  private readTime(): void {
    const today = this.context.today;
    for (const [index, state] of this.slots.entries()) {
      if (state.used) continue;
      const slot = state.slot;
      if (slot.kind === 'date') {
        const part: { month?: number; quarter?: number } = {};
        if (slot.month !== undefined) part.month = slot.month;
        if (slot.quarter !== undefined) part.quarter = slot.quarter;
        // `2025年3月` may be split as a year, then `3` and `月`.
        const after = this.at(index + 1);
        if (slot.month === undefined && slot.quarter === undefined && after?.kind === 'number' && hasKeyword(this.slots[index + 2], 'unit_month')) {
          part.month = after.value;
          this.use(index + 1, index + 2);
        }
        if (hasKeyword(this.slots[index + 1], 'unit_year')) this.use(index + 1);
        // `from 2022 through 2025`, `2022年到2025年`: whole years from one to another.
        const endYear = this.at(index + 2);
        if (part.month === undefined && part.quarter === undefined && hasKeyword(this.slots[index + 1], 'range_to') && endYear?.kind === 'date' && endYear.month === undefined && endYear.quarter === undefined && endYear.year > slot.year) {
          const from = calendarWindow(slot.year);
          const to = calendarWindow(endYear.year);
          this.windows.push({ from: from.from, to: to.to, label: `${from.from} – ${to.label.split(' – ')[1] ?? to.to}` });
          this.use(index, index + 1, index + 2);
          if (hasKeyword(this.slots[index + 3], 'unit_year')) this.use(index + 3);
          continue;
        }
        // `2026年8月到10月`, `2026年8月到2026年10月`: from one month to another.
        if (slot.month !== undefined && hasKeyword(this.slots[index + 1], 'range_to')) {
          const end = this.at(index + 2);
          const endMonth = end?.kind === 'date' && end.month !== undefined ? { year: end.year, month: end.month } : end?.kind === 'number' && hasKeyword(this.slots[index + 3], 'unit_month') ? { year: slot.year, month: end.value } : undefined;
          if (endMonth !== undefined && endMonth.month >= 1 && endMonth.month <= 12) {
            const from = calendarWindow(slot.year, { month: slot.month });
            const to = calendarWindow(endMonth.year, { month: endMonth.month });
            this.windows.push({ from: from.from, to: to.to, label: `${from.from} – ${to.label.split(' – ')[1] ?? to.to}` });
            this.use(index, index + 1, index + 2);
            if (end?.kind === 'number') this.use(index + 3);
            continue;
          }
        }
        // `2026年1到10月`: a range of months of that year.
        const low = this.at(index + 1);
        const high = this.at(index + 3);
        if (part.month === undefined && low?.kind === 'number' && hasKeyword(this.slots[index + 2], 'range_to') && high?.kind === 'number' && hasKeyword(this.slots[index + 4], 'unit_month')) {
          const from = calendarWindow(slot.year, { month: low.value });
          const to = calendarWindow(slot.year, { month: high.value });
          this.windows.push({ from: from.from, to: to.to, label: `${from.from} – ${to.label.split(' – ')[1] ?? to.to}` });
          this.use(index, index + 1, index + 2, index + 3, index + 4);
          continue;
        }
        // `2025年上半年` / `下半年`: the first or second half of that year.
        const half = this.slots[index + 1]?.slot.text;
        if (part.month === undefined && part.quarter === undefined && hasKeyword(this.slots[index + 1], 'half_year')) {
          const first = half === '上半年' || half === 'h1' || half === 'first half';
          const start = calendarWindow(slot.year, { month: first ? 1 : 7 });
          this.windows.push({ from: start.from, ...shiftEnd(start.from, 6) });
          this.use(index, index + 1);
          continue;
        }
        // `2026年前三个季度`: the first N periods of that year.
        const first = this.at(index + 2);
        const firstUnit = unitKeywords.find(([keyword]) => hasKeyword(this.slots[index + 3], keyword))?.[1];
        if (part.month === undefined && part.quarter === undefined && hasKeyword(this.slots[index + 1], 'top') && first?.kind === 'number' && (firstUnit === 'month' || firstUnit === 'quarter')) {
          const months = first.value * (firstUnit === 'quarter' ? 3 : 1);
          const year = calendarWindow(slot.year);
          this.windows.push({ ...year, ...shiftEnd(year.from, months) });
          this.use(index, index + 1, index + 2, index + 3);
          continue;
        }
        this.windows.push(calendarWindow(slot.year, part));
        this.use(index);
        continue;
      }
      if (hasKeyword(state, 'last')) {
        const numberIndex = this.next(index);
        const number = this.at(numberIndex);
        const unitIndex = number?.kind === 'number' ? this.next(numberIndex) : numberIndex;
        const unit = unitKeywords.find(([keyword]) => hasKeyword(this.slots[unitIndex], keyword))?.[1];
        if (unit !== undefined) {
          const count = number?.kind === 'number' ? number.value : 1;
          // `last year`, `上个月` without a number: the previous calendar period; `last 2 years`: 24 complete months.
          if (number?.kind !== 'number' && (unit === 'month' || unit === 'quarter' || unit === 'year')) this.windows.push(previousWindow(today, unit));
          else if (number?.kind !== 'number' && unit === 'week') this.windows.push(previousWeek(today));
          else this.windows.push(unit === 'year' ? lastWindow(today, count * 12, 'month') : lastWindow(today, count, unit));
          this.use(index, unitIndex);
          if (number?.kind === 'number') this.use(numberIndex);
          continue;
        }
      }
      if (hasKeyword(state, 'this') || hasKeyword(state, 'previous')) {
        const unitIndex = index + 1;
        // `不含本月` / `excluding this month`: complete periods already leave the current one out.
        if (hasKeyword(state, 'this') && hasKeyword(this.slots[this.previous(index)], 'not') && this.windows.length > 0) {
          this.use(this.previous(index), index, unitIndex);
          continue;
        }
        const unit = unitKeywords.find(([keyword]) => hasKeyword(this.slots[unitIndex], keyword))?.[1];
        if (unit === 'month' || unit === 'quarter' || unit === 'year') {
          this.windows.push(hasKeyword(state, 'this') ? thisWindow(today, unit) : previousWindow(today, unit));
          this.use(index, unitIndex);
        } else if (unit === 'week') {
          this.windows.push(hasKeyword(state, 'this') ? thisWeek(today) : previousWeek(today));
          this.use(index, unitIndex);
        }
      }
    }
    // `过去3个月（2026年8月到10月）`: the same period said twice is one.
    for (let index = this.windows.length - 1; index > 0; index--) {
      const window = this.windows[index] as Window;
      if (this.windows.slice(0, index).some((other) => other.from === window.from && other.to === window.to)) this.windows.splice(index, 1);
    }
    const yoy = this.indexesWith('yoy');
    const mom = this.indexesWith('mom');
    // `2025年的总收入比2024年增长了多少`: growth between two named periods is a change too.
    const twoPeriodGrowth = yoy.length === 0 && mom.length === 0 && this.windows.length === 2 && this.indexesWith('growth').length > 0;
    if (yoy.length > 0 || mom.length > 0 || twoPeriodGrowth) {
      const column = this.temporalColumn();
      // Two periods named (`Q3 2026 … Q3 2025`): the later against the earlier. More is not a comparison of two.
      const named = [...this.windows].sort((left, right) => left.from.localeCompare(right.from));
      if (named.length > 2) throw new Abstain('more than two periods for a change from one period to another; name the period and the one to compare with');
      const explicitPrevious = named.length === 2 && named[0]?.from !== named[1]?.from ? named[0] : undefined;
      if (named.length === 2) this.windows.length = 0;
      // `每年的收入以及同比增长率`: with a grain and no period named, every period against the one a year before.
      const everyPeriod = named.length === 0 && this.windows.length === 0 && this.slots.some((state) => grainKeywords.some(([keyword]) => hasKeyword(state, keyword)));
      const period = (named.length === 2 ? named[1] : this.windows.pop()) ?? (everyPeriod ? { from: '0001-01-01', to: '9999-12-31', label: 'every period' } : previousWindow(today, yoy.length > 0 ? 'year' : 'month'));
      const months = explicitPrevious !== undefined ? -monthsBetweenIso(explicitPrevious.from, period.from) : mom.length === 0 ? -12 : -monthsOf(period);
      const growth = this.indexesWith('growth');
      // `每个月的收入，以及同比增长率`: the value and its growth, both asked for.
      const growthAt = growth[0] ?? -1;
      const withValue =
        growthAt >= 0 &&
        this.slots.some((state, at) => {
          const connector = hasKeyword(state, 'and') || hasKeyword(state, 'also') || ['并', '并且', '还有', 'along with', 'together with', 'with'].includes(state.slot.text);
          if (at >= growthAt || !connector) return false;
          // `和2025年相比`: 和 before a period is "compared with", not "the value and its growth".
          const after = this.at(this.next(at));
          if (after?.kind === 'date' || (after?.kind === 'keyword' && (after.keywords.includes('previous') || after.keywords.includes('last') || after.keywords.includes('this')))) return false;
          const before = this.slots.slice(0, at).some((slot) => slot.slot.kind === 'metric' || slot.slot.kind === 'column' || hasKeyword(slot, 'how_much'));
          return before;
        });
      this.change = { kind: mom.length > 0 ? 'mom' : 'yoy', column, period, previous: shiftWindow(period, months), growthOnly: growth.length > 0, ...(withValue ? { withCurrent: true } : {}) };
      this.use(...yoy, ...mom, ...growth);
    }
    if (this.windows.length > 1) {
      // `2025年和2026年的逾期率`: the periods side by side, grouped at their own grain.
      const sorted = [...this.windows].sort((left, right) => left.from.localeCompare(right.from));
      const months = sorted.map(monthsOf);
      const contiguous = sorted.every((window, index) => index === 0 || window.from === sorted[index - 1]?.to);
      const grain: Grain | undefined = months.every((count) => count === 12) ? 'year' : months.every((count) => count === 3) ? 'quarter' : months.every((count) => count === 1) ? 'month' : undefined;
      if (!contiguous || grain === undefined) throw new Abstain('several periods that do not follow each other; ask for them one at a time');
      const column = this.temporalColumn();
      const first = sorted[0] as Window;
      const last = sorted[sorted.length - 1] as Window;
      this.filters.push({ kind: 'time', ...column, from: first.from, to: last.to, label: `${first.from} – ${last.label.split(' – ')[1] ?? last.to}` });
      this.addDimension({ ...column, grain });
      this.indexesWith('and').forEach((index) => this.use(index));
      this.indexesWith('compare').forEach((index) => this.use(index));
    } else if (this.windows.length === 1) {
      const column = this.temporalColumn();
      for (const window of this.windows) this.filters.push({ kind: 'time', ...column, ...window });
    }
  }

  // ---------------------------------------------------------------- grouping

  private addDimension(dimension: Dimension): void {
    const same = this.dimensions.find((existing) => existing.column === dimension.column);
    if (same === undefined) this.dimensions.push(dimension);
    this.tables.add(dimension.table.name);
  }

  private readGroups(): void {
    for (const [keyword, grain] of grainKeywords) {
      for (const index of this.indexesWith(keyword)) {
        this.use(index);
        this.addDimension({ ...this.temporalColumn(), grain });
      }
    }
    const trend = this.indexesWith('trend');
    if (trend.length > 0 && !this.dimensions.some((dimension) => dimension.grain !== undefined)) {
      this.use(...trend);
      this.addDimension({ ...this.temporalColumn(), grain: 'month' });
    } else {
      this.use(...trend);
    }
    // `是否老年`, `是否开通技术支持`, `whether they have phone service`: the flag's column groups.
    for (const index of this.indexesWith('whether')) {
      const at = this.next(index, ['have']);
      const slot = this.at(at);
      if (this.isUsed(at) || (slot?.kind !== 'value' && slot?.kind !== 'column')) continue;
      const ref = slot.kind === 'column' ? this.columnOf(at) : settleValue(this.slots, at, this.tables)[0];
      if (ref === undefined) continue;
      this.use(index, at);
      for (let between = index + 1; between < at; between++) this.use(between);
      // `是否开通技术支持`: the column may follow the value word.
      const after = this.next(at);
      if (this.at(after)?.kind === 'column' && this.columnOf(after)?.column === ref.column) this.use(after);
      const group = this.previous(index);
      if (hasKeyword(this.slots[group], 'group') || hasKeyword(this.slots[group], 'and')) this.use(group);
      this.addDimension({ table: ref.table, column: ref.column });
    }
    // `收入最高的三个月`, `which 5 months had the lowest revenue`, `哪个季度`: periods ranked.
    const ranks = this.slots.some((state) => ['highest', 'lowest', 'top', 'bottom', 'desc', 'asc'].some((keyword) => hasKeyword(state, keyword as Keyword)));
    if (ranks) {
      for (const [index, state] of this.slots.entries()) {
        const unit = unitKeywords.find(([keyword]) => hasKeyword(state, keyword))?.[1];
        if (unit === undefined || state.used) continue;
        const before = this.at(index - 1);
        const which = this.slots[index - 1]?.slot.text;
        // `12-month bins`: a number and unit that size a bin are not ranked periods.
        const sizesBin = [index + 1, index + 2, index - 2].some((at) => hasKeyword(this.slots[at], 'bin') || hasKeyword(this.slots[at], 'every'));
        if (sizesBin) continue;
        if (before?.kind === 'number' && !this.isUsed(index - 1)) {
          this.limit = before.value;
          this.use(index - 1, index);
        } else if (which !== undefined && /^(哪|哪个|哪一个|which|what)$/.test(which)) {
          this.limit = 1;
          this.use(index);
        } else {
          continue;
        }
        this.addDimension({ ...this.temporalColumn(), grain: unit });
      }
    }
    for (const index of this.indexesWith('group')) {
      let at = this.next(index);
      const target = this.at(at);
      // `for each of the last 3 months`: the periods of the window, one by one.
      if (hasKeyword(this.slots[at], 'last') && this.windows.length > 0) {
        const unitAt = this.slots.findIndex((state, position) => position > at && position <= at + 3 && unitKeywords.some(([keyword]) => hasKeyword(state, keyword)));
        const unit = unitAt < 0 ? undefined : unitKeywords.find(([keyword]) => hasKeyword(this.slots[unitAt], keyword))?.[1];
        if (unit !== undefined) {
          this.use(index);
          this.addDimension({ ...this.temporalColumn(), grain: unit });
          continue;
        }
      }
      // `paying by credit card`: `by` before a value is not a grouping.
      if (target?.kind === 'value' && this.slots[index]?.slot.text === 'by') {
        this.use(index);
        continue;
      }
      if (target?.kind === 'keyword' && grainKeywords.some(([keyword]) => target.keywords.includes(keyword))) {
        this.use(index);
        continue;
      }
      if (target?.kind === 'keyword' && unitKeywords.some(([keyword]) => target.keywords.includes(keyword)) && !this.isUsed(at)) {
        // `by month` written as `by` + `month`.
        const grain = unitKeywords.find(([keyword]) => target.keywords.includes(keyword))?.[1] as Grain;
        this.use(index, at);
        this.addDimension({ ...this.temporalColumn(), grain });
        continue;
      }
      // `按金额从高到低排序`, `sorted by amount`: `by` a measure column followed by an order is an order.
      const after = this.next(at);
      if (this.at(at)?.kind === 'column' && ['desc', 'asc', 'sort'].some((keyword) => hasKeyword(this.slots[after], keyword as Keyword))) {
        const column = this.columnOf(at);
        if (column !== undefined && isMeasureColumn(column.table, column.column)) {
          this.use(index, at);
          this.orderByColumn = column;
          continue;
        }
      }
      while (this.at(at)?.kind === 'column' && !this.isUsed(at)) {
        const column = this.columnOf(at);
        if (column === undefined) break;
        if (isMeasureColumn(column.table, column.column)) {
          // `by total charges`: bins when the question says so (`每1000一档`, `in bands`); with a ranking
          // (`top 5 customers by total charges`) it is what ranks, read later; otherwise it is unclear.
          const width = this.readBinWidth(column.column);
          const binned = width !== undefined || this.has('bin') || this.has('histogram');
          if (!binned) {
            if (this.slots.some((state) => ['highest', 'lowest', 'top', 'bottom', 'desc', 'asc', 'sort'].some((keyword) => hasKeyword(state, keyword as Keyword)))) {
              this.use(index);
              break;
            }
            throw new Abstain(`grouping by "${this.at(at)?.text ?? column.column.name}", a number, needs a band width, e.g. "in bands of 10"`);
          }
          this.use(index, at);
          this.addDimension({ ...column, bin: width ?? 0 });
        } else {
          this.use(index, at);
          this.addDimension(column);
        }
        const joiner = this.next(at);
        if (!hasKeyword(this.slots[joiner], 'and') && !hasKeyword(this.slots[joiner], 'group')) break;
        const after = this.next(joiner);
        const following = this.at(after);
        // `by gender and senior status`: a value word in the list stands for its column.
        if (following?.kind === 'value' && !following.negate) {
          const options = settleValue(this.slots, after, this.tables);
          if (new Set(options.map((option) => option.column)).size === 1 && options[0] !== undefined) {
            this.use(joiner, after);
            this.addDimension({ table: options[0].table, column: options[0].column });
          }
          break;
        }
        if (following?.kind !== 'column') break;
        this.use(joiner);
        at = after;
      }
    }
    // A numeric column with a bin width (`月费每20美元一档`, `12-month tenure bands`) is a binned dimension.
    if (this.indexesWith('bin').length > 0 || this.indexesWith('every').some((index) => this.at(this.next(index))?.kind === 'number')) {
      for (const { index, ref } of this.columnsMentioned()) {
        if (!isMeasureColumn(ref.table, ref.column)) continue;
        const width = this.readBinWidth(ref.column);
        if (width === undefined) break;
        this.use(index);
        this.addDimension({ ...ref, bin: width });
        break;
      }
    }
    // `X的分布` / `distribution of X` for a category: its counts.
    for (const index of this.indexesWith('histogram')) {
      for (const at of [this.previous(index), this.next(index, ['among'])]) {
        if (this.at(at)?.kind !== 'column' || this.isUsed(at)) continue;
        const column = this.columnOf(at);
        if (column === undefined) continue;
        this.use(index, at);
        this.addDimension(column);
        break;
      }
    }
    // Binned dimensions need a width; `0` marks one still to be chosen from the data.
  }

  // ---------------------------------------------------------------- filters

  private readComparisons(): void {
    const comparators: [Keyword, '>' | '>=' | '<' | '<=' | '='][] = [
      ['gte', '>='],
      ['lte', '<='],
      ['gt', '>'],
      ['lt', '<'],
      ['eq', '='],
    ];
    // Ranges first: `between 20 and 50`, `20到50之间`, `20-50`.
    for (const [index, state] of this.slots.entries()) {
      if (state.used || state.slot.kind !== 'number') continue;
      const low = state.slot;
      const joiner = index + 1;
      const highIndex = joiner + 1;
      const high = this.at(highIndex);
      if (high?.kind !== 'number' || this.isUsed(highIndex)) continue;
      if (!hasKeyword(this.slots[joiner], 'range_to') && !(hasKeyword(this.slots[joiner], 'and') && this.isBetweenContext(index))) continue;
      const subject = this.subjectNear(index);
      if (subject === undefined) continue;
      this.use(index, joiner, highIndex);
      this.useBetweenWords(index, highIndex);
      const lowValue = this.scaleByUnit(highIndex, low.value, subject.ref.column);
      const factor = lowValue / low.value || 1;
      this.filters.push({ kind: 'between', ...subject.ref, low: low.value * factor, high: high.value * factor });
    }
    for (const [index, state] of this.slots.entries()) {
      if (state.used) continue;
      const found = comparators.find(([keyword]) => hasKeyword(state, keyword));
      if (found === undefined) continue;
      // `超过80` (number after) or `80以上` (number before).
      let numberIndex = this.next(index);
      if (this.at(numberIndex)?.kind !== 'number' || this.isUsed(numberIndex)) {
        numberIndex = this.previous(index, ['unit_month', 'unit_year', 'unit_day', 'unit_week', 'percent_sign']);
        if (this.at(numberIndex)?.kind !== 'number' || this.isUsed(numberIndex)) continue;
      }
      const number = this.at(numberIndex) as Extract<Slot, { kind: 'number' }>;
      const op = found[1];
      const metric = this.metricBefore(Math.min(index, numberIndex));
      if (metric !== undefined) {
        this.use(index, numberIndex);
        if (hasKeyword(this.slots[numberIndex + 1], 'percent_sign')) this.use(numberIndex + 1);
        this.pendingHaving.push({ slotIndex: metric, op: op === '=' ? '>=' : op, value: number.percent || hasKeyword(this.slots[numberIndex + 1], 'percent_sign') ? number.value / 100 : number.value });
        continue;
      }
      const subject = this.subjectNear(Math.min(index, numberIndex));
      if (subject === undefined) continue;
      this.use(index, numberIndex);
      const value = this.scaleByUnit(numberIndex, number.value, subject.ref.column);
      if (hasKeyword(this.slots[numberIndex + 1], 'percent_sign')) this.use(numberIndex + 1);
      const filter: Filter = { kind: 'compare', ...subject.ref, op, value: number.percent ? value / 100 : value };
      this.filterPositions.set(filter, numberIndex);
      this.filters.push(filter);
    }
  }

  /** A measure column named only to order by (`按金额从高到低`); the order then follows its measure. */
  private orderByColumn: ColumnRef | undefined;

  /** Column slots an aggregate measures (another aggregate may measure them too). */
  private readonly measuredSlots = new Set<number>();

  /** Where each filter was named in the question (for telling a share's population from its condition). */
  readonly filterPositions = new Map<Filter, number>();

  /** Value slots made from `have` + a yes/no column, with whether the `have` was negated. */
  private readonly haveMarks = new Map<number, boolean>();

  private readonly pendingHaving: { slotIndex: number; op: '>' | '>=' | '<' | '<=' | '='; value: number }[] = [];

  private isBetweenContext(index: number): boolean {
    for (let at = index - 1; at >= Math.max(0, index - 3); at--) if (hasKeyword(this.slots[at], 'between')) return true;
    return false;
  }

  private useBetweenWords(low: number, high: number): void {
    for (let at = low - 1; at >= Math.max(0, low - 3); at--) if (hasKeyword(this.slots[at], 'between')) this.use(at);
    for (let at = high + 1; at <= high + 3; at++) {
      if (hasKeyword(this.slots[at], 'between') || unitKeywords.some(([keyword]) => hasKeyword(this.slots[at], keyword))) this.use(at);
    }
  }

  /** The numeric column a comparison is about: the nearest one before it, else right after, else by the number's unit. */
  private subjectNear(index: number): { index: number; ref: ColumnRef } | undefined {
    // `more than 24 months` / `超过80美元`: a number with a unit is about a column in that unit, even when
    // another column stands nearer (`total charges for customers with more than 24 months tenure`).
    for (const at of [index + 1, index + 2, index + 3]) {
      if (this.at(at - 1)?.kind !== 'number' && !(this.at(at - 2)?.kind === 'number' && ['a', 'per', 'each'].includes(this.slots[at - 1]?.slot.text ?? ''))) continue;
      if (this.isUsed(at)) continue;
      const byUnit = this.columnByUnit(at);
      if (byUnit === undefined) continue;
      const positional = this.peekSubject(index);
      if (positional === undefined || !sameUnitFamily(positional.column, byUnit.column)) {
        const slotAt = this.slots.findIndex((state, slot) => !state.used && state.slot.kind === 'column' && state.slot.options.some((option) => option.column === byUnit.column) && slot !== at);
        if (slotAt >= 0) this.use(slotAt);
        if (hasKeyword(this.slots[at], 'unit_money')) this.use(at);
        return { index: slotAt >= 0 ? slotAt : at, ref: byUnit };
      }
    }
    const found = this.subjectByPosition(index);
    if (found !== undefined) return found;
    for (const at of [index + 1, index + 2, index + 3]) {
      if (this.at(at - 1)?.kind !== 'number') continue;
      const ref = this.columnByUnit(at);
      if (ref !== undefined) {
        if (hasKeyword(this.slots[at], 'unit_money')) this.use(at);
        return { index: at, ref };
      }
    }
    return undefined;
  }

  /** The column `subjectByPosition` would take, without taking it. */
  private peekSubject(index: number): ColumnRef | undefined {
    for (let at = index - 1; at >= Math.max(0, index - 5); at--) {
      const ref = this.numericColumnAt(at);
      if (ref !== undefined) return ref;
      if (this.at(at)?.kind === 'number') break;
    }
    return undefined;
  }

  private subjectByPosition(index: number): { index: number; ref: ColumnRef } | undefined {
    for (let at = index - 1; at >= Math.max(0, index - 5); at--) {
      const ref = this.numericColumnAt(at);
      if (ref !== undefined) {
        this.use(at);
        return { index: at, ref };
      }
      if (this.at(at)?.kind === 'number') break;
    }
    for (let at = index + 1; at <= index + 4; at++) {
      const slot = this.at(at);
      if (slot?.kind === 'column' || slot?.kind === 'metric') {
        const ref = this.numericColumnAt(at);
        if (ref !== undefined) {
          this.use(at);
          return { index: at, ref };
        }
        break;
      }
    }
    return undefined;
  }

  private metricBefore(index: number): number | undefined {
    for (let at = index - 1; at >= Math.max(0, index - 3); at--) {
      const slot = this.at(at);
      if (slot?.kind === 'metric') return at;
      if (slot?.kind === 'keyword' && slot.keywords.includes('share')) return at;
      if (slot?.kind !== 'keyword') return undefined;
    }
    return undefined;
  }

  private readNulls(): void {
    for (const [index, state] of this.slots.entries()) {
      if (state.used) continue;
      const isNull = hasKeyword(state, 'null');
      const notNull = hasKeyword(state, 'not_null');
      if (!isNull && !notNull) continue;
      const before = this.previous(index, ['eq']);
      const after = this.next(index);
      const at = this.at(before)?.kind === 'column' && !this.isUsed(before) ? before : this.at(after)?.kind === 'column' && !this.isUsed(after) ? after : -1;
      if (at < 0) continue;
      const column = this.columnOf(at);
      if (column === undefined) continue;
      let negate = notNull;
      // `不为空` may be read as `不` + `为空`; `不算总费用为空的` negates the whole condition.
      for (const not of [this.previous(index), this.previous(Math.min(at, index))]) {
        if (hasKeyword(this.slots[not], 'not') && !this.isUsed(not)) {
          negate = !negate;
          this.use(not);
          break;
        }
      }
      this.use(index, at);
      if (hasKeyword(this.slots[before + 1], 'eq')) this.use(before + 1);
      this.filters.push({ kind: 'null', ...column, negate });
    }
  }

  /** `男性和女性对比`, `churned vs retained`, `老年和非老年`: two or more values of one column compared. */
  private readCompareValues(): void {
    const valueIndexes = this.slots.map((state, index) => (state.slot.kind === 'value' && !state.used ? index : -1)).filter((index) => index >= 0);
    const byColumn = new Map<ColumnEntry, { indexes: number[]; options: ValueOption[]; negated: boolean }>();
    for (const index of valueIndexes) {
      const options = settleValue(this.slots, index, this.tables);
      const columns = new Set(options.map((option) => option.column));
      const slot = this.at(index) as Extract<Slot, { kind: 'value' }>;
      if (columns.size !== 1) continue;
      const column = options[0]?.column as ColumnEntry;
      const entry = byColumn.get(column) ?? { indexes: [], options: [], negated: false };
      entry.indexes.push(index);
      // `有家属和没家属`, `流失的和没流失的`: a value and its negation compare the whole column.
      if (slot.negate) entry.negated = true;
      else entry.options.push(...options);
      byColumn.set(column, entry);
    }
    const comparing = this.has('compare');
    for (const { indexes, options, negated } of byColumn.values()) {
      // `留存（未流失）`: the same value said twice is one filter, not a comparison.
      if (indexes.length < 2 || options.length === 0 || (!negated && new Set(options.map((option) => option.value)).size < 2)) continue;
      // `A和B` compares when the question says so, or when the values are joined by `and` (not `or`).
      const joinedByAnd = indexes.slice(1).every((index, position) => {
        const between = this.slots.slice((indexes[position] ?? 0) + 1, index);
        // `男性用户和女性用户`: the people word repeated between the values does not break the comparison.
        return between.every((state) => state.used || isStop(state) || state.slot.kind === 'table' || hasKeyword(state, 'and') || hasKeyword(state, 'compare'));
      });
      if (!comparing && !joinedByAnd) continue;
      const first = options[0] as ValueOption;
      const values = [...new Set(options.map((option) => option.value))];
      this.use(...indexes);
      for (let at = (indexes[0] ?? 0) + 1; at < (indexes.at(-1) ?? 0); at++) if (hasKeyword(this.slots[at], 'and') || hasKeyword(this.slots[at], 'compare')) this.use(at);
      this.addDimension(negated ? { table: first.table, column: first.column } : { table: first.table, column: first.column, only: values });
    }
    // `开了技术支持的和没开的`: a value and its elided negation, joined by `and`, compare the column too.
    for (const [index, state] of this.slots.entries()) {
      if (state.used || state.slot.kind !== 'value' || state.slot.negate) continue;
      const joiner = this.next(index);
      if (!hasKeyword(this.slots[joiner], 'and')) continue;
      const not = this.next(joiner);
      if (!hasKeyword(this.slots[not], 'not')) continue;
      const rest = this.next(not, ['have']);
      if (this.at(rest)?.kind === 'column' || this.at(rest)?.kind === 'value') continue;
      const options = settleValue(this.slots, index, this.tables);
      if (new Set(options.map((option) => option.column)).size !== 1 || options[0] === undefined) continue;
      for (let at = index; at < rest; at++) if (!isStop(this.slots[at])) this.use(at);
      this.addDimension({ table: options[0].table, column: options[0].column });
    }
    // `with a partner vs. without one`, `有伴侣和没有的对比`: one value against its absence compares the column.
    if (comparing) {
      for (const [index, state] of this.slots.entries()) {
        if (state.used || state.slot.kind !== 'value' || state.slot.negate) continue;
        const after = this.slots.slice(index + 1, index + 6);
        if (!after.some((other) => hasKeyword(other, 'compare')) || !after.some((other) => hasKeyword(other, 'not'))) continue;
        if (after.some((other) => other.slot.kind === 'column' || other.slot.kind === 'value')) continue;
        const options = settleValue(this.slots, index, this.tables);
        if (new Set(options.map((option) => option.column)).size !== 1 || options[0] === undefined) continue;
        this.use(index);
        after.forEach((other, offset) => {
          if (hasKeyword(other, 'compare') || hasKeyword(other, 'not')) this.use(index + 1 + offset);
        });
        this.addDimension({ table: options[0].table, column: options[0].column });
      }
    }
    if (comparing) {
      // `对比` with a column (`compare by contract`) groups by it; the word itself is then read.
      for (const index of this.indexesWith('compare')) {
        const near = [this.next(index), this.previous(index)].find((at) => this.at(at)?.kind === 'column' && !this.isUsed(at));
        if (near !== undefined) {
          const column = this.columnOf(near);
          if (column !== undefined && !isMeasureColumn(column.table, column.column)) {
            this.use(near);
            this.addDimension(column);
          }
        }
        if (this.dimensions.length > 0) this.use(index);
      }
    }
  }

  /**
   * Columns that stand for one of their values become value slots: a word naming both a column and a
   * value (`流失`), a synonym containing a value's synonym (`老年用户`), and a yes/no column after
   * `有`/`have`/`with` (`有 dependents`, `customers who have tech support`) or its negation.
   */
  private prepareValues(): void {
    // `有和没有技术支持的用户`, `with vs without tech support`: the yes/no column compared.
    for (const [index, state] of this.slots.entries()) {
      if (state.used || !hasKeyword(state, 'have')) continue;
      const joiner = this.next(index);
      if (!hasKeyword(this.slots[joiner], 'and') && !hasKeyword(this.slots[joiner], 'compare')) continue;
      const not = this.next(joiner);
      if (!hasKeyword(this.slots[not], 'not')) continue;
      let at = this.next(not, ['have']);
      if (this.at(at)?.kind !== 'column') continue;
      const ref = this.columnOf(at);
      if (ref === undefined || affirmativeValue(ref) === undefined) continue;
      for (let used = index; used <= at; used++) if (!isStop(this.slots[used])) this.use(used);
      this.addDimension(ref);
      at++;
    }
    for (const [index, state] of this.slots.entries()) {
      const slot = state.slot;
      if (state.used || slot.kind !== 'column' || this.isGroupedAt(index)) continue;
      const had = this.haveBefore(index);
      if (had !== undefined) {
        const ref = this.columnOf(index);
        const affirmative = ref === undefined ? undefined : affirmativeValue(ref);
        if (ref !== undefined && affirmative === undefined && ref.column.values.length === 0) {
          // `customers with no total charges`, `有总费用的用户`: the column is (not) filled in.
          this.use(...had.indexes, index);
          this.filters.push({ kind: 'null', ...ref, negate: !had.negated });
          continue;
        }
        if (ref !== undefined && affirmative !== undefined) {
          this.use(...had.indexes);
          this.haveMarks.set(index, had.negated);
          const negate = had.negated !== affirmative.negate;
          this.slots[index] = { slot: { kind: 'value', options: [{ ...ref, value: affirmative.value, strength: 'synonym' }], negate, text: slot.text }, used: false };
          continue;
        }
      }
      if (slot.values.length > 0) {
        this.slots[index] = { slot: { kind: 'value', options: slot.values, negate: false, text: slot.text }, used: false };
        continue;
      }
      // `elderly customers`, `senior citizens` (a flag column, then the people it describes): those who are.
      const ref = this.columnOf(index);
      const affirmative = ref === undefined ? undefined : affirmativeValue(ref);
      const relative = ['who', 'that', 'which'].includes(this.slots[index - 1]?.slot.text ?? '');
      // A column a metric is defined on (`Churn for customers …`) is that metric's subject, not a filter.
      const measured = ref !== undefined && this.context.schema.metrics.some((metric) => {
        const analysis = analyseMetricSql(metric.sql);
        return analysis.ok && analysis.references.some((reference) => reference.column.toLowerCase() === ref.column.name.toLowerCase());
      });
      if (ref !== undefined && affirmative !== undefined && !measured && (this.at(this.next(index))?.kind === 'table' || relative) && !hasKeyword(this.slots[this.previous(index)], 'whether')) {
        // `宽带用户` (InternetService has no Yes, only No): those who are not No.
        this.slots[index] = { slot: { kind: 'value', options: [{ ...ref, value: affirmative.value, strength: 'synonym' }], negate: affirmative.negate, text: slot.text }, used: false };
        continue;
      }
      // `流媒体电视和流媒体电影都开通了`, `在线安全和在线备份都没开通`: the verb after the columns.
      const after = this.haveAfter(index);
      if (ref !== undefined && affirmative !== undefined && after !== undefined) {
        this.slots[index] = { slot: { kind: 'value', options: [{ ...ref, value: affirmative.value, strength: 'synonym' }], negate: after.negated !== affirmative.negate, text: slot.text }, used: false };
        continue;
      }
      const implied = this.impliedValue(index);
      if (implied !== undefined) this.slots[index] = { slot: { kind: 'value', options: [implied], negate: false, text: slot.text }, used: false };
    }
  }

  /**
   * `X和Y都开通了` / `X都没开通`: a `have` word after the column (past other flag columns joined by `and`),
   * and whether it is negated. The verb slots are read.
   */
  private haveAfter(index: number): { negated: boolean } | undefined {
    let at = this.next(index);
    while (hasKeyword(this.slots[at], 'and') || (this.at(at)?.kind === 'column' && !this.isUsed(at))) at = this.next(at);
    let negated = false;
    const marks: number[] = [];
    if (hasKeyword(this.slots[at], 'not')) {
      negated = true;
      marks.push(at);
      at = this.next(at);
    }
    // Chinese puts the verb after (`…都开通了`); an English `have` after a column starts a new clause.
    if (!hasKeyword(this.slots[at], 'have') || !hasHan(this.slots[at]?.slot.text ?? '')) return undefined;
    marks.push(at);
    // Only a verb that ends the clause (`…都开通了的用户`), not one that starts another (`…有伴侣`).
    const endsClause = ['的', '了'].includes(this.slots[at + 1]?.slot.text ?? '') || at + 1 >= this.slots.length;
    const after = this.at(this.next(at));
    if (!endsClause && (after?.kind === 'column' || after?.kind === 'value')) return undefined;
    this.use(...marks);
    return { negated };
  }

  /** `有`/`have`/`with` right before a column (stop words between), and whether `not`/`没有` negates it. */
  private haveBefore(index: number): { indexes: number[]; negated: boolean } | undefined {
    let at = this.previous(index);
    // `have both phone service and…`: `both` is read as `and`.
    if (hasKeyword(this.slots[at], 'and') && hasKeyword(this.slots[this.previous(at)], 'have')) {
      this.use(at);
      at = this.previous(at);
    }
    // `have both phone service and internet service`: the second column shares the first one's `have`.
    if (hasKeyword(this.slots[at], 'and')) {
      const before = this.previous(at);
      const slot = this.at(before);
      if (slot?.kind === 'value' && this.haveMarks.has(before)) return { indexes: [at], negated: this.haveMarks.get(before) ?? false };
    }

    if (at < 0 || this.isUsed(at)) return undefined;
    if (hasKeyword(this.slots[at], 'have') && !this.isUsed(at)) {
      const before = this.previous(at);
      const negated = hasKeyword(this.slots[before], 'not') && !this.isUsed(before);
      // `subscribe to neither X nor Y`: the negation after the verb.
      const after = this.next(at);
      if (!negated && hasKeyword(this.slots[after], 'not') && !this.isUsed(after) && after < index) return { indexes: [at, after], negated: true };
      return { indexes: negated ? [at, before] : [at], negated };
    }
    const notText = this.slots[at]?.slot.text ?? '';
    if (hasKeyword(this.slots[at], 'not') && (['没有', '没', 'without', 'no', '未', 'neither', 'nor', 'never', 'none of'].includes(notText) || notText.endsWith(' have') || notText.endsWith(' has'))) {
      return { indexes: [at], negated: true };
    }
    return undefined;
  }

  private readValueFilters(): void {
    for (const [index, state] of this.slots.entries()) {
      if (state.used) continue;
      const slot = state.slot;
      if (slot.kind !== 'value') continue;
      const options = settleValue(this.slots, index, this.tables);
      const columns = [...new Set(options.map((option) => option.column))];
      if (columns.length !== 1) {
        throw new Abstain(`"${slot.text}" could be a value of ${columns.map((column) => column.name).join(' or ')}`);
      }
      const first = options[0] as ValueOption;
      const values = [...new Set(options.map((option) => option.value))];
      this.use(index);
      // `在线安全和在线备份都没开通`: the value after a list of columns applies to each of them.
      let listed = this.previous(index);
      if (this.at(listed)?.kind === 'column' && (this.at(listed) as Extract<Slot, { kind: 'column' }>).options.some((option) => option.column === first.column)) {
        const joiner = this.previous(listed);
        listed = hasKeyword(this.slots[joiner], 'and') ? this.previous(joiner) : -1;
        if (listed >= 0 && this.at(listed)?.kind === 'column') this.use(joiner);
      }
      for (let at = listed; at >= 0 && this.at(at)?.kind === 'column' && !this.isUsed(at); ) {
        const named = (this.at(at) as Extract<Slot, { kind: 'column' }>).options.find((option) => option.column !== first.column && option.column.values.some((value) => values.some((wanted) => wanted.value === value.value)));
        if (named === undefined) break;
        this.use(at);
        this.filters.push({ kind: 'values', table: named.table, column: named.column, values: named.column.values.filter((value) => values.some((wanted) => wanted.value === value.value)), negate: slot.negate });
        const joiner = this.previous(at);
        if (!hasKeyword(this.slots[joiner], 'and')) break;
        this.use(joiner);
        at = this.previous(joiner);
      }
      const existing = this.filters.find((filter) => filter.kind === 'values' && filter.column === first.column && filter.negate === slot.negate);
      if (existing !== undefined && existing.kind === 'values') {
        for (const value of values) if (!existing.values.includes(value)) existing.values.push(value);
      } else {
        this.filters.push({ kind: 'values', table: first.table, column: first.column, values, negate: slot.negate });
      }
      this.tables.add(first.table.name);
      // The column named beside its value (`按月合同`, `合同类型为按月`, `contract is month-to-month`) is part of it.
      for (const at of [index - 1, index + 1, index - 2, index + 2]) {
        const near = this.at(at);
        if (near?.kind === 'column' && !this.isUsed(at) && near.options.some((option) => option.column === first.column)) {
          this.use(at);
          const between = Math.min(at, index) + 1;
          if (between < Math.max(at, index) && (hasKeyword(this.slots[between], 'eq') || isStop(this.slots[between]))) this.use(between);
          break;
        }
      }
      // `A或B` joins values of one column; `A和B` of one column would be a comparison, read before.
      const before = this.previous(index);
      if (existing !== undefined && hasKeyword(this.slots[before], 'or')) this.use(before);
      else if (existing !== undefined && !slot.negate) throw new Abstain(`two values of ${first.column.name} joined by "and": say whether to compare them or to take either`);
    }
    this.indexesWith('only').forEach((index) => this.use(index));
  }

  private isGroupedAt(index: number): boolean {
    const before = this.previous(index);
    return hasKeyword(this.slots[before], 'group') || hasKeyword(this.slots[this.next(index)], 'histogram');
  }

  /** `老年用户` names the SeniorCitizen column by a synonym that contains a value's synonym (`老年`). */
  private impliedValue(index: number): ValueOption | undefined {
    const slot = this.at(index);
    if (slot?.kind !== 'column' || this.isGroupedAt(index)) return undefined;
    const ref = this.columnOf(index);
    if (ref === undefined) return undefined;
    let found: { option: ValueOption; length: number } | undefined;
    for (const value of ref.column.values) {
      for (const synonym of value.synonyms) {
        const normal = normalize(synonym);
        if (normal.length >= 2 && normal.length < slot.text.length && slot.text.includes(normal) && (found === undefined || normal.length > found.length)) {
          found = { option: { ...ref, value, strength: 'synonym' }, length: normal.length };
        }
      }
    }
    return found?.option;
  }

  /**
   * `churn by contract`, `各合同类型的流失情况`: with groups named and nothing measured, a column that a
   * metric is defined on (Churn → churn_rate) stands for that metric.
   */
  private readMetricSubjects(): void {
    if (this.measures.length > 0 || this.dimensions.length === 0) return;
    for (const { index, ref } of this.columnsMentioned()) {
      const metric = this.context.schema.metrics.find((candidate) => {
        const analysis = analyseMetricSql(candidate.sql);
        return analysis.ok && analysis.references.some((reference) => reference.column.toLowerCase() === ref.column.name.toLowerCase() && reference.table?.toLowerCase() === ref.table.name.toLowerCase());
      });
      if (metric === undefined) continue;
      this.use(index);
      this.measures.push({ kind: 'metric', metric });
      return;
    }
  }

  /**
   * A category named without a grouping word still groups: `支付方式的流失率`, `流失率最高的3种支付方式`,
   * `which contract type has the highest churn rate`.
   */
  private readLeftoverDimensions(): void {
    const ranking = this.slots.some((state) => ['highest', 'lowest', 'top', 'bottom', 'desc', 'asc', 'sort'].some((keyword) => hasKeyword(state, keyword as Keyword)));
    for (const { index, ref } of this.columnsMentioned()) {
      if (isMeasureColumn(ref.table, ref.column)) continue;
      // A date column groups as it is only when periods are ranked (`逾期率最高的三个账单月份`).
      const measured = this.measures.length > 0 || this.columnsMentioned().some((other) => isMeasureColumn(other.ref.table, other.ref.column)) || this.has('how_much');
      if (isTemporal(ref.column) && !(ranking && measured)) continue;
      this.use(index);
      this.addDimension(ref);
    }
    // `账单总额最高的5个客户`: ranking an entity groups by its key.
    const ranks = this.slots.some((state) => ['highest', 'lowest', 'top', 'bottom'].some((keyword) => hasKeyword(state, keyword as Keyword)));
    const counted = this.slots.some((state) => state.slot.kind === 'number' && !state.used);
    const entity = this.tableMentioned();
    if (this.dimensions.length === 0 && ranks && counted && this.measures.length > 0 && entity !== undefined && entity.table.primaryKey.length === 1) {
      const key = entity.table.columns.find((column) => column.name === entity.table.primaryKey[0]);
      if (key !== undefined) {
        this.use(entity.index);
        this.addDimension({ table: entity.table, column: key });
      }
    }
  }

  // ---------------------------------------------------------------- rows

  /** `月费最高的10个用户`, `top 5 customers by monthly charges`: rows of a table, not an aggregate. */
  private readRows(): Plan | undefined {
    if (this.dimensions.length > 0 || this.hasMeasureWords()) return undefined;
    const table = this.tableMentioned();
    const ordering = this.slots.findIndex((state) => !state.used && ['highest', 'lowest', 'top', 'bottom'].some((keyword) => hasKeyword(state, keyword as Keyword)));
    const listing = this.indexesWith('rows');
    if (ordering < 0 && listing.length === 0) return undefined;
    const numeric = this.columnsMentioned().filter((column) => isMeasureColumn(column.ref.table, column.ref.column));
    const numberIndex = this.slots.findIndex((state) => !state.used && state.slot.kind === 'number');
    if (ordering >= 0 && (numeric.length !== 1 || numberIndex < 0)) return undefined;
    const base = table?.table ?? numeric[0]?.ref.table ?? this.filters[0]?.table;
    if (base === undefined) return undefined;
    const keys = base.primaryKey.map((name) => base.columns.find((column) => column.name === name)).filter((column): column is ColumnEntry => column !== undefined);
    const columns: ColumnRef[] = keys.map((column) => ({ table: base, column }));
    let order: { column: ColumnRef; direction: 'asc' | 'desc' } | undefined;
    if (ordering >= 0 && numeric[0] !== undefined) {
      const keyword = this.at(ordering) as Extract<Slot, { kind: 'keyword' }>;
      order = { column: numeric[0].ref, direction: keyword.keywords.includes('lowest') || keyword.keywords.includes('bottom') ? 'asc' : 'desc' };
      columns.push(numeric[0].ref);
      this.use(ordering, numeric[0].index);
    }
    for (const filter of this.filters) if (filter.kind !== 'time' && !columns.some((column) => column.column === filter.column)) columns.push(filter);
    // `最低的5个（不含空值）`, `leaving out those with no total charges`: the ordered column's nulls are left out.
    const nulls = [...this.indexesWith('null'), ...this.indexesWith('missing')].filter((index) => [index - 1, index - 2].some((at) => hasKeyword(this.slots[at], 'not')));
    if (order !== undefined && nulls.length > 0) {
      this.filters.push({ kind: 'null', ...order.column, negate: true });
      for (const index of nulls) this.use(index, index - 1, index - 2);
    }
    const limit = numberIndex >= 0 ? (this.at(numberIndex) as Extract<Slot, { kind: 'number' }>).value : 100;
    if (numberIndex >= 0) this.use(numberIndex);
    this.use(...listing);
    if (table !== undefined) this.use(table.index);
    return { intent: 'rows', table: base, columns, filters: this.filters, ...(order === undefined ? {} : { order }), limit, ...(this.chart === undefined ? {} : { chart: this.chart }) };
  }

  // ---------------------------------------------------------------- measures

  private readMeasures(): void {
    this.slots.forEach((state, index) => {
      if (state.slot.kind === 'metric' && !state.used && !this.pendingHaving.some((having) => having.slotIndex === index)) {
        this.measures.push({ kind: 'metric', metric: state.slot.metric });
        this.use(index);
      }
    });
    const hasGroups = this.dimensions.length > 0 || this.columnsMentioned().some(({ ref }) => !isMeasureColumn(ref.table, ref.column) && !isTemporal(ref.column));
    // In the order written, so that `月费的最小值、最大值和平均值` binds the later words to the column the
    // first one took.
    const aggregateWords = aggregateKeywords.flatMap(([keyword, fn]) => this.indexesWith(keyword).map((index) => ({ index, fn }))).sort((left, right) => left.index - right.index);
    {
      for (const { index, fn } of aggregateWords) {
        if (this.isUsed(index)) continue;
        let column = this.aggregateTarget(index) ?? this.aggregateTarget(index, true);
        if (column === undefined) {
          // `平均在网多少个月`, `on average, how many months`: the column measured in that unit.
          // `平均在网多少个月`, `how many months on average`: a unit asked for by `how many`, not one merely named.
          const unitAt = this.slots.findIndex((state, at) => !state.used && unitKeywords.some(([keyword]) => hasKeyword(state, keyword)) && hasKeyword(this.slots[this.previous(at)], 'count') && this.columnByUnit(at) !== undefined);
          const ref = unitAt >= 0 ? this.columnByUnit(unitAt) : undefined;
          if (ref !== undefined) {
            column = { index: unitAt, ref };
            this.indexesWith('count').forEach((count) => this.use(count));
          } else {
            // `average bill`, `平均每张账单`: a table with one measure column stands for it.
            const tableAt = [this.next(index), this.previous(index)].find((at) => this.at(at)?.kind === 'table');
            const table = tableAt === undefined ? undefined : (this.at(tableAt) as Extract<Slot, { kind: 'table' }>).options[0];
            const measures = table === undefined ? [] : table.columns.filter((candidate) => isMeasureColumn(table, candidate));
            if (table === undefined || tableAt === undefined || measures.length !== 1) continue;
            column = { index: tableAt, ref: { table, column: measures[0] as ColumnEntry } };
          }
        }
        if (fn === 'percentile') {
          for (const percentile of this.percentilesNear(index)) this.measures.push({ kind: 'aggregate', fn, table: column.ref.table, column: column.ref.column, percentile });
        } else {
          this.measures.push({ kind: 'aggregate', fn, table: column.ref.table, column: column.ref.column });
        }
        this.measuredSlots.add(column.index);
        this.use(index, column.index);
      }
    }
    // `最高月费` with no groups is the maximum; with groups, `最高` orders instead (readOrdering).
    if (!hasGroups) {
      for (const [keyword, fn] of [['highest', 'max'], ['lowest', 'min']] as const) {
        for (const index of this.indexesWith(keyword)) {
          // `月费的最高值和最低值`: both words on one column.
          const column = this.aggregateTarget(index) ?? this.aggregateTarget(index, true);
          if (column === undefined) continue;
          this.measuredSlots.add(column.index);
          this.use(index, column.index);
          this.measures.push({ kind: 'aggregate', fn, table: column.ref.table, column: column.ref.column });
        }
      }
    }
    // `多少种支付方式`, `number of distinct customers`.
    for (const index of this.indexesWith('distinct')) {
      const at = [this.next(index, ['count']), this.previous(index, ['count'])].find((candidate) => this.at(candidate)?.kind === 'column' && !this.isUsed(candidate));
      if (at === undefined) {
        // `多少个不同的客户`: distinct rows of an entity are its distinct keys.
        const tableAt = this.next(index, ['count']);
        const slot = this.at(tableAt);
        const table = slot?.kind === 'table' && !this.isUsed(tableAt) ? slot.options[0] : undefined;
        const key = table !== undefined && table.primaryKey.length === 1 ? table.columns.find((column) => column.name === table.primaryKey[0]) : undefined;
        if (table === undefined || key === undefined) continue;
        this.use(index, tableAt);
        this.indexesWith('count').forEach((count) => this.use(count));
        this.measures.push({ kind: 'aggregate', fn: 'count_distinct', table, column: key });
        continue;
      }
      const column = this.columnOf(at);
      if (column === undefined) continue;
      this.use(index, at);
      this.indexesWith('count').forEach((count) => this.use(count));
      this.measures.push({ kind: 'aggregate', fn: 'count_distinct', table: column.table, column: column.column });
    }
    this.readHowMuch();
    this.readReplacedMeasures();
    this.readDateRange();
  }

  /** `账单覆盖的时间范围`, `最早和最晚的账单月份`, `earliest bill month`: first and last dates. */
  private readDateRange(): void {
    const range = this.indexesWith('date_range');
    const ends = [...this.indexesWith('min'), ...this.indexesWith('max')].filter((index) => {
      const near = [this.next(index), this.next(this.next(index)), this.previous(index)];
      return near.some((at) => this.at(at)?.kind === 'column' && this.columnOf(at) !== undefined && isTemporal((this.columnOf(at) as ColumnRef).column));
    });
    if (range.length === 0 && ends.length === 0) return;
    const column = this.temporalColumn();
    this.use(...range, ...ends);
    this.slots.forEach((state, index) => {
      if (state.slot.kind === 'column' && state.slot.options.some((option) => option.column === column.column)) this.use(index);
    });
    this.indexesWith('and').forEach((index) => this.use(index));
    const wantsMin = range.length > 0 || ends.some((index) => hasKeyword(this.slots[index], 'min'));
    const wantsMax = range.length > 0 || ends.some((index) => hasKeyword(this.slots[index], 'max'));
    if (wantsMin) this.measures.push({ kind: 'aggregate', fn: 'min', table: column.table, column: column.column });
    if (wantsMax) this.measures.push({ kind: 'aggregate', fn: 'max', table: column.table, column: column.column });
  }

  /**
   * A count of distinct entity keys grouped by a finer table's column (`distinct customers billed each
   * month`) counts that table's link to the entity, so that the grouping does not fan out.
   */
  private useEntityDistinctKeys(): void {
    for (const [position, measure] of this.measures.entries()) {
      if (measure.kind !== 'aggregate' || measure.fn !== 'count_distinct' || measure.column === undefined) continue;
      if (!measure.table.primaryKey.includes(measure.column.name)) continue;
      const finer = [...this.dimensions.map((dimension) => dimension.table), ...this.filters.filter((filter) => filter.kind !== 'exists').map((filter) => filter.table)].find((table) => table !== measure.table && this.context.joins.isFactTable(table));
      if (finer === undefined) continue;
      const edge = this.context.joins.path(finer, measure.table)?.[0];
      const link = edge === undefined ? undefined : finer.columns.find((column) => column.name === edge.fromColumns[0]);
      if (link !== undefined) this.measures[position] = { kind: 'aggregate', fn: 'count_distinct', table: finer, column: link };
    }
  }

  /**
   * After groups are known: a share, numeric columns named without an aggregate (the average of an
   * attribute, the sum of a fact), and the count that `how many` or nothing at all asks for.
   */
  private readDefaultMeasures(): void {
    // `增长了百分之多少`: with a growth rate asked, "what percent" is how the growth is read.
    if (this.change?.growthOnly === true) this.indexesWith('share').forEach((index) => this.use(index));
    const explicit = this.measures.length > 0;
    for (const { index, ref } of this.columnsMentioned()) {
      if (!isMeasureColumn(ref.table, ref.column)) continue;
      // Beside measures already asked for, a bare number column is only another measure when it is
      // listed with them (`流失率和月费`); otherwise (`给出类型和金额`) it is not clear what to compute.
      if (explicit) {
        const joiner = this.previous(index);
        const listed = hasKeyword(this.slots[joiner], 'and') && ['metric', 'column'].includes(this.at(this.previous(joiner))?.kind ?? '') && this.isUsed(this.previous(joiner)) && this.measuredOrMetric(this.previous(joiner));
        if (!listed && this.indexesWith('share').length === 0) throw new Abstain(`"${this.at(index)?.text ?? ref.column.name}" is named beside the measure, but not what to compute with it`);
      }
      this.use(index);
      this.measures.push({ kind: 'aggregate', fn: this.context.joins.isFactTable(ref.table) ? 'sum' : 'avg', table: ref.table, column: ref.column });
    }
    const share = this.indexesWith('share');
    if (share.length > 0) {
      this.use(...share);
      this.measures.push(this.shareMeasure(share[0] ?? 0));
      this.indexesWith('among').forEach((index) => this.use(index));
    }
    this.readExists();
    const counts = this.indexesWith('count');
    const entity = this.tableMentioned();
    // `多少个用户` counts users even beside other measures; a bare `多少` (`分别是多少`) asks for the others.
    const countsEntity = entity !== undefined && counts.some((index) => this.next(index) === entity.index || this.next(entity.index) === index);
    this.use(...counts);
    if (this.measures.length === 0 || countsEntity) {
      if (entity !== undefined) this.use(entity.index);
      const table = entity?.table ?? this.countTable();
      if (table === undefined) throw new Abstain('what should be counted or measured?');
      this.defaultMeasure = counts.length === 0;
      this.measures.push({ kind: 'aggregate', fn: 'count', table });
    }
    // Whatever table is still named sets what is counted, and is otherwise read.
    const left = this.tableMentioned();
    if (left !== undefined) this.use(left.index);
    // A table named again (`the late payment rate for churned customers`) is read with its first mention.
    const inPlay = new Set([...this.measures.map((measure) => measureTableName(measure)), ...this.dimensions.map((dimension) => dimension.table.name), ...this.filters.map((filter) => filter.table.name), ...this.tables]);
    this.slots.forEach((state, index) => {
      if (state.slot.kind === 'table' && !state.used && state.slot.options.some((table) => inPlay.has(table.name))) this.use(index);
    });
    if (this.dimensions.some((dimension) => dimension.bin !== undefined)) this.indexesWith('histogram').forEach((index) => this.use(index));
  }

  /**
   * Two tables named for one count (`customers who have no bills`, `在用户信息表里却不在付费信息表里`):
   * the first is counted, the others are conditions of having (or not having) rows there.
   */
  private readExists(): void {
    if (this.measures.some((measure) => !(measure.kind === 'aggregate' && (measure.fn === 'count' || measure.fn === 'count_distinct')))) {
      this.readExistenceClauses();
      return;
    }
    const tables = this.slots.map((state, index) => ({ state, index })).filter(({ state }) => state.slot.kind === 'table' && !state.used);
    const counted = this.measures[0]?.kind === 'aggregate' ? this.measures[0].table : undefined;
    if (tables.length < (counted === undefined ? 2 : 1)) return;
    const first = counted === undefined ? tables.shift() : undefined;
    const others = tables;
    const entity = counted ?? (first?.state.slot.kind === 'table' ? first.state.slot.options[0] : undefined);
    if (entity === undefined) return;
    for (const other of others) {
      if (other.state.slot.kind !== 'table') continue;
      const table = other.state.slot.options.find((option) => option !== entity);
      if (table === undefined) continue;
      const path = this.context.joins.path(entity, table);
      const edge = path?.[path.length - 1];
      if (path === undefined || edge === undefined) continue;
      let negate = false;
      // `没有账单的用户`, `customers with no bills`, `一张账单都没有`: a negation on either side.
      for (const at of [other.index - 1, other.index - 2, other.index - 3, other.index + 1, other.index + 2]) {
        if (at >= 0 && hasKeyword(this.slots[at], 'not') && !this.isUsed(at)) {
          negate = true;
          this.use(at);
          break;
        }
      }
      const column = table.columns.find((candidate) => candidate.name === edge.toColumns[0]);
      if (column === undefined) continue;
      this.use(other.index);
      this.filters.push({ kind: 'exists', table, column, negate });
    }
  }

  /**
   * Beside other measures, a table named as something had (`customers with at least one bill`,
   * `有账单记录的客户`, `without bills`) is a condition of having rows there.
   */
  private readExistenceClauses(): void {
    const base = this.context.joins.hubOf(this.context.schema.tables);
    for (const [index, state] of this.slots.entries()) {
      if (state.used || state.slot.kind !== 'table') continue;
      const table = state.slot.options[0];
      if (table === undefined || table === base || !this.context.joins.isFactTable(table)) continue;
      const before = [this.previous(index), this.previous(this.previous(index))];
      const had = before.some((at) => hasKeyword(this.slots[at], 'have')) || ['记录', '记录的'].includes(this.slots[index + 1]?.slot.text ?? '');
      const negated = before.some((at) => hasKeyword(this.slots[at], 'not'));
      if (!had && !negated) continue;
      const edge = base === undefined ? undefined : this.context.joins.path(base, table)?.at(-1);
      const column = edge === undefined ? undefined : table.columns.find((candidate) => candidate.name === edge.toColumns[0]);
      if (column === undefined) continue;
      for (const at of [index, ...before]) if (at >= 0 && (hasKeyword(this.slots[at], 'have') || hasKeyword(this.slots[at], 'not') || at === index)) this.use(at);
      this.filters.push({ kind: 'exists', table, column, negate: negated });
    }
  }

  /** `how much did we bill`: the sum of the one money column of the table named (or in play). */
  private readHowMuch(): void {
    for (const index of this.indexesWith('how_much')) {
      if (this.measures.length > 0) {
        this.use(index);
        continue;
      }
      const entity = this.tableMentioned();
      const inPlay = new Set([...this.tables, ...this.filters.map((filter) => filter.table.name), ...this.dimensions.map((dimension) => dimension.table.name)]);
      const tables = entity !== undefined ? [entity.table] : this.context.schema.tables.filter((table) => inPlay.has(table.name));
      const money = tables.flatMap((table) => table.columns.filter((column) => isMeasureColumn(table, column) && /usd|\$|元|cny|rmb|eur|dollar/i.test(column.unit ?? '')).map((column) => ({ table, column })));
      const facts = money.filter((ref) => this.context.joins.isFactTable(ref.table));
      const pool = facts.length > 0 ? facts : money;
      if (pool.length !== 1 || pool[0] === undefined) continue;
      this.use(index);
      if (entity !== undefined) this.use(entity.index);
      this.measures.push({ kind: 'aggregate', fn: 'sum', table: pool[0].table, column: pool[0].column });
    }
  }

  /** `平均月费换成流失率`: the measure before `换成` is the one being replaced. */
  private readReplacedMeasures(): void {
    const replace = this.slots.findIndex((state) => hasKeyword(state, 'replace'));
    if (replace < 0 || this.measures.length < 2) return;
    const before = this.slots.slice(0, replace).filter((state) => state.slot.kind === 'metric' || state.slot.kind === 'column');
    if (before.length === 0) return;
    // The first measure was named before the word: drop it.
    this.measures.shift();
  }

  /**
   * The nearest numeric column to an aggregate word: after it first, then before. With `shared`, a
   * column another aggregate or a filter already uses (`月费的最小值、最大值和平均值`).
   */
  private aggregateTarget(index: number, shared = false): { index: number; ref: ColumnRef } | undefined {
    const numericAt = (at: number): ColumnRef | undefined => {
      if (!shared) return this.numericColumnAt(at);
      const slot = this.at(at);
      // Only a column another aggregate took (`最小值、最大值和平均值`), not one a filter took (`总费用超过5000`).
      if (slot?.kind !== 'column' || !this.measuredSlots.has(at)) return undefined;
      const ref = this.columnOf(at);
      return ref !== undefined && isNumeric(ref.column) ? ref : undefined;
    };
    const reach = shared ? 8 : 4;
    for (let at = index + 1; at <= Math.min(this.slots.length - 1, index + reach); at++) {
      if (isStop(this.slots[at]) || hasKeyword(this.slots[at], 'among') || hasKeyword(this.slots[at], 'distinct')) continue;
      const ref = numericAt(at);
      if (ref !== undefined) return { index: at, ref };
      if (this.at(at)?.kind === 'column' || this.at(at)?.kind === 'metric') break;
    }
    for (let at = index - 1; at >= Math.max(0, index - reach); at--) {
      if (isStop(this.slots[at])) continue;
      const ref = numericAt(at);
      if (ref !== undefined) return { index: at, ref };
      if (this.at(at)?.kind === 'column' || this.at(at)?.kind === 'metric') break;
    }
    return undefined;
  }

  /**
   * The one measure column a unit word points to: a time unit (`how many months`, `more than 5 years`)
   * to the column measured in time, `$`/`美元` to a money column (`a month` after it: the monthly one).
   */
  private columnByUnit(index: number): ColumnRef | undefined {
    const slot = this.slots[index];
    // `70 a month`, `每月80`: an amount per month is money, paid monthly, not a duration.
    const perMonth = hasKeyword(slot, 'unit_month') && ['a', 'per', 'each', '每'].includes(this.slots[index - 1]?.slot.text ?? '');
    if (perMonth) {
      const monthly = this.context.schema.tables.flatMap((table) =>
        table.columns
          .filter((column) => isMeasureColumn(table, column) && /usd|\$|元|cny|rmb|eur|dollar/i.test(column.unit ?? '') && (/month/i.test(column.name) || column.synonyms.some((synonym) => /月|month/i.test(synonym))))
          .map((column) => ({ table, column })),
      );
      if (monthly.length === 1) {
        this.use(index, index - 1);
        return monthly[0];
      }
    }
    const money = hasKeyword(slot, 'unit_money');
    const unit = unitKeywords.find(([keyword]) => hasKeyword(slot, keyword))?.[1];
    if (!money && unit === undefined) return undefined;
    const timeUnit = /^(day|days|天|week|weeks|周|month|months|月|quarter|quarters|季度|year|years|年)$/i;
    const moneyUnit = /usd|\$|元|cny|rmb|eur|dollar/i;
    const matches = this.context.schema.tables.flatMap((table) =>
      table.columns.filter((column) => isMeasureColumn(table, column) && (money ? moneyUnit : timeUnit).test(column.unit ?? '')).map((column) => ({ table, column })),
    );
    let pool = matches.filter((ref) => this.tables.has(ref.table.name));
    if (pool.length === 0) pool = matches;
    if (money && pool.length > 1) {
      // `$90 a month`, `每月80元`: the money column paid monthly.
      // `$90 a month`, `每月80元`, or a payment verb (`paying more than 100 dollars`, `月付`): what is paid monthly.
      const paying = [index - 1, index - 2, index - 3, index - 4].some((at) => /^(pay|pays|paying|paid|付|交|缴)/.test(this.slots[at]?.slot.text ?? ''));
      const monthly = paying || [this.next(index), this.next(this.next(index))].some((at) => hasKeyword(this.slots[at], 'unit_month') || hasKeyword(this.slots[at], 'grain_month'));
      const named = pool.filter((ref) => /month/i.test(ref.column.name) || ref.column.synonyms.some((synonym) => /月|month/i.test(synonym)));
      if (monthly && named.length === 1) {
        for (const at of [this.next(index), this.next(this.next(index))]) if (hasKeyword(this.slots[at], 'unit_month') || hasKeyword(this.slots[at], 'grain_month')) this.use(at);
        return named[0];
      }
    }
    return pool.length === 1 ? pool[0] : undefined;
  }

  /** `90分位`, `the 25th and 75th percentiles`, `percentile 90`: fractions, in the order written. */
  private percentilesNear(index: number): number[] {
    const numbers: number[] = [];
    const take = (at: number): boolean => {
      const slot = this.at(at);
      if (slot?.kind !== 'number' || this.isUsed(at)) return false;
      if (!(slot.value > 0 && slot.value < 100)) throw new Abstain(`a percentile is between 0 and 100, not ${slot.value}`);
      numbers.unshift(slot.value / 100);
      this.use(at);
      return true;
    };
    let at = this.previous(index, ['percent_sign', 'unit_day', 'unit_month', 'unit_year']);
    if (take(at)) {
      // `25th and 75th percentiles`, `25%、50%、75%分位数`: more numbers before, joined by `and` or commas.
      for (;;) {
        const joiner = this.previous(at);
        if (this.at(joiner)?.kind === 'number' && take(joiner)) {
          at = joiner;
          continue;
        }
        if (!hasKeyword(this.slots[joiner], 'and')) break;
        const before = this.previous(joiner);
        if (!take(before)) break;
        this.use(joiner);
        at = before;
      }
      return numbers;
    }
    const after = this.next(index);
    if (take(after)) return numbers;
    throw new Abstain('which percentile? Say, for example, "the 90th percentile"');
  }

  /** What `how many` counts when no table is named: the finest-grained table in play, else the hub. */
  private countTable(): TableEntry | undefined {
    const inPlay = [...this.filters, ...this.dimensions].map((ref) => ref.table);
    const candidates = inPlay.length > 0 ? inPlay : this.context.schema.tables;
    return this.context.joins.finestOf(candidates);
  }

  /**
   * A share: with a value condition, the fraction of rows meeting it (within each group); without
   * one but with groups, each group's share of all rows.
   */
  private shareMeasure(shareIndex: number): Measure {
    const conditions = this.filters.filter((filter) => filter.kind !== 'time' && filter.kind !== 'exists');
    const table = this.tableMentioned()?.table;
    if (conditions.length === 0 && this.dimensions.length > 0) {
      // `各支付方式的收入占总收入的比例`: each group's part of an additive measure's total.
      const additive = this.measures.findIndex(isAdditive);
      // `客户数，以及各自占总客户的比例`: the count and its share, both asked for.
      const both = this.slots.slice(0, shareIndex).some((state) => hasKeyword(state, 'and') && ['以及', '及', '和', '并', 'and', 'as well as', 'plus', 'with'].includes(state.slot.text));
      if (additive >= 0 && both) return { kind: 'portion', of: this.measures[additive] as Measure };
      if (additive >= 0) {
        const [measure] = this.measures.splice(additive, 1);
        // `收入占总收入`: the same sum named twice is one measure.
        const signature = additiveSignature(measure as Measure);
        for (let index = this.measures.length - 1; index >= 0; index--) {
          if (signature !== undefined && additiveSignature(this.measures[index] as Measure) === signature) this.measures.splice(index, 1);
        }
        return { kind: 'portion', of: measure as Measure };
      }
    }
    if (conditions.length === 0) {
      if (this.dimensions.length === 0) throw new Abstain('a share of what? Name a group or a condition, e.g. "女性用户占比"');
      return { kind: 'distribution', table: table ?? this.countTable() ?? (this.dimensions[0] as Dimension).table };
    }
    // `在已流失的用户里，各合同类型分别占多大比例`: the one value names who is counted, not a condition.
    const among = this.slots.findIndex((state) => hasKeyword(state, 'among'));
    const chinese = this.slots.some((state) => hasHan(state.slot.text));
    const isPopulation = (filter: Filter): boolean => {
      if (among < 0) return false;
      const at = positionOf(filter, this.slots, this.filterPositions);
      return chinese ? at < among : at > among && (shareIndex < among || at < shareIndex);
    };
    if (this.dimensions.length > 0 && conditions.every(isPopulation)) return { kind: 'distribution', table: table ?? this.countTable() ?? (this.dimensions[0] as Dimension).table };
    // The condition is the last value named before the share word (Chinese), else the last one named.
    const chosen = pickCondition(conditions, this.slots, shareIndex, this.filterPositions);
    // `have both phone service and internet service`: conditions joined by `and` are one condition.
    const joined = conditions.filter((filter) => filter === chosen || this.joinedByAnd(positionOf(filter, this.slots, this.filterPositions), positionOf(chosen, this.slots, this.filterPositions)));
    for (const filter of joined) this.filters.splice(this.filters.indexOf(filter), 1);
    // `what percentage of revenue came from month-to-month customers`: a share of a sum, not of rows.
    const summed = this.measures.findIndex((measure) => measure.kind === 'aggregate' && measure.fn === 'sum' && measure.column !== undefined);
    const metricSum = this.measures.findIndex((measure) => measure.kind === 'metric' && /^\s*sum\s*\(\s*[\w"`]+\.[\w"`]+\s*\)\s*$/i.test(measure.metric.sql));
    const weightAt = summed >= 0 ? summed : metricSum;
    if (weightAt >= 0) {
      const [weighted] = this.measures.splice(weightAt, 1);
      const weight = weighted?.kind === 'aggregate' && weighted.column !== undefined ? { table: weighted.table, column: weighted.column } : weightOfMetric(weighted, this.context.schema);
      if (weight !== undefined) return { kind: 'share', table: weight.table, condition: joined, weight };
    }
    const named = table !== undefined && !this.context.joins.isFactTable(table) ? table : undefined;
    const population = this.populationTable() ?? named ?? this.firstEntity() ?? table ?? this.context.joins.finestOf([chosen.table, ...this.filters.map((filter) => filter.table), ...this.dimensions.map((dimension) => dimension.table)]) ?? chosen.table;
    return { kind: 'share', table: population, condition: joined };
  }

  /** A slot that became a measure: a metric, or a column an aggregate took. */
  private measuredOrMetric(index: number): boolean {
    return this.at(index)?.kind === 'metric' || this.measuredSlots.has(index);
  }

  /** The first table the question names, read or not (`Of the customers who …`): who a share is of. */
  private firstEntity(): TableEntry | undefined {
    for (const { slot } of this.slots) if (slot.kind === 'table' && slot.options.length > 0 && !this.context.joins.isFactTable(slot.options[0] as TableEntry)) return slot.options[0];
    return undefined;
  }

  /** Two slots with only `and`, `have` and stop words between them. */
  private joinedByAnd(left: number, right: number): boolean {
    if (left < 0 || right < 0 || left === right) return false;
    const between = this.slots.slice(Math.min(left, right) + 1, Math.max(left, right));
    return between.length > 0 && between.some((state) => hasKeyword(state, 'and')) && between.every((state) => isStop(state) || hasKeyword(state, 'and') || hasKeyword(state, 'have') || state.slot.kind === 'unknown');
  }

  /** `电子支票用户的账单里`, `among bills of …`: the table named at `among` is what the share is of. */
  private populationTable(): TableEntry | undefined {
    const among = this.slots.findIndex((state) => hasKeyword(state, 'among'));
    if (among < 0) return undefined;
    const chinese = this.slots.some((state) => hasHan(state.slot.text));
    const at = chinese ? this.previous(among) : this.next(among);
    const slot = this.at(at);
    return slot?.kind === 'table' ? slot.options[0] : undefined;
  }

  // ---------------------------------------------------------------- ordering

  private readOrdering(): void {
    const desc = this.indexesWith('desc');
    const asc = this.indexesWith('asc');
    const sort = this.indexesWith('sort');
    if (desc.length > 0 || asc.length > 0 || sort.length > 0) {
      this.use(...desc, ...asc, ...sort);
      // `排序` / `rank` alone sorts from the highest.
      const byColumn = this.orderByColumn === undefined ? -1 : this.measures.findIndex((measure) => measure.kind === 'aggregate' && measure.column === this.orderByColumn?.column);
      this.order = { by: { measure: Math.max(0, byColumn) }, direction: asc.length > 0 && desc.length === 0 ? 'asc' : 'desc' };
    }
    for (const keyword of ['highest', 'lowest', 'top', 'bottom'] as const) {
      for (const index of this.indexesWith(keyword)) {
        if (this.dimensions.length === 0) continue;
        this.use(index);
        this.order = { by: { measure: this.measureNear(index) }, direction: keyword === 'highest' || keyword === 'top' ? 'desc' : 'asc' };
        const number = [this.next(index), this.previous(index)].find((at) => this.at(at)?.kind === 'number' && !this.isUsed(at));
        if (number !== undefined) {
          this.limit = (this.at(number) as Extract<Slot, { kind: 'number' }>).value;
          this.use(number);
        } else if ((keyword === 'highest' || keyword === 'lowest') && !this.slots.some((state) => hasKeyword(state, 'sort'))) {
          // `Which 3 payment methods have the highest …`: the number may sit by the groups instead.
          this.readRankLimit();
          this.limit ??= 1;
        }
      }
    }
  }

  /**
   * `Which 3 payment methods have the highest churn rate`: with groups ranked and no limit read, the one
   * number left over is how many to show.
   */
  private readRankLimit(): void {
    // `最低的两种…是哪两种`: the same count said again.
    if (this.limit !== undefined) {
      this.slots.forEach((state, index) => {
        if (!state.used && state.slot.kind === 'number' && state.slot.value === this.limit) this.use(index);
      });
    }
    if (this.order === undefined || this.limit !== undefined || this.dimensions.length === 0) return;
    const left = this.slots.map((state, index) => ({ state, index })).filter(({ state }) => !state.used && state.slot.kind === 'number');
    const only = left[0];
    if (left.length !== 1 || only === undefined || only.state.slot.kind !== 'number') return;
    const value = only.state.slot.value;
    if (!Number.isInteger(value) || value <= 0) return;
    this.limit = value;
    this.use(only.index);
  }

  /** Directions said both ways with nothing to reconcile them (`highest … lowest`) are not guessed. */
  private checkDirections(): void {
    const words = this.slots.filter((state) => state.used && ['highest', 'lowest', 'top', 'bottom'].some((keyword) => hasKeyword(state, keyword as Keyword)));
    const up = words.some((state) => hasKeyword(state, 'highest') || hasKeyword(state, 'top'));
    const down = words.some((state) => hasKeyword(state, 'lowest') || hasKeyword(state, 'bottom'));
    if (up && down && this.dimensions.length > 0 && this.order !== undefined && !this.has('desc') && !this.has('asc')) {
      throw new Abstain('the question orders both from the highest and from the lowest; say which first');
    }
  }

  /** The measure an ordering word is about: the metric named right by it, else the first. */
  private measureNear(index: number): number {
    for (const at of [this.previous(index), this.next(index)]) {
      const slot = this.at(at);
      if (slot?.kind === 'metric') {
        const position = this.measures.findIndex((measure) => measure.kind === 'metric' && measure.metric === slot.metric);
        if (position >= 0) return position;
      }
    }
    return 0;
  }

  private readHaving(): void {
    for (const pending of this.pendingHaving) {
      const slot = this.at(pending.slotIndex);
      let measure = this.measures.findIndex((candidate) => slot?.kind === 'metric' && candidate.kind === 'metric' && candidate.metric === slot.metric);
      if (measure < 0 && slot?.kind === 'keyword') measure = this.measures.findIndex((candidate) => candidate.kind === 'share' || candidate.kind === 'distribution');
      if (measure < 0) {
        if (slot?.kind !== 'metric') throw new Abstain('could not tell which measure the condition is about');
        this.measures.push({ kind: 'metric', metric: slot.metric });
        measure = this.measures.length - 1;
      }
      this.use(pending.slotIndex);
      if (this.dimensions.length === 0) throw new Abstain('a condition on a measure needs groups to filter (e.g. "流失率超过30%的支付方式")');
      this.having.push({ measure, op: pending.op === '=' ? '>=' : pending.op, value: pending.value });
    }
  }

  /**
   * Numbers that restate what is already read: `至少一次` / `at least once` (existence), `（含50和70）`
   * (the bounds of a range), `三种合同类型` (as many as the column has values), `all four`.
   */
  private readRestatedNumbers(): void {
    const bounds = new Set(this.filters.flatMap((filter) => (filter.kind === 'between' ? [filter.low, filter.high] : filter.kind === 'compare' ? [filter.value] : [])));
    for (const [index, state] of this.slots.entries()) {
      if (state.used || state.slot.kind !== 'number') continue;
      const value = state.slot.value;
      const before = this.previous(index);
      if (value === 1 && (hasKeyword(this.slots[before], 'gte') || hasKeyword(this.slots[before - 1], 'gte') || hasKeyword(this.slots[before - 2], 'gte'))) {
        this.use(index);
        for (const at of [before, before - 1, before - 2]) if (hasKeyword(this.slots[at], 'gte')) this.use(at);
        continue;
      }
      if (bounds.has(value)) {
        this.use(index);
        continue;
      }
      const next = this.at(this.next(index));
      if (next?.kind === 'column' && next.options.some((option) => option.column.values.length === value)) this.use(index);
      // `这两类用户`, `these 2 groups`, `both 2`: a count of what was just named.
      if (['这', '这些', '那', '那些', 'these', 'those', 'both', 'all'].includes(this.slots[index - 1]?.slot.text ?? '')) this.use(index);
    }
  }

  // ---------------------------------------------------------------- the end

  private checkAllUsed(): void {
    const fns = new Set<string>(this.measures.map((measure) => (measure.kind === 'aggregate' ? measure.fn : measure.kind === 'metric' && /^\s*sum\s*\(/i.test(measure.metric.sql) ? 'sum' : measure.kind)));
    const left = this.slots.filter((state, index) => {
      if (state.used || isStop(state) || !isMeaningful(state.slot)) return false;
      const slot = state.slot;
      if (slot.kind !== 'keyword') return true;
      // `over all customers`, `up to last month`: a comparison word with no number near is a preposition.
      const comparisons: Keyword[] = ['gt', 'gte', 'lt', 'lte'];
      const nearNumber = [index - 1, index + 1, index + 2, index + 3].some((at) => this.at(at)?.kind === 'number');
      if (slot.keywords.every((keyword) => comparisons.includes(keyword) || keyword === 'stop') && !nearNumber) return false;
      // `分别`, `各组`, `每档`, `top 3 X by Y`: a grouping word is redundant once there are groups or an order;
      // with none, it was left unread, and the answer would silently drop it.
      if (slot.keywords.includes('group') && (this.dimensions.length > 0 || this.order !== undefined || this.limit !== undefined)) return false;
      if (slot.keywords.includes('growth') && this.change !== undefined) return false;
      // `in total` beside a sum, `总额` said twice, `the total number of`: the aggregate is already there.
      if (slot.keywords.every((keyword) => fns.has(keyword) || (keyword === 'sum' && (fns.has('count') || fns.has('count_distinct') || fns.has('metric'))) || keyword === 'stop')) return false;
      return true;
    });
    if (left.length > 0) {
      throw new Abstain(`did not understand the role of ${left.map((state) => `"${state.slot.text}"`).join(', ')} in the question`);
    }
  }

  private cues(defaultMeasure: boolean): Cues {
    const text = this.slots.map((state) => state.slot.text).join(' ');
    // In a conversation, a question with a cue word (`and by gender?`, `那只看…`, `what about …`, `…呢?`)
    // builds on the one before.
    const followUp =
      this.has('also') ||
      this.has('only') ||
      this.has('replace') ||
      /(^|\s)(那|那么|那就|and|what about|how about|also|then|now|same for|其中|这些|这其中|它们|of them|of those|among them|among those)(\s|$)|呢\s*$|^那/.test(text) ||
      /^(and|what about|how about|那|其中|再)/.test(text);
    const ordersOnly = (this.has('desc') || this.has('asc') || this.has('sort')) && this.dimensions.length === 0 && this.filters.length === 0;
    return { defaultMeasure, also: this.has('also'), followUp: followUp || ordersOnly };
  }

  /**
   * `How many customers churned last year?` when only bills have dates: a period on a table the rest of
   * the question does not use would count customers with bills in that period, not what was asked.
   */
  private checkTimeRelevance(): void {
    const timed = this.filters.filter((filter) => filter.kind === 'time');
    if (timed.length === 0 && this.change === undefined) return;
    const used = new Set<string>([
      ...this.measures.map((measure) => measureTableName(measure)),
      ...this.dimensions.map((dimension) => dimension.table.name),
      ...this.filters.filter((filter) => filter.kind !== 'time').map((filter) => filter.table.name),
    ]);
    for (const filter of [...timed, ...(this.change === undefined ? [] : [{ ...this.change.column, kind: 'time' as const }])]) {
      if (used.has(filter.table.name)) continue;
      throw new Abstain(`the period applies to ${filter.table.name}.${filter.column.name}, but what is asked is not in ${filter.table.name}: the data has no date for it`);
    }
  }

  private finish(): Interpretation {
    this.checkTimeRelevance();
    // `今年和去年同期各是多少，按年列出`: both periods' values side by side, grouped by period, is not a
    // growth rate; rather than guess which, ask.
    if (this.change !== undefined && !this.change.growthOnly && this.change.period.from !== '0001-01-01' && this.dimensions.some((dimension) => dimension.grain !== undefined)) {
      throw new Abstain('a period against the same period before, grouped by period: say whether you want the growth rate or each period\'s value');
    }
    const plan: Plan = {
      intent: 'aggregate',
      measures: this.measures,
      dimensions: this.dimensions,
      filters: this.filters,
      having: this.having,
      ...(this.order === undefined ? {} : { order: this.order }),
      ...(this.limit === undefined ? {} : { limit: this.limit }),
      ...(this.change === undefined ? {} : { change: this.change }),
      ...(this.chart === undefined ? {} : { chart: this.chart }),
    };
    return { status: 'planned', plan, cues: this.cues(this.defaultMeasure) };
  }

  private defaultMeasure = false;
}

function measureTableName(measure: Measure): string {
  if (measure.kind === 'portion') return measureTableName(measure.of);
  if (measure.kind === 'metric') return metricTables(measure.metric)[0] ?? '';
  return measure.table.name;
}

/** Whether two columns are measured in the same kind of unit (time, money, or none). */
function sameUnitFamily(left: ColumnEntry, right: ColumnEntry): boolean {
  const family = (column: ColumnEntry): string => {
    const unit = column.unit ?? '';
    if (/usd|\$|元|cny|rmb|eur|dollar/i.test(unit)) return 'money';
    if (/^(day|days|天|week|weeks|周|month|months|月|quarter|quarters|季度|year|years|年)$/i.test(unit)) return 'time';
    return 'other';
  };
  return family(left) === family(right);
}

/** The column a `SUM(table.column)` metric sums. */
function weightOfMetric(measure: Measure | undefined, schema: Dictionary): ColumnRef | undefined {
  if (measure?.kind !== 'metric') return undefined;
  const match = /^\s*sum\s*\(\s*["`]?([\w ]+?)["`]?\.["`]?(\w+)["`]?\s*\)\s*$/i.exec(measure.metric.sql);
  const table = schema.tables.find((candidate) => candidate.name.toLowerCase() === match?.[1]?.toLowerCase());
  const column = table?.columns.find((candidate) => candidate.name.toLowerCase() === match?.[2]?.toLowerCase());
  return table === undefined || column === undefined ? undefined : { table, column };
}

/** A measure whose groups add up to its total (a sum or a count), so that a group's part of it is meaningful. */
function isAdditive(measure: Measure): boolean {
  // A distinct count of keys adds up across groups of the same entities (each key is in one group).
  if (measure.kind === 'aggregate') return measure.fn === 'sum' || measure.fn === 'count' || (measure.fn === 'count_distinct' && measure.column !== undefined && measure.table.primaryKey.includes(measure.column.name));
  if (measure.kind === 'metric') return /^\s*(sum|count)\s*\(/i.test(measure.metric.sql);
  return false;
}

/** `sum:table.column` for SUM measures however written (a metric or an aggregate), else undefined. */
function additiveSignature(measure: Measure): string | undefined {
  if (measure.kind === 'aggregate' && measure.column !== undefined) return `${measure.fn}:${measure.table.name}.${measure.column.name}`.toLowerCase();
  if (measure.kind === 'metric') {
    const match = /^\s*(sum|count)\s*\(\s*([\w"`]+)\.([\w"`]+)\s*\)\s*$/i.exec(measure.metric.sql);
    if (match !== null) return `${match[1]}:${match[2]}.${match[3]}`.replace(/["`]/g, '').toLowerCase();
  }
  return undefined;
}

/** [from, from + months), labelled. */
function shiftEnd(from: string, months: number): { to: string; label: string } {
  const start = new Date(`${from}T00:00:00Z`);
  const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months, 1));
  const last = new Date(end.getTime() - 86_400_000);
  return { to: end.toISOString().slice(0, 10), label: `${from} – ${last.toISOString().slice(0, 10)}` };
}

const affirmativeTexts = new Set(['yes', 'y', 'true', 't', '1']);
const negativeTexts = new Set(['no', 'n', 'false', 'f', '0', 'none']);

/** The value meaning "has it": `Yes`/`true`/`1`, else "not the No value" (InternetService ≠ 'No'). */
function affirmativeValue(ref: ColumnRef): { value: ValueEntry; negate: boolean } | undefined {
  const yes = ref.column.values.find((value) => affirmativeTexts.has(value.value.toLowerCase()));
  if (yes !== undefined) return { value: yes, negate: false };
  const no = ref.column.values.find((value) => negativeTexts.has(value.value.toLowerCase()));
  if (no !== undefined) return { value: no, negate: true };
  return undefined;
}

function monthsBetweenIso(from: string, to: string): number {
  const left = new Date(`${from}T00:00:00Z`);
  const right = new Date(`${to}T00:00:00Z`);
  return (right.getUTCFullYear() - left.getUTCFullYear()) * 12 + right.getUTCMonth() - left.getUTCMonth();
}

function monthsOf(window: Window): number {
  const from = new Date(`${window.from}T00:00:00Z`);
  const to = new Date(`${window.to}T00:00:00Z`);
  return (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth() || 1;
}

/** Slots that must have a role: everything but stop words and connective keywords. */
function isMeaningful(slot: Slot): boolean {
  if (slot.kind === 'unknown') return false;
  if (slot.kind !== 'keyword') return true;
  const connective: Keyword[] = ['half_year', 'unit_money', 'distinct_values', 'sort', 'whether', 'have', 'how_much', 'or', 'and', 'among', 'stop', 'also', 'only', 'replace', 'eq', 'between', 'range_to', 'not', 'every', 'bin', 'percent_sign', 'columns', 'this', 'last', 'previous', 'unit_day', 'unit_week', 'unit_month', 'unit_quarter', 'unit_year', 'year_suffix', 'month_suffix', 'rows', 'describe', 'distinct', 'count', 'compare'];
  return !slot.keywords.every((keyword) => connective.includes(keyword));
}

function pickCondition(conditions: Filter[], slots: readonly SlotState[], shareIndex: number, positions: ReadonlyMap<Filter, number>): Filter {
  const positionOf = (filter: Filter, slotList: readonly SlotState[]): number => positionOfFilter(filter, slotList, positions);
  if (conditions.length === 1) return conditions[0] as Filter;
  // `在X里`/`X中` (Chinese: the population comes before the word) or `among X` (English: after it):
  // X is the population, and the condition is among the others.
  const among = slots.findIndex((state) => hasKeyword(state, 'among'));
  const chinese = slots.some((state) => /\p{Script=Han}/u.test(state.slot.text));
  if (among >= 0) {
    const inPopulation = (filter: Filter): boolean => {
      const at = positionOf(filter, slots);
      return chinese ? at < among : at > among && (shareIndex < among || at < shareIndex);
    };
    const rest = conditions.filter((filter) => !inPopulation(filter));
    if (rest.length > 0 && rest.length < conditions.length) return rest.reduce((best, filter) => (positionOf(filter, slots) > positionOf(best, slots) ? filter : best));
  }
  if (!chinese) {
    const after = conditions.filter((filter) => positionOf(filter, slots) > shareIndex);
    if (after.length > 0) return after.reduce((best, filter) => (positionOf(filter, slots) > positionOf(best, slots) ? filter : best));
  }
  // Chinese puts the condition right before 占比; English (`percentage of X that use Y`) puts it last.
  const before = conditions.filter((filter) => positionOf(filter, slots) < shareIndex);
  const pool = before.length > 0 && before.length < conditions.length ? before : conditions;
  return pool.reduce((best, filter) => (positionOf(filter, slots) > positionOf(best, slots) ? filter : best));
}

function positionOf(filter: Filter, slots: readonly SlotState[], positions?: ReadonlyMap<Filter, number>): number {
  return positionOfFilter(filter, slots, positions ?? new Map());
}

function positionOfFilter(filter: Filter, slots: readonly SlotState[], positions: ReadonlyMap<Filter, number>): number {
  const recorded = positions.get(filter);
  if (recorded !== undefined) return recorded;
  let position = -1;
  slots.forEach((state, index) => {
    const slot = state.slot;
    if (slot.kind === 'value' && filter.kind === 'values' && slot.options.some((option) => option.column === filter.column)) position = index;
    if (slot.kind === 'column' && filter.kind !== 'values' && slot.options.some((option) => option.column === filter.column)) position = index;
  });
  return position;
}

export { joinGraph };
export type { ValueEntry };
