/**
 * The data and metric dictionary: what the tables and columns of a source mean, in Chinese and English,
 * which values a categorical column holds and what people call them, how tables join, and the metrics
 * the business uses. Loaded from YAML (`load-dictionary.ts`), drafted from a source
 * (`draft-dictionary.ts`), imported from dbt (`dbt-import.ts`) and written back (`render-dictionary.ts`).
 */
import { createHash } from 'node:crypto';
import type { TypeFamily } from '../sources/source.js';

/** How carefully a column's values must be handled, from least to most sensitive. Default `public`. */
export const sensitivities = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Sensitivity = (typeof sensitivities)[number];

/** How a metric's value reads: `percent` is a ratio (0.27 shows as 27%), `currency` goes with `unit`. */
export const metricFormats = ['number', 'integer', 'percent', 'currency'] as const;
export type MetricFormat = (typeof metricFormats)[number];

/** The YAML kind a value key was written as: `1:` is a number, `"1":` and `No:` are strings. */
export const valueLiterals = ['string', 'number', 'boolean'] as const;
export type ValueLiteral = (typeof valueLiterals)[number];

/** Where an entry was written, for messages; absent on dictionaries built in memory. */
export interface SourceLocation {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface ValueEntry {
  /** The value as text, as written in the dictionary: `'1'`, `'Fiber optic'`, `'true'`. */
  value: string;
  /** How the key was written; a `number` key is compared with an INTEGER column as a number. */
  literal: ValueLiteral;
  synonyms: string[];
  location?: SourceLocation;
}

export interface ColumnEntry {
  name: string;
  description?: string;
  synonyms: string[];
  /** Known values of a categorical column, in the order written. Empty when not listed. */
  values: ValueEntry[];
  /** Unit of measure, e.g. `USD`, `month`. */
  unit?: string;
  sensitivity: Sensitivity;
  /** The type family, when the dictionary records it (drafts do). */
  type?: TypeFamily;
  location?: SourceLocation;
}

export interface TableEntry {
  name: string;
  description?: string;
  synonyms: string[];
  /** Key columns; empty when none is declared. */
  primaryKey: string[];
  /** The columns the dictionary describes, in the order written; empty when the table lists none. */
  columns: ColumnEntry[];
  location?: SourceLocation;
}

export interface ColumnReference {
  table: string;
  column: string;
}

/** `from.table.from.column = to.table.to.column`; `to` is usually the key side. */
export interface Relationship {
  from: ColumnReference;
  to: ColumnReference;
  location?: SourceLocation;
}

export interface MetricEntry {
  name: string;
  label: string;
  synonyms: string[];
  /** One aggregate SQL expression over `table.column` references, e.g. `AVG(user_payments.MonthlyCharges)`. */
  sql: string;
  format?: MetricFormat;
  unit?: string;
  description?: string;
  location?: SourceLocation;
}

export interface DictionaryProblem {
  severity: 'error' | 'warning';
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  message: string;
}

export interface Dictionary {
  name: string;
  description?: string;
  tables: TableEntry[];
  relationships: Relationship[];
  metrics: MetricEntry[];
  /** First 12 hex characters of the sha256 of the canonical content; reports cite it. */
  version: string;
  /** The file it was loaded from, when it was. */
  file?: string;
  /** Problems that do not stop loading (duplicate synonyms, names written in another case). */
  warnings: DictionaryProblem[];
}

/** The parts of a dictionary that make its content, before its version is computed. */
export type DictionaryContent = Omit<Dictionary, 'version' | 'warnings' | 'file'>;

/**
 * Seals content into a `Dictionary`: computes the version over the content only (not comments,
 * layout, file name or source locations), so the same content always has the same version.
 */
export function createDictionary(content: DictionaryContent, extra: { file?: string; warnings?: DictionaryProblem[] } = {}): Dictionary {
  const dictionary: Dictionary = { ...content, version: dictionaryVersion(content), warnings: extra.warnings ?? [] };
  if (extra.file !== undefined) dictionary.file = extra.file;
  return dictionary;
}

/** sha256 of the canonical JSON of the content, first 12 hex characters. */
export function dictionaryVersion(content: DictionaryContent): string {
  const canonical = {
    name: content.name,
    description: content.description ?? null,
    tables: content.tables.map((table) => ({
      name: table.name,
      description: table.description ?? null,
      synonyms: table.synonyms,
      primaryKey: table.primaryKey,
      columns: table.columns.map((column) => ({
        name: column.name,
        description: column.description ?? null,
        synonyms: column.synonyms,
        values: column.values.map((value) => [value.value, value.literal, value.synonyms]),
        unit: column.unit ?? null,
        sensitivity: column.sensitivity,
        type: column.type ?? null,
      })),
    })),
    relationships: content.relationships.map((relationship) => [
      relationship.from.table,
      relationship.from.column,
      relationship.to.table,
      relationship.to.column,
    ]),
    metrics: content.metrics.map((metric) => ({
      name: metric.name,
      label: metric.label,
      synonyms: metric.synonyms,
      sql: metric.sql,
      format: metric.format ?? null,
      unit: metric.unit ?? null,
      description: metric.description ?? null,
    })),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 12);
}

/** `file:line:column: error: message`, leaving out the parts of the place the problem lacks. */
export function formatProblem(problem: DictionaryProblem): string {
  const place = [problem.file, problem.line, problem.line === undefined ? undefined : problem.column].filter((part) => part !== undefined);
  return `${place.length === 0 ? '' : `${place.join(':')}: `}${problem.severity}: ${problem.message}`;
}

/** A problem located at an entry's place in its file (or nowhere, for in-memory entries). */
export function problemAt(severity: DictionaryProblem['severity'], location: SourceLocation | undefined, message: string): DictionaryProblem {
  const problem: DictionaryProblem = { severity, message };
  if (location !== undefined) {
    problem.file = location.file;
    problem.line = location.line;
    problem.column = location.column;
  }
  return problem;
}

/** The table of that name: exact match first, then ignoring case. */
export function findTable(dictionary: Pick<Dictionary, 'tables'>, name: string): TableEntry | undefined {
  return dictionary.tables.find((table) => table.name === name) ?? dictionary.tables.find((table) => table.name.toLowerCase() === name.toLowerCase());
}

/** The column of that name in a table: exact match first, then ignoring case. */
export function findColumn(table: TableEntry, name: string): ColumnEntry | undefined {
  return table.columns.find((column) => column.name === name) ?? table.columns.find((column) => column.name.toLowerCase() === name.toLowerCase());
}
