import { z } from 'zod';
import { IqueryError } from '../errors.js';
import { familyOfType } from '../sources/type-family.js';
import {
  createDictionary,
  problemAt,
  type ColumnEntry,
  type Dictionary,
  type DictionaryProblem,
  type Relationship,
  type SourceLocation,
  type TableEntry,
  type ValueEntry,
  type ValueLiteral,
} from './dictionary.js';
import { fileStem, problemsOfIssue, readYaml, throwOnErrors, type DataPath, type Locator } from './yaml-locator.js';

// dbt files carry much more than iquery reads (config, meta, tags, docs), so unknown keys pass here.

/** A test is a name (`unique`) or a one-key map (`{accepted_values: {values: [...]}}`). */
const testSchema = z.union([z.string(), z.record(z.string(), z.unknown())], { error: 'a test is a name or a map of name: arguments' });
const constraintSchema = z.looseObject({ type: z.string(), columns: z.array(z.string()).nullish() });

const columnSchema = z.looseObject({
  name: z.string({ error: 'must be the column name' }),
  description: z.string().nullish(),
  data_type: z.string().nullish(),
  tests: z.array(testSchema).nullish(),
  data_tests: z.array(testSchema).nullish(),
  constraints: z.array(constraintSchema).nullish(),
});

const modelSchema = z.looseObject({
  name: z.string({ error: 'must be the model or table name' }),
  /** Source tables may live under another name in the database. */
  identifier: z.string().nullish(),
  description: z.string().nullish(),
  columns: z.array(columnSchema, { error: 'must be a list of columns' }).nullish(),
  tests: z.array(testSchema).nullish(),
  data_tests: z.array(testSchema).nullish(),
  constraints: z.array(constraintSchema).nullish(),
});

const sourceSchema = z.looseObject({
  name: z.string(),
  description: z.string().nullish(),
  tables: z.array(modelSchema, { error: 'must be a list of tables' }).nullish(),
});

const schemaFileSchema = z.looseObject({
  version: z.union([z.number(), z.string()]).nullish(),
  models: z.array(modelSchema, { error: 'must be a list of models' }).nullish(),
  sources: z.array(sourceSchema, { error: 'must be a list of sources' }).nullish(),
});

const acceptedValuesSchema = z.looseObject({
  values: z.array(z.union([z.string(), z.number(), z.boolean()]), { error: 'accepted_values needs `values:`, a list of values' }),
  quote: z.boolean().nullish(),
});
const relationshipsTestSchema = z.looseObject({
  to: z.string({ error: "the relationships test needs `to:`, e.g. ref('customers')" }),
  field: z.string({ error: 'the relationships test needs `field:`, the column it points to' }),
});
const combinationSchema = z.looseObject({ combination_of_columns: z.array(z.string()) });

type DbtModel = z.infer<typeof modelSchema>;
type DbtColumn = z.infer<typeof columnSchema>;

export interface DbtImportOptions {
  /** The dictionary's name; default: the file's stem (`schema`). */
  name?: string;
}

/**
 * Reads a dbt `schema.yml` (version 2): models and source tables become tables with their
 * descriptions; columns keep descriptions and `data_type` (as a type family); `accepted_values`
 * tests become values; a column tested `unique` and `not_null` (or a `primary_key` constraint, or
 * `dbt_utils.unique_combination_of_columns`) becomes the key; `relationships` tests become
 * relationships. Relationships to models this file does not describe are dropped with a warning.
 * Malformed files throw `dictionary_invalid` naming file and line.
 */
