import { Document, isMap, isScalar, isSeq, visit, type YAMLMap } from 'yaml';
import type { ColumnEntry, DictionaryContent, MetricEntry, TableEntry, ValueEntry } from './dictionary.js';

/** Plain words that YAML 1.1 readers take for booleans; quoted so every tool reads them as text. */
const booleanLookalikes = new Set(['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off']);

export interface RenderOptions {
  /** Written as `# ` comment lines at the top, e.g. how the file was made and what to review. */
  comment?: string;
}

/**
 * Writes a dictionary as YAML in the format `parseDictionary` reads, so that render → parse gives the
 * same content (and version). Simple columns are written on one line as flow maps, synonym lists as
 * `[a, b]`; defaults (`sensitivity: public`, empty lists) are left out.
 */
export function renderDictionaryYaml(dictionary: DictionaryContent, options: RenderOptions = {}): string {
  const root: Record<string, unknown> = { name: dictionary.name };
  if (dictionary.description !== undefined) root['description'] = dictionary.description;
  root['tables'] = Object.fromEntries(dictionary.tables.map((table) => [table.name, tableObject(table)]));
  if (dictionary.relationships.length > 0) {
    root['relationships'] = dictionary.relationships.map(
      (relationship) => `${relationship.from.table}.${relationship.from.column} = ${relationship.to.table}.${relationship.to.column}`,
    );
  }
  if (dictionary.metrics.length > 0) root['metrics'] = Object.fromEntries(dictionary.metrics.map((metric) => [metric.name, metricObject(metric)]));

  const document = new Document(root);
  // The yaml package prefixes each line of commentBefore with `#`; a leading space reads better.
  if (options.comment !== undefined) document.commentBefore = options.comment.split('\n').map((line) => ` ${line}`).join('\n');
  visit(document, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if ((key === 'synonyms' || key === 'primary_key') && isSeq(pair.value)) pair.value.flow = true;
      if (key === 'columns' && isMap(pair.value)) {
        for (const column of (pair.value as YAMLMap).items) {
          if (isMap(column.value) && !column.value.has('values')) column.value.flow = true;
        }
      }
      if (key === 'values' && isMap(pair.value)) {
        for (const value of (pair.value as YAMLMap).items) if (isSeq(value.value)) value.value.flow = true;
      }
    },
    Scalar(_, scalar) {
      if (typeof scalar.value === 'string' && booleanLookalikes.has(scalar.value.toLowerCase())) scalar.type = 'QUOTE_DOUBLE';
    },
  });
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function tableObject(table: TableEntry): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (table.description !== undefined) object['description'] = table.description;
  if (table.synonyms.length > 0) object['synonyms'] = table.synonyms;
  if (table.primaryKey.length === 1) object['primary_key'] = table.primaryKey[0];
  if (table.primaryKey.length > 1) object['primary_key'] = table.primaryKey;
  if (table.columns.length > 0) object['columns'] = Object.fromEntries(table.columns.map((column) => [column.name, columnObject(column)]));
  return object;
}

function columnObject(column: ColumnEntry): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (column.description !== undefined) object['description'] = column.description;
  if (column.synonyms.length > 0) object['synonyms'] = column.synonyms;
  if (column.type !== undefined) object['type'] = column.type;
  if (column.unit !== undefined) object['unit'] = column.unit;
  if (column.sensitivity !== 'public') object['sensitivity'] = column.sensitivity;
  // A Map keeps number and boolean keys as such: `1:` stays a number, `"1":` would be text.
  if (column.values.length > 0) object['values'] = new Map(column.values.map((value) => [valueKey(value), value.synonyms]));
  return object;
}

function valueKey(value: ValueEntry): string | number | boolean {
  if (value.literal === 'number' && Number.isFinite(Number(value.value))) return Number(value.value);
  if (value.literal === 'boolean') return value.value === 'true';
  return value.value;
}

function metricObject(metric: MetricEntry): Record<string, unknown> {
  const object: Record<string, unknown> = { label: metric.label };
  if (metric.synonyms.length > 0) object['synonyms'] = metric.synonyms;
  if (metric.description !== undefined) object['description'] = metric.description;
  object['sql'] = metric.sql;
  if (metric.format !== undefined) object['format'] = metric.format;
  if (metric.unit !== undefined) object['unit'] = metric.unit;
  return object;
}
