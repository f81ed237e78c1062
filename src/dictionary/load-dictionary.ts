import { existsSync, readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq } from 'yaml';
import { z } from 'zod';
import { IqueryError } from '../errors.js';
import { typeFamilies } from '../sources/source.js';
import { didYouMean, matchName } from './closest-name.js';
import {
  createDictionary,
  metricFormats,
  problemAt,
  sensitivities,
  type ColumnEntry,
  type ColumnReference,
  type Dictionary,
  type DictionaryContent,
  type DictionaryProblem,
  type MetricEntry,
  type Relationship,
  type SourceLocation,
  type TableEntry,
  type ValueEntry,
  type ValueLiteral,
} from './dictionary.js';
import { analyseMetricSql } from './metric-references.js';
import { fileStem, problemsOfIssue, readYaml, throwOnErrors, type DataPath, type Locator } from './yaml-locator.js';

// ---------------------------------------------------------------------------------------------
// The shape of the file. Optional keys also accept an empty value (`unit:`), read as absent.

const word = z.union([z.string(), z.number(), z.boolean()], { error: 'a synonym must be a word or a phrase' }).transform(String);
const words = z.array(word, { error: 'must be a list, e.g. [客户, customer]' });
const optionalText = z.string({ error: 'must be text' }).nullish();

const columnSchema = z.strictObject({
  description: optionalText,
  synonyms: words.nullish(),
  /** Value → its synonyms; the synonyms may be left empty. */
  values: z.record(z.string(), words.nullable(), { error: 'must be a map of value: [synonyms]' }).nullish(),
  unit: optionalText,
  sensitivity: z.enum(sensitivities).nullish(),
  type: z.enum(typeFamilies).nullish(),
});

const tableSchema = z.strictObject({
  description: optionalText,
  synonyms: words.nullish(),
  primary_key: z.union([z.string(), z.array(z.string()).min(1)], { error: 'must be a column name or a list of column names' }).nullish(),
  columns: z.record(z.string(), columnSchema.nullable(), { error: 'must be a map of column name: {description, synonyms, …}' }).nullish(),
});

const relationshipMapSchema = z.strictObject({ from: z.string(), to: z.string() });
const relationshipSchema = z.union([z.string(), relationshipMapSchema], {
  error: 'a relationship is "table.column = table.column" or {from: table.column, to: table.column}',
});

const metricSchema = z.strictObject({
  label: optionalText,
  synonyms: words.nullish(),
  sql: z.string({ error: 'must be one SQL aggregate expression, e.g. AVG(orders.amount)' }),
  format: z.enum(metricFormats).nullish(),
  unit: optionalText,
  description: optionalText,
});

const dictionarySchema = z.strictObject({
  name: optionalText,
  description: optionalText,
  tables: z.record(z.string(), tableSchema.nullable(), { error: 'must be a map of table name: {description, columns, …}' }),
  relationships: z.array(relationshipSchema, { error: 'must be a list of "table.column = table.column"' }).nullish(),
  metrics: z.record(z.string(), metricSchema, { error: 'must be a map of metric name: {label, sql, …}' }).nullish(),
});

type ParsedDictionary = z.infer<typeof dictionarySchema>;

/** The keys allowed in the map at a path, for "did you mean" on unknown keys. */
function allowedKeysAt(path: DataPath): string[] {
  const [section, , child] = path;
  if (path.length === 0) return Object.keys(dictionarySchema.shape);
  if (section === 'tables' && path.length === 2) return Object.keys(tableSchema.shape);
  if (section === 'tables' && child === 'columns' && path.length === 4) return Object.keys(columnSchema.shape);
  if (section === 'metrics' && path.length === 2) return Object.keys(metricSchema.shape);
  if (section === 'relationships') return Object.keys(relationshipMapSchema.shape);
  return [];
}

// ---------------------------------------------------------------------------------------------

/**
 * Parses and validates a dictionary written in YAML. Every problem names `file:line:column`; when any
 * is an error, throws `IqueryError('dictionary_invalid')` listing them all (also in
 * `details.problems`). Warnings (duplicate synonyms, a name written in another case) are returned in
 * `dictionary.warnings`. `fileName` is used in messages, and its stem is the default `name`.
 */
export function parseDictionary(text: string, fileName: string): Dictionary {
  const { data, locator, problems } = readYaml(text, fileName, 'Dictionary');
  const result = dictionarySchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...problemsOfIssue(issue, locator, allowedKeysAt));
    throwOnErrors(problems, fileName, 'Dictionary');
    throw new IqueryError('internal', `zod rejected ${fileName} without naming a problem`);
  }
  const builder = new DictionaryBuilder(result.data, locator, problems);
  const content = builder.build(fileStem(fileName));
  throwOnErrors(problems, fileName, 'Dictionary');
  return createDictionary(content, { file: fileName, warnings: problems });
}

