/**
 * The short written answer, in the question's language, built from the result itself: the numbers
 * it states are the numbers in `rows`, formatted by what they measure (percent for rates, money,
 * months).
 */
import type { Dictionary } from '../dictionary/dictionary.js';
import type { SqlValue } from '../sources/source.js';
import { columnLabel, dimensionLabel, filterLabel, formatNumber, formatPlain, measureLabel, styleOf, tableLabel, valueLabel, type NumberStyle } from './labels.js';
import type { Dimension, Plan } from './plan.js';
import type { Language } from './text.js';

export interface ResultShape {
  columns: string[];
  rows: SqlValue[][];
  truncated: boolean;
}

function joinList(items: string[], language: Language): string {
  return items.join(language === 'zh' ? '，' : ', ');
}

function groupText(dimensions: readonly Dimension[], row: readonly SqlValue[], language: Language): string {
  return dimensions
    .map((dimension, index) => {
      const value = row[index];
      if (value === null || value === undefined) return language === 'zh' ? '（空）' : '(empty)';
      if (dimension.bin !== undefined && typeof value === 'number') return `${formatPlain(value)}–${formatPlain(value + dimension.bin)}`;
      return valueLabel(dimension.column, String(value), language);
    })
    .join(' / ');
}

function scopeOf(plan: Extract<Plan, { intent: 'aggregate' }>, language: Language): string {
  const parts = plan.filters.map((filter) => filterLabel(filter, language));
  if (parts.length === 0) return '';
  return language === 'zh' ? `（${parts.join('，')}）` : ` (${parts.join('; ')})`;
}