export function importDbtSchema(text: string, fileName: string, options: DbtImportOptions = {}): Dictionary {
  const { data, locator, problems } = readYaml(text, fileName, 'dbt schema');
  const result = schemaFileSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...problemsOfIssue(issue, locator, () => []));
    throwOnErrors(problems, fileName, 'dbt schema');
    throw new IqueryError('internal', `zod rejected ${fileName} without naming a problem`);
  }
  const importer = new DbtImporter(locator, problems);
  for (const [index, model] of (result.data.models ?? []).entries()) importer.addModel(model, ['models', index]);
  for (const [sourceIndex, source] of (result.data.sources ?? []).entries()) {
    for (const [index, table] of (source.tables ?? []).entries()) importer.addModel(table, ['sources', sourceIndex, 'tables', index]);
  }
  if (importer.tables.length === 0) problems.push(problemAt('error', locator.at(0), 'the file describes no models and no source tables'));
  const relationships = importer.finishRelationships();
  throwOnErrors(problems, fileName, 'dbt schema');
  return createDictionary(
    { name: options.name ?? fileStem(fileName), description: `Imported from dbt ${fileName}`, tables: importer.tables, relationships, metrics: [] },
    { file: fileName, warnings: problems },
  );
}

interface Test {
  name: string;
  /** The test's arguments (dbt 1.10 nests them under `arguments:`). */
  arguments: Record<string, unknown>;
  path: DataPath;
}

class DbtImporter {
  readonly tables: TableEntry[] = [];
  private readonly pending: Relationship[] = [];

  constructor(
    private readonly locator: Locator,
    private readonly problems: DictionaryProblem[],
  ) {}

  addModel(model: DbtModel, path: DataPath): void {
    const name = model.identifier ?? model.name;
    const location = this.locator.key(path);
    if (this.tables.some((table) => table.name === name)) {
      this.problems.push(problemAt('warning', location, `"${name}" is described twice; the first description is kept.`));
      return;
    }
    const unique = new Set<string>();
    const notNull = new Set<string>();
    let declaredKey: string[] | undefined;
    const columns: ColumnEntry[] = [];

    for (const [index, column] of (model.columns ?? []).entries()) {
      const columnPath = [...path, 'columns', index];
      const entry: ColumnEntry = { name: column.name, synonyms: [], values: [], sensitivity: 'public', location: this.locator.key(columnPath) };
      if (column.description !== undefined && column.description !== null && column.description.trim() !== '') entry.description = column.description.trim();
      if (column.data_type !== undefined && column.data_type !== null) entry.type = familyOfType(column.data_type);
      for (const test of testsOf(column, columnPath)) {
        if (test.name === 'unique') unique.add(column.name);
        if (test.name === 'not_null') notNull.add(column.name);
        if (test.name === 'accepted_values') entry.values = this.acceptedValues(test);
        if (test.name === 'relationships') this.relationship(test, { table: name, column: column.name });
      }
      if ((column.constraints ?? []).some((constraint) => constraint.type === 'primary_key')) declaredKey = [column.name];
      columns.push(entry);
    }
    for (const constraint of model.constraints ?? []) {
      if (constraint.type === 'primary_key' && constraint.columns !== undefined && constraint.columns !== null) declaredKey = constraint.columns;
    }
    const testedKey = columns.find((column) => unique.has(column.name) && notNull.has(column.name));
    let primaryKey = declaredKey ?? (testedKey === undefined ? [] : [testedKey.name]);
    if (primaryKey.length === 0) {
      for (const test of testsOf(model, path)) {
        const combination = combinationSchema.safeParse(test.arguments);
        if (test.name.endsWith('unique_combination_of_columns') && combination.success) primaryKey = combination.data.combination_of_columns;
      }
    }
    for (const key of primaryKey) {
      if (!columns.some((column) => column.name === key)) columns.push({ name: key, synonyms: [], values: [], sensitivity: 'public' });
    }
    const table: TableEntry = { name, synonyms: [], primaryKey, columns, location };
    if (model.description !== undefined && model.description !== null && model.description.trim() !== '') table.description = model.description.trim();
    this.tables.push(table);
  }

