import { messageOf } from '../errors.js';
import type { ColumnInfo, ColumnProfile, DataSource, SqlValue, TableInfo, TypeFamily } from '../sources/source.js';
import { didYouMean, matchName } from './closest-name.js';
import {
  problemAt,
  type ColumnReference,
  type Dictionary,
  type DictionaryProblem,
  type MetricEntry,
  type Relationship,
  type SourceLocation,
  type ValueEntry,
} from './dictionary.js';
import { analyseMetricSql } from './metric-references.js';

export { formatProblem } from './dictionary.js';

export interface CheckOptions {
  /** Run every metric's SQL once on the data. Default true. */
  runMetrics?: boolean;
  /** Time limit per metric query, in milliseconds. Default: the source's (30 s). */
  metricTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Values shown when a message lists what the data holds. */
const shownValues = 8;

/**
 * Checks a loaded dictionary against the data: every table and column it mentions (in entries, keys,
 * relationships and metrics) must exist — a name that matches only ignoring case is a warning, a
 * missing one an error suggesting the closest name; listed values that never occur are warnings; and
 * every metric's SQL must run, joined over the declared relationships when it reads several tables.
 * Returns the problems in dictionary order; an empty list means the dictionary fits the data.
 */
export async function checkDictionaryAgainstSource(dictionary: Dictionary, source: DataSource, options: CheckOptions = {}): Promise<DictionaryProblem[]> {
  const checker = new SourceChecker(dictionary, source, await source.listTables(), options);
  await checker.checkTables();
  checker.checkRelationships();
  await checker.checkMetrics();
  return checker.problems;
}

class SourceChecker {
  readonly problems: DictionaryProblem[] = [];
  /** Dictionary table name → the data's table, for the tables that exist. */
  private readonly resolved = new Map<string, TableInfo>();

  constructor(
    private readonly dictionary: Dictionary,
    private readonly source: DataSource,
    private readonly dataTables: TableInfo[],
    private readonly options: CheckOptions,
  ) {}

  async checkTables(): Promise<void> {
    for (const table of this.dictionary.tables) {
      const info = this.findTable(table.name, table.location, `table "${table.name}"`);
      if (info === undefined) continue;
      this.resolved.set(table.name, info);
      const withValues: { info: ColumnInfo; values: ValueEntry[]; location: SourceLocation | undefined }[] = [];
      for (const column of table.columns) {
        const columnInfo = this.findColumn(info, column.name, column.location, `column "${table.name}.${column.name}"`);
        if (columnInfo === undefined) continue;
        if (column.type !== undefined && familyGroup(column.type) !== familyGroup(columnInfo.family)) {
          this.problems.push(
            problemAt('warning', column.location, `column "${table.name}.${column.name}" is recorded as ${column.type}, but the data has ${columnInfo.nativeType} (${columnInfo.family}).`),
          );
        }
        if (column.values.length > 0) withValues.push({ info: columnInfo, values: column.values, location: column.location });
      }
      for (const key of table.primaryKey) this.findColumn(info, key, table.location, `primary key of table "${table.name}"`);
      if (withValues.length > 0) await this.checkValues(table.name, info, withValues);
    }
  }

  checkRelationships(): void {
    for (const relationship of this.dictionary.relationships) {
      for (const side of [relationship.from, relationship.to]) this.findReference(side, relationship.location, 'relationship');
    }
  }

  async checkMetrics(): Promise<void> {
    for (const metric of this.dictionary.metrics) {
      const analysis = analyseMetricSql(metric.sql);
      if (!analysis.ok) {
        this.problems.push(problemAt('error', metric.location, `metric "${metric.name}": ${analysis.problem}.`));
        continue;
      }
      let allFound = true;
      const tables: string[] = [];
      for (const reference of analysis.references) {
        if (reference.table === undefined) {
          allFound = false;
          this.problems.push(problemAt('error', metric.location, `metric "${metric.name}": write column "${reference.column}" as table.column.`));
          continue;
        }
        const found = this.findReference({ table: reference.table, column: reference.column }, metric.location, `metric "${metric.name}"`);
        if (found === undefined) allFound = false;
        else if (!tables.includes(found.name)) tables.push(found.name);
      }
      if (allFound && tables.length > 0 && this.options.runMetrics !== false) await this.runMetric(metric, tables);
    }
  }

  private findTable(name: string, location: SourceLocation | undefined, what: string): TableInfo | undefined {
    const match = matchName(
      name,
      this.dataTables.map((table) => table.name),
    );
    if (match.kind === 'missing') {
      this.problems.push(problemAt('error', location, `${what} is not in the data (${this.source.label}).${didYouMean(match.suggestion)}`));
      return undefined;
    }
    if (match.kind === 'case') this.problems.push(problemAt('warning', location, `${what} is spelled "${match.name}" in the data; write it that way.`));
    return this.dataTables.find((table) => table.name === match.name);
  }

