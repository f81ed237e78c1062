/**
 * How tables, columns, values and measures read to a person, in Chinese or English, and how numbers
 * are formatted (percent for rates, units for money and months).
 */
import type { ColumnEntry, MetricEntry, TableEntry } from '../dictionary/dictionary.js';
import { splitName } from '../dictionary/readable-name.js';
import type { Aggregate, Dimension, Filter, Measure } from './plan.js';
import { hasHan, type Language } from './text.js';

/** The Chinese or English half of `中文 / English`, else the first synonym in that language, else the name. */
function pick(name: string, description: string | undefined, synonyms: readonly string[], language: Language): string {
  const halves = (description ?? '').replace(/[（(][^)）]*[)）]/g, '').split(/\s*\/\s*/).map((part) => part.trim()).filter((part) => part !== '');
  const wanted = (text: string): boolean => (language === 'zh' ? hasHan(text) : !hasHan(text));
  const fromDescription = halves.find(wanted);
  if (fromDescription !== undefined && fromDescription.length <= 16) return fromDescription;
  const synonym = synonyms.find(wanted);
  if (synonym !== undefined) return synonym;
  return language === 'en' ? splitName(name).join(' ') || name : name;
}

export function tableLabel(table: TableEntry, language: Language): string {
  return pick(table.name, table.description, table.synonyms, language);
}

/** What a table's rows are called (`用户`, `customers`): its first synonym in the language, else its label. */
export function entityLabel(table: TableEntry, language: Language): string {
  const synonym = table.synonyms.find((text) => (language === 'zh' ? hasHan(text) : !hasHan(text)));
  return synonym ?? tableLabel(table, language);
}

export function columnLabel(column: ColumnEntry, language: Language): string {
  return pick(column.name, column.description, column.synonyms, language);
}

export function metricLabel(metric: MetricEntry, language: Language): string {
  return pick(metric.name, metric.label, metric.synonyms, language);
}

const aggregateWords: Record<Aggregate, { zh: string; en: string }> = {
  count: { zh: '数量', en: 'count' },
  count_distinct: { zh: '不同值个数', en: 'distinct count' },
  sum: { zh: '总', en: 'total' },
  avg: { zh: '平均', en: 'average' },
  min: { zh: '最小', en: 'minimum' },
  max: { zh: '最大', en: 'maximum' },
  median: { zh: '中位数', en: 'median' },
  stddev: { zh: '标准差', en: 'standard deviation' },
  variance: { zh: '方差', en: 'variance' },
  percentile: { zh: '分位数', en: 'percentile' },
};

export function measureLabel(measure: Measure, language: Language): string {
  switch (measure.kind) {
    case 'metric':
      return metricLabel(measure.metric, language);
    case 'share': {
      const condition = measure.condition.map((filter) => filterLabel(filter, language)).join(language === 'zh' ? '、' : ', ');
      return language === 'zh' ? `${condition}占比` : `share with ${condition}`;
    }
    case 'distribution':
      return language === 'zh' ? '占比' : 'share';
    case 'portion':
      return language === 'zh' ? `${measureLabel(measure.of, 'zh')}占比` : `share of ${measureLabel(measure.of, 'en')}`;
    case 'aggregate': {
      if (measure.column === undefined) return language === 'zh' ? `${entityLabel(measure.table, 'zh')}数` : `number of ${entityLabel(measure.table, 'en')}`;
      const column = columnLabel(measure.column, language);
      const word = aggregateWords[measure.fn][language];
      if (measure.fn === 'percentile') {
        const p = Math.round((measure.percentile ?? 0) * 100);
        return language === 'zh' ? `${column}的第 ${p} 百分位数` : `${p}th percentile of ${column}`;
      }
      if (language === 'zh') return ['median', 'stddev', 'variance', 'count', 'count_distinct'].includes(measure.fn) ? `${column}${word}` : `${word}${column}`;
      return `${word} ${column}`;
    }
  }
}

