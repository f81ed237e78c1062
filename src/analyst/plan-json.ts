/**
 * The plan as JSON: what `iquery ask --json` shows, and what a session keeps for follow-ups. Entries
 * are named (tables, columns, metrics, values), so a plan read back is resolved against the schema
 * again; a name the schema no longer has drops the saved context instead of failing.
 */
import { findColumn, findTable, type Dictionary, type TableEntry, type ValueEntry } from '../dictionary/dictionary.js';
import { measureName } from './compile.js';
import { measureLabel } from './labels.js';
import type { Aggregate, ChartType, ColumnRef, Dimension, Filter, Grain, Measure, Plan } from './plan.js';
import type { Language } from './text.js';

export type PlanJson = Record<string, unknown> & { intent: Plan['intent'] };

type Json = Record<string, unknown>;

function columnJson(ref: ColumnRef): Json {
  return { table: ref.table.name, column: ref.column.name };
}

function measureJson(measure: Measure, language: Language): Json {
  const base = { name: measureName(measure), label: measureLabel(measure, language) };
  switch (measure.kind) {
    case 'metric':
      return { ...base, metric: measure.metric.name, sql: measure.metric.sql };
    case 'aggregate':
      return { ...base, aggregate: measure.fn, table: measure.table.name, ...(measure.column === undefined ? {} : { column: measure.column.name }), ...(measure.percentile === undefined ? {} : { percentile: measure.percentile }) };
    case 'share':
      return { ...base, share: true, table: measure.table.name, condition: measure.condition.map(filterJson) };
    case 'distribution':
      return { ...base, distribution: true, table: measure.table.name };
    case 'portion':
      return { ...base, portion: measureJson(measure.of, language) };
  }
}

function filterJson(filter: Filter): Json {
  const column = columnJson(filter);
  switch (filter.kind) {
    case 'values':
      return { ...column, op: filter.negate ? 'not in' : 'in', values: filter.values.map((value) => value.value) };
    case 'compare':
      return { ...column, op: filter.op, value: filter.value };
    case 'between':
      return { ...column, op: 'between', low: filter.low, high: filter.high };
    case 'null':
      return { ...column, op: filter.negate ? 'is not null' : 'is null' };
    case 'time':
      return { ...column, op: 'time', from: filter.from, to: filter.to, label: filter.label };
    case 'exists':
      return { ...column, op: filter.negate ? 'not exists' : 'exists' };
  }
}

function dimensionJson(dimension: Dimension): Json {
  return {
    ...columnJson(dimension),
    ...(dimension.bin === undefined ? {} : { bin: dimension.bin }),
    ...(dimension.grain === undefined ? {} : { grain: dimension.grain }),
    ...(dimension.only === undefined ? {} : { only: dimension.only.map((value) => value.value) }),
  };
}

export function planToJson(plan: Plan, language: Language): PlanJson {
  switch (plan.intent) {
    case 'aggregate':
      return {
        intent: 'aggregate',
        measures: plan.measures.map((measure) => measureJson(measure, language)),
        dimensions: plan.dimensions.map(dimensionJson),
        filters: plan.filters.map(filterJson),
        ...(plan.having.length === 0 ? {} : { having: plan.having }),
        ...(plan.dimensions.some((dimension) => dimension.grain !== undefined) ? { grain: plan.dimensions.find((dimension) => dimension.grain !== undefined)?.grain } : {}),
        ...(plan.order === undefined ? {} : { order: plan.order }),
        ...(plan.limit === undefined ? {} : { limit: plan.limit }),
        ...(plan.change === undefined ? {} : { change: { kind: plan.change.kind, ...columnJson(plan.change.column), period: plan.change.period, previous: plan.change.previous, growthOnly: plan.change.growthOnly } }),
        ...(plan.chart === undefined ? {} : { chart: plan.chart }),
      };
    case 'rows':
      return {
        intent: 'rows',
        table: plan.table.name,
        columns: plan.columns.map(columnJson),
        filters: plan.filters.map(filterJson),
        ...(plan.order === undefined ? {} : { order: { ...columnJson(plan.order.column), direction: plan.order.direction } }),
        limit: plan.limit,
      };
    case 'histogram':
      return { intent: 'histogram', ...columnJson(plan.column), width: plan.width, filters: plan.filters.map(filterJson) };
    case 'correlation':
      return { intent: 'correlation', x: columnJson(plan.x), y: columnJson(plan.y), filters: plan.filters.map(filterJson) };
    case 'missing':
      return { intent: plan.intent, table: plan.table.name, columns: plan.columns.map(columnJson), stat: plan.stat ?? 'missing' };
    case 'duplicates':
      return { intent: plan.intent, table: plan.table.name, columns: plan.columns.map(columnJson) };
    case 'distinct_values':
      return { intent: 'distinct_values', ...columnJson(plan.column), filters: plan.filters.map(filterJson) };
    case 'list_tables':
      return { intent: 'list_tables' };
    case 'describe_table':
      return { intent: 'describe_table', table: plan.table.name };
    case 'describe_column':
      return { intent: 'describe_column', ...columnJson(plan.column) };
  }
}