  private findColumn(table: TableInfo, name: string, location: SourceLocation | undefined, what: string): ColumnInfo | undefined {
    const match = matchName(
      name,
      table.columns.map((column) => column.name),
    );
    if (match.kind === 'missing') {
      this.problems.push(problemAt('error', location, `${what}: table "${table.name}" has no column "${name}".${didYouMean(match.suggestion)}`));
      return undefined;
    }
    if (match.kind === 'case') this.problems.push(problemAt('warning', location, `${what}: the data spells column "${name}" as "${match.name}"; write it that way.`));
    return table.columns.find((column) => column.name === match.name);
  }

  /** Finds the table (through the dictionary's spelling first) and the column of a reference. */
  private findReference(reference: ColumnReference, location: SourceLocation | undefined, what: string): TableInfo | undefined {
    const declared = matchName(
      reference.table,
      this.dictionary.tables.map((table) => table.name),
    );
    const info =
      declared.kind === 'missing' ? this.findTable(reference.table, location, `${what}: table "${reference.table}"`) : this.resolved.get(declared.name);
    if (info === undefined) return undefined;
    return this.findColumn(info, reference.column, location, what) === undefined ? undefined : info;
  }

  private async checkValues(tableName: string, info: TableInfo, columns: { info: ColumnInfo; values: ValueEntry[]; location: SourceLocation | undefined }[]): Promise<void> {
    const categoricalLimit = Math.max(50, ...columns.map((column) => column.values.length * 2));
    const profileOptions = this.options.signal === undefined ? { categoricalLimit } : { categoricalLimit, signal: this.options.signal };
    let profiles: ColumnProfile[];
    try {
      profiles = (await this.source.profileTable(info.name, profileOptions)).columns;
    } catch (error) {
      this.problems.push(problemAt('warning', columns[0]?.location, `could not read the values of table "${tableName}" to check them: ${firstLine(messageOf(error))}`));
      return;
    }
    for (const column of columns) {
      const profile = profiles.find((candidate) => candidate.name === column.info.name);
      if (profile === undefined) continue;
      const dataValues = await this.distinctValues(info, column.info, profile, categoricalLimit);
      // Too many distinct values to list: the listed ones cannot be checked cheaply.
      if (dataValues === undefined) continue;
      const matched = new Set<SqlValue>();
      for (const value of column.values) {
        const exact = dataValues.find((dataValue) => sameValue(value, dataValue, column.info.family, false));
        if (exact !== undefined) {
          matched.add(exact);
          continue;
        }
        const other = dataValues.find((dataValue) => sameValue(value, dataValue, column.info.family, true));
        if (other !== undefined) {
          matched.add(other);
          this.problems.push(problemAt('warning', value.location ?? column.location, `value "${value.value}" of ${tableName}.${column.info.name} is written "${String(other)}" in the data.`));
        } else {
          this.problems.push(
            problemAt('warning', value.location ?? column.location, `value "${value.value}" of ${tableName}.${column.info.name} never occurs in the data, which has: ${listValues(dataValues)}.`),
          );
        }
      }
      const unlisted = dataValues.filter((dataValue) => !matched.has(dataValue));
      if (unlisted.length > 0) {
        this.problems.push(problemAt('warning', column.location, `${tableName}.${column.info.name} also holds values the dictionary does not list: ${listValues(unlisted)}.`));
      }
    }
  }

  /**
   * All distinct values of a column, or undefined when there are more than `limit`. The profile has
   * them for categorical columns; a small table's column with few values that do not repeat enough to
   * count as categorical is read with one DISTINCT query.
   */
  private async distinctValues(table: TableInfo, column: ColumnInfo, profile: ColumnProfile, limit: number): Promise<SqlValue[] | undefined> {
    if (profile.categorical) return profile.values.map((item) => item.value);
    if (profile.distinctCount === 0 || profile.distinctCount > limit || profile.sampledRows < table.rowCount) return undefined;
    const quoted = this.source.quoteIdentifier(column.name);
    const queryOptions: { maxRows: number; signal?: AbortSignal } = { maxRows: limit };
    if (this.options.signal !== undefined) queryOptions.signal = this.options.signal;
    try {
      const result = await this.source.query(`SELECT DISTINCT ${quoted} FROM ${this.tableSql(table.name)} WHERE ${quoted} IS NOT NULL`, queryOptions);
      return result.truncated ? undefined : result.rows.map((row) => row[0] ?? null);
    } catch {
      // Values are a nicety: a column that cannot be read this way is simply not checked.
      return undefined;
    }
  }

  private async runMetric(metric: MetricEntry, tables: string[]): Promise<void> {
    const from = this.fromClause(tables);
    if (from === undefined) {
      this.problems.push(
        problemAt('error', metric.location, `metric "${metric.name}" reads tables ${tables.join(', ')}, but no relationship joins them; add one under \`relationships:\`.`),
      );
      return;
    }
    const queryOptions: { maxRows: number; timeoutMs?: number; signal?: AbortSignal } = { maxRows: 1 };
    if (this.options.metricTimeoutMs !== undefined) queryOptions.timeoutMs = this.options.metricTimeoutMs;
    if (this.options.signal !== undefined) queryOptions.signal = this.options.signal;
    try {
      await this.source.query(`SELECT ${metric.sql} AS metric_value FROM ${from}`, queryOptions);
    } catch (error) {
      this.problems.push(problemAt('error', metric.location, `metric "${metric.name}" fails on the data: ${firstLine(messageOf(error))}`));
    }
  }