/** Reads and parses a dictionary file; see `parseDictionary`. A missing file is `not_found`. */
export function loadDictionary(path: string): Dictionary {
  if (!existsSync(path)) {
    throw new IqueryError('not_found', `No dictionary file "${path}".`, {
      hint: 'Give the path of a dictionary YAML file, or draft one with `iquery dict init --data <data>`.',
    });
  }
  if (!statSync(path).isFile()) {
    throw new IqueryError('bad_input', `"${path}" is a folder, not a dictionary file.`, { hint: 'Give the path of a dictionary YAML file.' });
  }
  return parseDictionary(readFileSync(path, 'utf8'), path);
}

// ---------------------------------------------------------------------------------------------
// From validated data to the in-memory dictionary, with the checks that span entries.

/** Text of a relationship side, `table.column`; the table part may itself hold a schema. */
export function parseColumnReference(text: string): ColumnReference | undefined {
  const trimmed = text.trim();
  const dot = trimmed.lastIndexOf('.');
  if (dot <= 0 || dot === trimmed.length - 1) return undefined;
  const table = trimmed.slice(0, dot).trim();
  const column = trimmed.slice(dot + 1).trim();
  if (table === '' || column === '' || table.includes('=') || column.includes('=')) return undefined;
  return { table, column };
}

class DictionaryBuilder {
  constructor(
    private readonly data: ParsedDictionary,
    private readonly locator: Locator,
    private readonly problems: DictionaryProblem[],
  ) {}

  build(fallbackName: string): DictionaryContent {
    const tables = Object.entries(this.data.tables).map(([name, table]) => this.table(name, table));
    const content: DictionaryContent = {
      name: this.data.name ?? fallbackName,
      tables,
      relationships: (this.data.relationships ?? []).flatMap((entry, index) => this.relationship(entry, index, tables)),
      metrics: Object.entries(this.data.metrics ?? {}).map(([name, metric]) => this.metric(name, metric, tables)),
    };
    if (this.data.description !== undefined && this.data.description !== null) content.description = this.data.description;
    this.reportDuplicateSynonyms(content.tables, content.metrics);
    return content;
  }

  private table(name: string, table: z.infer<typeof tableSchema> | null): TableEntry {
    const path = ['tables', name];
    const entry: TableEntry = {
      name,
      synonyms: table?.synonyms ?? [],
      primaryKey: typeof table?.primary_key === 'string' ? [table.primary_key] : (table?.primary_key ?? []),
      columns: Object.entries(table?.columns ?? {}).map(([columnName, column]) => this.column([...path, 'columns', columnName], columnName, column)),
      location: this.locator.key(path),
    };
    if (table?.description !== undefined && table.description !== null) entry.description = table.description;
    if (entry.columns.length > 0) {
      for (const key of entry.primaryKey) {
        const location = this.locator.value([...path, 'primary_key']);
        this.checkColumnName(entry, key, location, `primary key of table "${name}"`);
      }
    }
    return entry;
  }

  private column(path: DataPath, name: string, column: z.infer<typeof columnSchema> | null): ColumnEntry {
    const entry: ColumnEntry = {
      name,
      synonyms: column?.synonyms ?? [],
      values: column?.values === undefined || column.values === null ? [] : this.values([...path, 'values']),
      sensitivity: column?.sensitivity ?? 'public',
      location: this.locator.key(path),
    };
    if (column?.description !== undefined && column.description !== null) entry.description = column.description;
    if (column?.unit !== undefined && column.unit !== null) entry.unit = column.unit;
    if (column?.type !== undefined && column.type !== null) entry.type = column.type;
    return entry;
  }