// ---------------------------------------------------------------- reading back

class Missing extends Error {}

function table(schema: Dictionary, name: unknown): TableEntry {
  const found = typeof name === 'string' ? findTable(schema, name) : undefined;
  if (found === undefined) throw new Missing();
  return found;
}

function column(schema: Dictionary, json: Json): ColumnRef {
  const owner = table(schema, json['table']);
  const found = typeof json['column'] === 'string' ? findColumn(owner, json['column']) : undefined;
  if (found === undefined) throw new Missing();
  return { table: owner, column: found };
}

function values(ref: ColumnRef, list: unknown): ValueEntry[] {
  if (!Array.isArray(list)) throw new Missing();
  return list.map((value) => ref.column.values.find((entry) => entry.value === String(value)) ?? { value: String(value), literal: 'string', synonyms: [] });
}

function filterFromJson(schema: Dictionary, json: Json): Filter {
  const ref = column(schema, json);
  const op = json['op'];
  if (op === 'in' || op === 'not in') return { kind: 'values', ...ref, values: values(ref, json['values']), negate: op === 'not in' };
  if (op === 'between') return { kind: 'between', ...ref, low: Number(json['low']), high: Number(json['high']) };
  if (op === 'is null' || op === 'is not null') return { kind: 'null', ...ref, negate: op === 'is not null' };
  if (op === 'time') return { kind: 'time', ...ref, from: String(json['from']), to: String(json['to']), label: String(json['label']) };
  if (op === '>' || op === '>=' || op === '<' || op === '<=' || op === '=') return { kind: 'compare', ...ref, op, value: Number(json['value']) };
  if (op === 'exists' || op === 'not exists') return { kind: 'exists', ...ref, negate: op === 'not exists' };
  throw new Missing();
}

function measureFromJson(schema: Dictionary, json: Json): Measure {
  if (typeof json['metric'] === 'string') {
    const metric = schema.metrics.find((candidate) => candidate.name === json['metric']);
    if (metric === undefined) throw new Missing();
    return { kind: 'metric', metric };
  }
  if (json['share'] === true) {
    const condition = Array.isArray(json['condition']) ? (json['condition'] as Json[]).map((item) => filterFromJson(schema, item)) : [];
    return { kind: 'share', table: table(schema, json['table']), condition };
  }
  if (json['distribution'] === true) return { kind: 'distribution', table: table(schema, json['table']) };
  if (typeof json['portion'] === 'object' && json['portion'] !== null) return { kind: 'portion', of: measureFromJson(schema, json['portion'] as Json) };
  const owner = table(schema, json['table']);
  const measure: Measure = { kind: 'aggregate', fn: json['aggregate'] as Aggregate, table: owner };
  if (typeof json['column'] === 'string') {
    const found = findColumn(owner, json['column']);
    if (found === undefined) throw new Missing();
    measure.column = found;
  }
  if (typeof json['percentile'] === 'number') measure.percentile = json['percentile'];
  return measure;
}

/** An aggregate plan read back from a session, or undefined when it no longer fits the schema. */
export function planFromJson(schema: Dictionary, json: unknown): Plan | undefined {
  if (typeof json !== 'object' || json === null || (json as Json)['intent'] !== 'aggregate') return undefined;
  const plan = json as Json;
  try {
    const dimensions = ((plan['dimensions'] as Json[] | undefined) ?? []).map((item): Dimension => {
      const ref = column(schema, item);
      const dimension: Dimension = { ...ref };
      if (typeof item['bin'] === 'number') dimension.bin = item['bin'];
      if (typeof item['grain'] === 'string') dimension.grain = item['grain'] as Grain;
      if (Array.isArray(item['only'])) dimension.only = values(ref, item['only']);
      return dimension;
    });
    const out: Plan = {
      intent: 'aggregate',
      measures: ((plan['measures'] as Json[] | undefined) ?? []).map((item) => measureFromJson(schema, item)),
      dimensions,
      filters: ((plan['filters'] as Json[] | undefined) ?? []).map((item) => filterFromJson(schema, item)),
      having: Array.isArray(plan['having']) ? (plan['having'] as Extract<Plan, { intent: 'aggregate' }>['having']) : [],
    };
    if (typeof plan['order'] === 'object' && plan['order'] !== null) out.order = plan['order'] as NonNullable<typeof out.order>;
    if (typeof plan['limit'] === 'number') out.limit = plan['limit'];
    if (typeof plan['chart'] === 'string') out.chart = plan['chart'] as ChartType;
    return out;
  } catch (error) {
    if (error instanceof Missing) return undefined;
    throw error;
  }
}