  /** Keeps relationships whose target this file describes, adding the target column when unlisted. */
  finishRelationships(): Relationship[] {
    const kept: Relationship[] = [];
    for (const relationship of this.pending) {
      const target = this.tables.find((table) => table.name === relationship.to.table);
      if (target === undefined) {
        this.problems.push(
          problemAt('warning', relationship.location, `relationship to "${relationship.to.table}" dropped: this file does not describe that model.`),
        );
        continue;
      }
      if (target.columns.length > 0 && !target.columns.some((column) => column.name === relationship.to.column)) {
        target.columns.push({ name: relationship.to.column, synonyms: [], values: [], sensitivity: 'public' });
      }
      kept.push(relationship);
    }
    return kept;
  }

  private acceptedValues(test: Test): ValueEntry[] {
    const parsed = acceptedValuesSchema.safeParse(test.arguments);
    if (!parsed.success) {
      this.problems.push(problemAt('error', this.locator.key(test.path), parsed.error.issues[0]?.message ?? 'accepted_values needs `values:`'));
      return [];
    }
    return parsed.data.values.map((value, index): ValueEntry => {
      let literal: ValueLiteral = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
      // `quote: false` means the values are SQL literals, such as numbers written as text.
      if (literal === 'string' && parsed.data.quote === false && String(value).trim() !== '' && Number.isFinite(Number(value))) literal = 'number';
      return { value: String(value), literal, synonyms: [], location: this.locator.value([...test.path, test.name, 'values', index]) };
    });
  }

  private relationship(test: Test, from: { table: string; column: string }): void {
    const location: SourceLocation = this.locator.key(test.path);
    const parsed = relationshipsTestSchema.safeParse(test.arguments);
    if (!parsed.success) {
      this.problems.push(problemAt('error', location, parsed.error.issues[0]?.message ?? 'the relationships test needs `to:` and `field:`'));
      return;
    }
    const table = referencedName(parsed.data.to);
    if (table === undefined) {
      this.problems.push(problemAt('error', location, `cannot read the model in \`to: ${parsed.data.to}\`; write ref('model') or source('source', 'table').`));
      return;
    }
    this.pending.push({ from, to: { table, column: parsed.data.field }, location });
  }
}

/** The column's or model's tests, from `tests:` and `data_tests:` (dbt 1.8 renamed them). */
function testsOf(owner: DbtColumn | DbtModel, path: DataPath): Test[] {
  const tests: Test[] = [];
  for (const key of ['tests', 'data_tests'] as const) {
    for (const [index, test] of (owner[key] ?? []).entries()) {
      const testPath = [...path, key, index];
      if (typeof test === 'string') {
        tests.push({ name: test, arguments: {}, path: testPath });
        continue;
      }
      const [name, value] = Object.entries(test)[0] ?? [];
      if (name === undefined) continue;
      const given = isRecord(value) ? value : {};
      const nested = isRecord(given['arguments']) ? given['arguments'] : {};
      tests.push({ name, arguments: { ...given, ...nested }, path: testPath });
    }
  }
  return tests;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The table named by a dbt reference: `ref('customers')`, `ref('package', 'customers')`,
 * `source('shop', 'orders')`, `{{ ref("customers") }}` → the last quoted argument; a bare name as is.
 */
export function referencedName(text: string): string | undefined {
  let inner = text.trim();
  if (inner.startsWith('{{') && inner.endsWith('}}')) inner = inner.slice(2, -2).trim();
  const open = inner.indexOf('(');
  const close = inner.lastIndexOf(')');
  if (open === -1 && close === -1) return inner === '' ? undefined : inner;
  if (open === -1 || close < open) return undefined;
  const positional = inner
    .slice(open + 1, close)
    .split(',')
    .map((argument) => argument.trim())
    .filter((argument) => argument !== '' && !argument.includes('='));
  const last = positional.at(-1);
  if (last === undefined || last.length < 2) return undefined;
  const quote = last[0];
  if ((quote !== "'" && quote !== '"') || last[last.length - 1] !== quote) return undefined;
  return last.slice(1, -1);
}