  /** Reads values from the YAML nodes, because only they tell `1:` (a number) from `"1":`. */
  private values(path: DataPath): ValueEntry[] {
    const node = this.locator.node(path);
    if (!isMap(node)) return [];
    const entries: ValueEntry[] = [];
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const raw = pair.key.value;
      const literal: ValueLiteral = typeof raw === 'number' ? 'number' : typeof raw === 'boolean' ? 'boolean' : 'string';
      const value = raw === null ? '' : String(raw);
      const location = this.locator.at(pair.key.range?.[0] ?? 0);
      const earlier = seen.get(value);
      if (earlier !== undefined) {
        this.problems.push(problemAt('error', location, `value "${value}" is listed twice (also on line ${earlier}).`));
        continue;
      }
      seen.set(value, location.line);
      const synonymsNode = this.locator.resolve(pair.value);
      const synonyms = isSeq(synonymsNode) ? synonymsNode.items.map((item) => (isScalar(item) ? String(item.value) : String(item))) : [];
      entries.push({ value, literal, synonyms, location });
    }
    return entries;
  }

  private relationship(entry: string | { from: string; to: string }, index: number, tables: TableEntry[]): Relationship[] {
    const location = this.locator.key(['relationships', index]);
    const [fromText, toText, extra] = typeof entry === 'string' ? entry.split('=') : [entry.from, entry.to];
    const from = fromText === undefined ? undefined : parseColumnReference(fromText);
    const to = toText === undefined ? undefined : parseColumnReference(toText);
    if (extra !== undefined || from === undefined || to === undefined) {
      const written = typeof entry === 'string' ? `"${entry}"` : `{from: ${entry.from}, to: ${entry.to}}`;
      this.problems.push(problemAt('error', location, `relationship ${written} must read "table.column = table.column".`));
      return [];
    }
    for (const side of [from, to]) this.checkReference(tables, side, location, 'relationship');
    return [{ from, to, location }];
  }

  private metric(name: string, metric: z.infer<typeof metricSchema>, tables: TableEntry[]): MetricEntry {
    const path = ['metrics', name];
    const entry: MetricEntry = { name, label: metric.label ?? name, synonyms: metric.synonyms ?? [], sql: metric.sql, location: this.locator.key(path) };
    if (metric.format !== undefined && metric.format !== null) entry.format = metric.format;
    if (metric.unit !== undefined && metric.unit !== null) entry.unit = metric.unit;
    if (metric.description !== undefined && metric.description !== null) entry.description = metric.description;

    const sqlLocation = this.locator.value([...path, 'sql']);
    const analysis = analyseMetricSql(metric.sql);
    if (!analysis.ok) {
      this.problems.push(problemAt('error', sqlLocation, `metric "${name}": ${analysis.problem}.`));
      return entry;
    }
    if (analysis.references.length === 0) {
      this.problems.push(problemAt('error', sqlLocation, `metric "${name}" names no column; write table.column, e.g. COUNT(DISTINCT orders.order_id).`));
    }
    for (const reference of analysis.references) {
      if (reference.table === undefined) {
        this.problems.push(problemAt('error', sqlLocation, `metric "${name}": write column "${reference.column}" as table.column, so iquery knows which table to read.`));
        continue;
      }
      this.checkReference(tables, { table: reference.table, column: reference.column }, sqlLocation, `metric "${name}"`);
    }
    if (!analysis.hasAggregate) {
      this.problems.push(problemAt('warning', sqlLocation, `metric "${name}" has no aggregate function (SUM, AVG, COUNT, …); a metric should sum up many rows.`));
    }
    return entry;
  }

  /** The table must be declared; the column too when the table lists its columns. */
  private checkReference(tables: TableEntry[], reference: ColumnReference, location: SourceLocation, what: string): void {
    const match = matchName(
      reference.table,
      tables.map((table) => table.name),
    );
    if (match.kind === 'missing') {
      this.problems.push(problemAt('error', location, `${what} names table "${reference.table}", which the dictionary does not declare.${didYouMean(match.suggestion)}`));
      return;
    }
    if (match.kind === 'case') {
      this.problems.push(problemAt('warning', location, `${what} writes table "${reference.table}"; the dictionary spells it "${match.name}".`));
    }
    const table = tables.find((candidate) => candidate.name === match.name);
    if (table !== undefined && table.columns.length > 0) this.checkColumnName(table, reference.column, location, what);
  }

  private checkColumnName(table: TableEntry, column: string, location: SourceLocation, what: string): void {
    const match = matchName(
      column,
      table.columns.map((entry) => entry.name),
    );
    if (match.kind === 'missing') {
      this.problems.push(problemAt('error', location, `${what} names column "${table.name}.${column}", which the table does not list.${didYouMean(match.suggestion)}`));
    } else if (match.kind === 'case') {
      this.problems.push(problemAt('warning', location, `${what} writes column "${column}"; table "${table.name}" spells it "${match.name}".`));
    }
  }

  /**
   * A synonym that names two different things is ambiguous to the analyst. Tables, columns and metrics
   * share one namespace (columns of the same name in several tables count as one thing); value
   * synonyms only need to be unique within their column.
   */
  private reportDuplicateSynonyms(tables: TableEntry[], metrics: MetricEntry[]): void {
    const owners = new Map<string, { owner: string; line: number | undefined }>();
    const claim = (registry: Map<string, { owner: string; line: number | undefined }>, synonym: string, owner: string, location: SourceLocation | undefined): void => {
      const key = synonym.trim().toLowerCase();
      const earlier = registry.get(key);
      if (earlier === undefined) {
        registry.set(key, { owner, line: location?.line });
      } else if (earlier.owner !== owner) {
        const where = earlier.line === undefined ? '' : ` (line ${earlier.line})`;
        this.problems.push(problemAt('warning', location, `synonym "${synonym}" of ${owner} also names ${earlier.owner}${where}; the analyst will have to ask which one is meant.`));
      }
    };
    for (const table of tables) {
      for (const synonym of table.synonyms) claim(owners, synonym, `table "${table.name}"`, table.location);
      for (const column of table.columns) {
        for (const synonym of column.synonyms) claim(owners, synonym, `column "${column.name}"`, column.location);
        const valueOwners = new Map<string, { owner: string; line: number | undefined }>();
        for (const value of column.values) {
          for (const synonym of value.synonyms) claim(valueOwners, synonym, `value "${value.value}" of ${table.name}.${column.name}`, value.location);
        }
      }
    }
    for (const metric of metrics) {
      for (const synonym of metric.synonyms) claim(owners, synonym, `metric "${metric.name}"`, metric.location);
    }
  }
}