function aggregateAnswer(plan: Extract<Plan, { intent: 'aggregate' }>, result: ResultShape, language: Language): string {
  const zh = language === 'zh';
  const dimensionCount = plan.dimensions.length;
  const scope = scopeOf(plan, language);
  if (plan.change !== undefined) {
    const measure = plan.measures[0];
    const row = result.rows[0];
    if (measure === undefined || row === undefined) return zh ? '没有可比较的数据。' : 'There is no data to compare.';
    const style = styleOf(measure);
    const offset = dimensionCount;
    const current = formatNumber(row[offset], style, language);
    const previous = formatNumber(row[offset + 1], style, language);
    const growth = row[offset + 2];
    const growthText = typeof growth === 'number' ? formatNumber(growth, { kind: 'percent' }, language) : zh ? '无法计算' : 'not computable';
    const label = measureLabel(measure, language);
    const kind = plan.change.kind === 'yoy' ? (zh ? '同比' : 'year over year') : zh ? '环比' : 'period over period';
    return zh
      ? `${label}${scope}：${plan.change.period.label} 为 ${current}，${plan.change.previous.label} 为 ${previous}，${kind}变化 ${growthText}。`
      : `${label}${scope}: ${current} in ${plan.change.period.label} against ${previous} in ${plan.change.previous.label}, ${growthText} ${kind}.`;
  }
  if (result.rows.length === 0) return zh ? `没有符合条件的数据${scope}。` : `No data matches${scope}.`;
  const sentences: string[] = [];
  if (dimensionCount === 0) {
    const row = result.rows[0] ?? [];
    const parts = plan.measures.map((measure, index) => `${measureLabel(measure, language)}${zh ? '为' : ' is '}${formatNumber(row[index], styleOf(measure), language)}`);
    sentences.push(zh ? `${scope === '' ? '' : `${scope.slice(1, -1)}：`}${joinList(parts, language)}。` : `${capitalize(joinList(parts, language))}${scope}.`);
    return sentences.join('');
  }
  const measure = plan.measures[0];
  if (measure === undefined) return '';
  const style: NumberStyle = styleOf(measure);
  const label = measureLabel(measure, language);
  const by = plan.dimensions.map((dimension) => dimensionLabel(dimension, language)).join(zh ? '和' : ' and ');
  const valueIndex = dimensionCount;
  const shown = result.rows.slice(0, 6).map((row) => `${groupText(plan.dimensions, row, language)} ${formatNumber(row[valueIndex], style, language)}`);
  const more = result.rows.length > 6 ? (zh ? ` 等 ${result.rows.length} 组` : ` and ${result.rows.length - 6} more`) : '';
  sentences.push(zh ? `按${by}的${label}${scope}：${joinList(shown, language)}${more}。` : `${capitalize(label)} by ${by}${scope}: ${joinList(shown, language)}${more}.`);
  const numeric = result.rows.filter((row) => typeof row[valueIndex] === 'number');
  if (numeric.length >= 3 && plan.dimensions.every((dimension) => dimension.grain === undefined && dimension.bin === undefined)) {
    const sorted = [...numeric].sort((left, right) => (right[valueIndex] as number) - (left[valueIndex] as number));
    const top = sorted[0] as SqlValue[];
    const bottom = sorted[sorted.length - 1] as SqlValue[];
    sentences.push(
      zh
        ? `最高的是 ${groupText(plan.dimensions, top, language)}（${formatNumber(top[valueIndex], style, language)}），最低的是 ${groupText(plan.dimensions, bottom, language)}（${formatNumber(bottom[valueIndex], style, language)}）。`
        : ` Highest: ${groupText(plan.dimensions, top, language)} (${formatNumber(top[valueIndex], style, language)}); lowest: ${groupText(plan.dimensions, bottom, language)} (${formatNumber(bottom[valueIndex], style, language)}).`,
    );
  }
  return sentences.join('');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function composeAnswer(plan: Plan, result: ResultShape, language: Language, dictionary: Dictionary): string {
  const zh = language === 'zh';
  switch (plan.intent) {
    case 'aggregate':
      return aggregateAnswer(plan, result, language);
    case 'rows':
      return zh ? `共 ${result.rows.length} 行（${tableLabel(plan.table, 'zh')}）。` : `${result.rows.length} rows of ${tableLabel(plan.table, 'en')}.`;
    case 'histogram': {
      const column = columnLabel(plan.column.column, language);
      const total = result.rows.reduce((sum, row) => sum + Number(row[1] ?? 0), 0);
      const peak = result.rows.reduce<SqlValue[] | undefined>((best, row) => (best === undefined || Number(row[1]) > Number(best[1]) ? row : best), undefined);
      const peakText = peak === undefined ? '' : `${formatPlain(Number(peak[0]))}–${formatPlain(Number(peak[0]) + plan.width)}`;
      return zh
        ? `${column}的分布（每 ${formatPlain(plan.width)} 一档，共 ${total.toLocaleString('en-US')} 行）：最多的一档是 ${peakText}（${Number(peak?.[1] ?? 0).toLocaleString('en-US')} 行）。`
        : `Distribution of ${column} in bins of ${formatPlain(plan.width)} (${total.toLocaleString('en-US')} rows); the most common bin is ${peakText} (${Number(peak?.[1] ?? 0).toLocaleString('en-US')} rows).`;
    }
    case 'correlation': {
      const value = result.rows[0]?.[0];
      const x = columnLabel(plan.x.column, language);
      const y = columnLabel(plan.y.column, language);
      if (typeof value !== 'number') return zh ? `无法计算${x}与${y}的相关系数。` : `The correlation of ${x} and ${y} cannot be computed.`;
      const strength = Math.abs(value) >= 0.7 ? ['强', 'strong'] : Math.abs(value) >= 0.3 ? ['中等', 'moderate'] : ['弱', 'weak'];
      const direction = value >= 0 ? ['正', 'positive'] : ['负', 'negative'];
      return zh
        ? `${x}与${y}的相关系数（皮尔逊）为 ${value.toFixed(3)}，${strength[0]}${direction[0]}相关。`
        : `The Pearson correlation of ${x} and ${y} is ${value.toFixed(3)}: a ${strength[1]} ${direction[1]} correlation.`;
    }
    case 'missing': {
      if (plan.stat === 'distinct') {
        const list = result.rows.map((row) => `${String(row[0])} ${Number(row[1]).toLocaleString('en-US')}`);
        return zh ? `各列的不同值个数：${joinList(list, language)}。` : `Distinct values per column: ${joinList(list, language)}.`;
      }
      const missing = result.rows.filter((row) => Number(row[1]) > 0);
      if (missing.length === 0) return zh ? `${tableLabel(plan.table, 'zh')}没有缺失值。` : `${tableLabel(plan.table, 'en')} has no missing values.`;
      const list = missing.map((row) => `${String(row[0])} ${Number(row[1]).toLocaleString('en-US')}`);
      return zh ? `有缺失值的列：${joinList(list, language)}。` : `Columns with missing values: ${joinList(list, language)}.`;
    }
    case 'duplicates': {
      const count = Number(result.rows[0]?.[0] ?? 0);
      const table = tableLabel(plan.table, language);
      if (plan.columns.length > 0) {
        const what = plan.columns.map((ref) => ref.column.name).join(', ');
        return zh ? `${table}中按 ${what} 重复出现的值有 ${count.toLocaleString('en-US')} 个。` : `${count.toLocaleString('en-US')} values of ${what} occur more than once in ${table}.`;
      }
      return zh ? `${table}中完全重复的行有 ${count.toLocaleString('en-US')} 行。` : `${table} has ${count.toLocaleString('en-US')} rows that are exact copies of another.`;
    }
    case 'distinct_values': {
      const values = result.rows.map((row) => String(row[0] ?? (zh ? '（空）' : '(empty)')));
      const column = columnLabel(plan.column.column, language);
      const shown = values.slice(0, 12).join(zh ? '、' : ', ');
      return zh ? `${column}共有 ${values.length} 个不同的值：${shown}${values.length > 12 ? ' 等' : ''}。` : `${column} has ${values.length} distinct values: ${shown}${values.length > 12 ? ', …' : ''}.`;
    }
    case 'list_tables':
      return zh
        ? `数据共有 ${dictionary.tables.length} 张表：${dictionary.tables.map((table) => `${table.name}（${tableLabel(table, 'zh')}）`).join('、')}。`
        : `The data has ${dictionary.tables.length} tables: ${dictionary.tables.map((table) => `${table.name} (${tableLabel(table, 'en')})`).join(', ')}.`;
    case 'describe_table':
      return zh
        ? `${plan.table.name}（${tableLabel(plan.table, 'zh')}）有 ${plan.table.columns.length} 列：${plan.table.columns.map((column) => column.name).join('、')}。`
        : `${plan.table.name} (${tableLabel(plan.table, 'en')}) has ${plan.table.columns.length} columns: ${plan.table.columns.map((column) => column.name).join(', ')}.`;
    case 'describe_column': {
      const column = plan.column.column;
      const values = column.values.length > 0 ? (zh ? `，取值：${column.values.map((value) => value.value).join('、')}` : `; values: ${column.values.map((value) => value.value).join(', ')}`) : '';
      return zh
        ? `${plan.column.table.name}.${column.name}：${column.description ?? columnLabel(column, 'zh')}${values}。`
        : `${plan.column.table.name}.${column.name}: ${column.description ?? columnLabel(column, 'en')}${values}.`;
    }
  }
}