export function filterLabel(filter: Filter, language: Language): string {
  const column = columnLabel(filter.column, language);
  switch (filter.kind) {
    case 'values': {
      const values = filter.values.map((value) => valueLabel(filter.column, value.value, language)).join(language === 'zh' ? '或' : ' or ');
      if (language === 'zh') return filter.negate ? `${column}不是${values}` : `${column}为${values}`;
      return filter.negate ? `${column} not ${values}` : `${column} ${values}`;
    }
    case 'compare': {
      const words = { '>': ['超过', 'above'], '>=': ['不低于', 'at least'], '<': ['低于', 'below'], '<=': ['不超过', 'at most'], '=': ['等于', 'equal to'] } as const;
      const [zh, en] = words[filter.op];
      return language === 'zh' ? `${column}${zh} ${formatPlain(filter.value)}` : `${column} ${en} ${formatPlain(filter.value)}`;
    }
    case 'between':
      return language === 'zh' ? `${column}在 ${formatPlain(filter.low)} 到 ${formatPlain(filter.high)} 之间` : `${column} between ${formatPlain(filter.low)} and ${formatPlain(filter.high)}`;
    case 'null':
      return language === 'zh' ? `${column}${filter.negate ? '不为空' : '为空'}` : `${column} ${filter.negate ? 'present' : 'missing'}`;
    case 'time':
      return language === 'zh' ? `${column}在 ${filter.label}` : `${column} in ${filter.label}`;
    case 'exists': {
      const table = tableLabel(filter.table, language);
      if (language === 'zh') return filter.negate ? `没有${table}` : `有${table}`;
      return filter.negate ? `without ${table}` : `with ${table}`;
    }
  }
}

/** A value as a person reads it: the value's first synonym in the language when it has one. */
export function valueLabel(column: ColumnEntry, value: string, language: Language): string {
  const entry = column.values.find((candidate) => candidate.value === value);
  if (entry === undefined) return value;
  const synonym = entry.synonyms.find((text) => (language === 'zh' ? hasHan(text) : !hasHan(text) && !/^(yes|no|true|false|y|n)$/i.test(text)));
  if (language === 'zh' && synonym !== undefined) return synonym;
  // A code (0/1, true/false) reads better as its word (`senior`, `late`).
  if (language === 'en' && synonym !== undefined && /^(-?\d+|true|false)$/i.test(value)) return synonym;
  return value;
}

export function dimensionLabel(dimension: Dimension, language: Language): string {
  const column = columnLabel(dimension.column, language);
  if (dimension.grain !== undefined) {
    const grains = { day: ['日', 'day'], week: ['周', 'week'], month: ['月', 'month'], quarter: ['季度', 'quarter'], year: ['年', 'year'] } as const;
    const [zh, en] = grains[dimension.grain];
    return language === 'zh' ? `${column}（按${zh}）` : `${column} (by ${en})`;
  }
  if (dimension.bin !== undefined) return language === 'zh' ? `${column}（每 ${formatPlain(dimension.bin)} 一档）` : `${column} (bands of ${formatPlain(dimension.bin)})`;
  return column;
}

// ---------------------------------------------------------------- numbers

export type NumberStyle = { kind: 'percent' } | { kind: 'integer' } | { kind: 'money'; unit: string } | { kind: 'unit'; unit: string } | { kind: 'plain' };

export function formatPlain(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 2 : magnitude >= 1 ? 2 : 4;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function styleOf(measure: Measure): NumberStyle {
  switch (measure.kind) {
    case 'share':
    case 'distribution':
    case 'portion':
      return { kind: 'percent' };
    case 'metric': {
      const { format, unit } = measure.metric;
      if (format === 'percent') return { kind: 'percent' };
      if (format === 'integer') return { kind: 'integer' };
      if (unit !== undefined && /usd|\$|元|cny|rmb|eur|dollar/i.test(unit)) return { kind: 'money', unit };
      if (unit !== undefined) return { kind: 'unit', unit };
      return { kind: 'plain' };
    }
    case 'aggregate': {
      if (measure.fn === 'count' || measure.fn === 'count_distinct') return { kind: 'integer' };
      const unit = measure.column?.unit;
      if (unit === undefined || measure.fn === 'variance') return { kind: 'plain' };
      if (/usd|\$|元|cny|rmb|eur|dollar/i.test(unit)) return { kind: 'money', unit };
      return { kind: 'unit', unit };
    }
  }
}

const unitWords: Record<string, { zh: string; en: string }> = {
  month: { zh: '个月', en: 'months' },
  months: { zh: '个月', en: 'months' },
  year: { zh: '年', en: 'years' },
  day: { zh: '天', en: 'days' },
};

export function formatNumber(value: unknown, style: NumberStyle, language: Language): string {
  if (value === null || value === undefined) return language === 'zh' ? '无数据' : 'no data';
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) return String(value);
  switch (style.kind) {
    case 'percent':
      return `${(number * 100).toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })}%`;
    case 'integer':
      return Math.round(number).toLocaleString('en-US');
    case 'money': {
      const text = number.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
      if (/usd|\$|dollar/i.test(style.unit)) return language === 'zh' ? `${text} 美元` : `$${text}`;
      return `${text} ${style.unit}`;
    }
    case 'unit': {
      const word = unitWords[style.unit.toLowerCase()];
      return `${formatPlain(number)} ${word === undefined ? style.unit : word[language]}`;
    }
    case 'plain':
      return formatPlain(number);
  }
}