  /**
   * `FROM a LEFT JOIN b ON …` over the shortest chains of declared relationships from the first table
   * to each other one; undefined when some table cannot be reached. Tables keep their own names (no
   * aliases), so the metric's `table.column` references resolve.
   */
  private fromClause(tables: string[]): string | undefined {
    const [first, ...others] = tables;
    if (first === undefined) return undefined;
    const edges = this.dataRelationships();
    const joined = new Set([first]);
    const joins: string[] = [];
    for (const target of others) {
      if (joined.has(target)) continue;
      const path = shortestPath(joined, target, edges);
      if (path === undefined) return undefined;
      for (const step of path) {
        joined.add(step.to.table);
        joins.push(`LEFT JOIN ${this.tableSql(step.to.table)} ON ${this.columnSql(step.from)} = ${this.columnSql(step.to)}`);
      }
    }
    return [this.tableSql(first), ...joins].join(' ');
  }

  /** The declared relationships, with tables and columns as the data spells them. */
  private dataRelationships(): Relationship[] {
    const edges: Relationship[] = [];
    for (const relationship of this.dictionary.relationships) {
      const from = this.dataReference(relationship.from);
      const to = this.dataReference(relationship.to);
      if (from !== undefined && to !== undefined) edges.push({ from, to });
    }
    return edges;
  }

  private dataReference(reference: ColumnReference): ColumnReference | undefined {
    const declared = matchName(
      reference.table,
      this.dictionary.tables.map((table) => table.name),
    );
    const info =
      declared.kind === 'missing'
        ? this.dataTables.find((table) => table.name.toLowerCase() === reference.table.toLowerCase())
        : this.resolved.get(declared.name);
    const column = info?.columns.find((candidate) => candidate.name.toLowerCase() === reference.column.toLowerCase());
    return info === undefined || column === undefined ? undefined : { table: info.name, column: column.name };
  }

  private tableSql(name: string): string {
    const info = this.dataTables.find((table) => table.name === name);
    const quoted = this.source.quoteIdentifier(name);
    return info === undefined || info.schema === '' ? quoted : `${this.source.quoteIdentifier(info.schema)}.${quoted}`;
  }

  private columnSql(reference: ColumnReference): string {
    return `${this.source.quoteIdentifier(reference.table)}.${this.source.quoteIdentifier(reference.column)}`;
  }
}

/** Breadth-first search from any joined table to `target`; each step's `to` is the newly joined table. */
function shortestPath(joined: Set<string>, target: string, edges: Relationship[]): Relationship[] | undefined {
  const previous = new Map<string, Relationship | null>([...joined].map((table) => [table, null]));
  const queue = [...joined];
  while (queue.length > 0) {
    const table = queue.shift() as string;
    if (table === target) break;
    for (const edge of edges) {
      for (const step of [edge, { from: edge.to, to: edge.from }]) {
        if (step.from.table !== table || previous.has(step.to.table)) continue;
        previous.set(step.to.table, step);
        queue.push(step.to.table);
      }
    }
  }
  if (!previous.has(target)) return undefined;
  const path: Relationship[] = [];
  for (let step = previous.get(target); step !== null && step !== undefined; step = previous.get(step.from.table)) path.unshift(step);
  return path;
}

/** Families that compare with each other without a warning. */
function familyGroup(family: TypeFamily): string {
  if (family === 'integer' || family === 'decimal' || family === 'float') return 'number';
  if (family === 'date' || family === 'timestamp' || family === 'time') return 'temporal';
  return family;
}

const trueWords = new Set(['true', 't', 'yes', 'y', '1']);
const falseWords = new Set(['false', 'f', 'no', 'n', '0']);

/**
 * Whether a listed value is a value of the data. Numbers compare as numbers; a boolean column also
 * matches yes/no and 1/0 (CSV readers often turn Yes/No columns into booleans). `loosely` ignores case.
 */
function sameValue(value: ValueEntry, dataValue: SqlValue, family: TypeFamily, loosely: boolean): boolean {
  if (dataValue === null) return false;
  if (typeof dataValue === 'boolean' || family === 'boolean') {
    const text = value.value.toLowerCase();
    const truth = trueWords.has(text) ? true : falseWords.has(text) ? false : undefined;
    return truth !== undefined && String(truth) === String(dataValue).toLowerCase() && (loosely || text === String(dataValue));
  }
  if (typeof dataValue === 'number') return value.value.trim() !== '' && Number(value.value) === dataValue;
  return loosely ? dataValue.toLowerCase() === value.value.toLowerCase() : dataValue === value.value;
}

function listValues(values: SqlValue[]): string {
  const shown = values.slice(0, shownValues).map((value) => `"${String(value)}"`);
  return values.length > shownValues ? `${shown.join(', ')}, … (${values.length} in all)` : shown.join(', ');
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
