/**
 * The tools the model is given. Their names and arguments are a contract (other parts and checks rely
 * on them): list_tables, describe_table {table}, search_dictionary {query}, run_sql {sql},
 * load_data {sql, name}, run_python {code}, show_chart {spec}, remember {note}, write_report.
 *
 * A tool that fails (a refused statement, a query error, a Python exception, bad arguments) returns
 * the failure as data for the model to repair; only a failure of the system (the database or the
 * sandbox gone) is thrown. Everything a tool returns to the model passes the data protection rules:
 * restricted columns never leave the database, confidential ones are masked, and with `sendValues`
 * off no data value is sent at all unless it is an aggregate the user lets through.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { findColumn, findTable, type Dictionary } from '../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../errors.js';
import type { ToolDefinition } from '../llm/llm.js';
import type { MemoryStore } from '../memory/memory-store.js';
import { buildSearchIndex } from '../memory/search-index.js';
import { isAggregateQuery } from '../protection/aggregate-query.js';
import { readsValueStatistics } from '../protection/value-statistics.js';
import { judgeSensitiveColumns, maskedIndexes, maskRows } from '../protection/sensitive-columns.js';
import type { KernelSession } from '../sandbox/kernel-session.js';
import { tableMimeType, type CellOutput, type TablePreview } from '../sandbox/protocol.js';
import { inspectSql } from '../guard/guard.js';
import type { DataSource, SqlValue, TableInfo } from '../sources/source.js';
import { fromReview, type Approver, type CodeFinding, type PendingCode } from './approval.js';
import { capText, defaultResultLimits, tableText, type ResultLimits } from './result-text.js';

export const agentToolNames = ['list_tables', 'describe_table', 'search_dictionary', 'run_sql', 'load_data', 'run_python', 'show_chart', 'remember', 'write_report'] as const;
export type AgentToolName = (typeof agentToolNames)[number];

export const chartTypes = ['bar', 'line', 'pie', 'scatter', 'histogram', 'table', 'number'] as const;

const chartSpecSchema = z.object({
  type: z.enum(chartTypes),
  title: z.string().max(200).default(''),
  x: z.string().optional(),
  y: z.union([z.string(), z.array(z.string())]).optional(),
  series: z.string().optional(),
  /** Inline data; when absent the chart draws the last SQL result. */
  data: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }).optional(),
});

/** A chart the model asked for, with the data it draws. */
export interface AgentChart {
  type: (typeof chartTypes)[number];
  title: string;
  x?: string;
  y?: string[];
  series?: string;
  data: { columns: string[]; rows: unknown[][] };
  /** The spec's file in the session folder. */
  file: string;
}

const argumentSchemas = {
  list_tables: z.object({}).loose(),
  describe_table: z.object({ table: z.string().min(1) }),
  search_dictionary: z.object({ query: z.string().min(1) }),
  run_sql: z.object({ sql: z.string().min(1) }),
  load_data: z.object({ sql: z.string().min(1), name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Python variable name') }),
  run_python: z.object({ code: z.string().min(1) }),
  show_chart: z.object({ spec: chartSpecSchema }),
  remember: z.object({ note: z.string().min(1).max(2000), kind: z.enum(['definition', 'preference', 'corrected_sql', 'note']).optional() }),
  write_report: z.object({ title: z.string().optional(), summary: z.string().optional() }).loose(),
} satisfies Record<AgentToolName, z.ZodType>;

const descriptions: Record<AgentToolName, { description: string; parameters: Record<string, unknown> }> = {
  list_tables: { description: 'List the tables with their row counts and what they hold.', parameters: { type: 'object', properties: {} } },
  describe_table: {
    description: 'Describe one table: its columns with types, meanings, units, sensitivity, known values and their synonyms, plus statistics (distinct and null counts, sample values).',
    parameters: { type: 'object', properties: { table: { type: 'string', description: 'the table name' } }, required: ['table'] },
  },
  search_dictionary: {
    description: 'Search the data dictionary, the metric dictionary and remembered notes (BM25) for a word or phrase in any language, e.g. 流失率 or "monthly fee". Use it to find the column or governed metric a word means.',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
  run_sql: {
    description: 'Run one read-only SQL query (SELECT / WITH) on the database, in its dialect, and see the result (capped). Aggregate in SQL where you can.',
    parameters: { type: 'object', properties: { sql: { type: 'string' } }, required: ['sql'] },
  },
  load_data: {
    description: 'Run one read-only SQL query and load its whole result into the Python sandbox as pandas DataFrame `name`.',
    parameters: { type: 'object', properties: { sql: { type: 'string' }, name: { type: 'string', description: 'a Python variable name' } }, required: ['sql', 'name'] },
  },
  run_python: {
    description: 'Run Python in the stateful sandbox (pandas, numpy, scipy, scikit-learn, statsmodels, matplotlib, seaborn; no network, no files outside the workspace). Variables persist between calls. The last expression is shown; matplotlib figures are captured.',
    parameters: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] },
  },
  show_chart: {
    description: 'Show a chart of the last SQL result (or of inline data) to the user. spec: {type: bar|line|pie|scatter|histogram|table|number, title, x: column, y: column or columns, series?: column, data?: {columns, rows}}.',
    parameters: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            type: { type: 'string', enum: [...chartTypes] },
            title: { type: 'string' },
            x: { type: 'string' },
            y: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            series: { type: 'string' },
            data: { type: 'object', properties: { columns: { type: 'array', items: { type: 'string' } }, rows: { type: 'array', items: { type: 'array' } } } },
          },
          required: ['type'],
        },
      },
      required: ['spec'],
    },
  },
  remember: {
    description: 'Propose a long-term note (a definition, a preference, a corrected SQL) for later questions. It is saved only after the user confirms.',
    parameters: { type: 'object', properties: { note: { type: 'string' }, kind: { type: 'string', enum: ['definition', 'preference', 'corrected_sql', 'note'] } }, required: ['note'] },
  },
  write_report: {
    description: 'Write a Markdown report of this analysis (question, data used, steps with their code, findings) into the session folder.',
    parameters: { type: 'object', properties: { title: { type: 'string' }, summary: { type: 'string', description: 'the findings, in the user\'s language' } } },
  },
};

export function toolDefinitions(): ToolDefinition[] {
  return agentToolNames.map((name) => ({ name, description: descriptions[name].description, parameters: descriptions[name].parameters }));
}

/** What a tool call came to: the text for the model, a summary for the steps, and what the user sees. */
export interface ToolRunResult {
  status: 'ok' | 'error' | 'refused';
  forModel: string;
  summary: string;
  rows?: number;
  truncated?: boolean;
  files?: string[];
  /** A table result, unmasked: for the user, never sent as is. */
  table?: { columns: string[]; rows: SqlValue[][]; truncated: boolean };
  sql?: string;
  chart?: AgentChart;
  outputs?: CellOutput[];
}

/** A call checked before it runs: bad arguments and refusals come back at once, code waits for approval. */
export type PreparedCall =
  | { kind: 'invalid'; result: ToolRunResult }
  | { kind: 'ready'; tool: AgentToolName; args: Record<string, unknown>; pending?: PendingCode };

export interface ToolboxOptions {
  source: DataSource;
  dictionary: Dictionary;
  tables: TableInfo[];
  /** The session's folder, for charts, figures and reports. */
  folder: string;
  sessionName: string;
  /** False: no data value goes to the model, only the schema and aggregates the user lets through. */
  sendValues: boolean;
  /** True when -y approved everything in advance, sharing of aggregates included. */
  approveAll: boolean;
  memory: MemoryStore;
  /** Salt of the session's masking pseudonyms, so the same value masks the same way all session. */
  maskSalt: string;
  limits?: ResultLimits;
  /** Python runs without bubblewrap only when the user said --no-sandbox. */
  sandbox: boolean;
  approver?: Approver;
  /** The question of the current turn, recorded with proposed memories. */
  question: () => string;
  /** Writes the analysis report of the current turn (write_report); resolves to the files written. */
  writeReport: (title: string | undefined, summary: string | undefined) => Promise<{ folder: string; files: string[]; warnings: string[] }>;
  onNote?: (text: string) => void;
  /**
   * DataFrames loaded earlier in the session, by other processes: loaded again, in order, when this
   * process first starts Python, so a resumed session finds them (other variables are not restored).
   */
  restoreFrames?: readonly { sql: string; name: string }[];
}

function invalid(message: string): PreparedCall {
  return { kind: 'invalid', result: { status: 'error', forModel: message, summary: message } };
}

function refused(message: string): PreparedCall {
  return { kind: 'invalid', result: { status: 'refused', forModel: message, summary: message } };
}

/** Names of confidential columns in the dictionary, lower-cased: a second net when masking results by name. */
function confidentialNames(dictionary: Dictionary): Set<string> {
  const names = new Set<string>();
  for (const table of dictionary.tables) for (const column of table.columns) if (column.sensitivity === 'confidential' || column.sensitivity === 'restricted') names.add(column.name.toLowerCase());
  return names;
}

export class Toolbox {
  private readonly options: ToolboxOptions;
  private readonly limits: ResultLimits;
  private kernel: KernelSession | undefined;
  private lastTable: { columns: string[]; rows: SqlValue[][] } | undefined;
  private chartCount = 0;
  private figureCount = 0;
  private readonly sensitiveNames: Set<string>;
  private restoredNote: string | undefined;

  constructor(options: ToolboxOptions) {
    this.options = options;
    this.limits = options.limits ?? defaultResultLimits;
    this.sensitiveNames = confidentialNames(options.dictionary);
  }

  /** Checks a call's name and arguments, and refuses SQL the guard or the protection rules would refuse. */
  async prepare(id: string, name: string, rawArguments: string): Promise<PreparedCall> {
    if (!(agentToolNames as readonly string[]).includes(name)) {
      return invalid(`There is no tool "${name}". The tools are: ${agentToolNames.join(', ')}.`);
    }
    const tool = name as AgentToolName;
    let parsed: unknown;
    try {
      parsed = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
    } catch (error) {
      return invalid(`The arguments of ${tool} were not valid JSON (${messageOf(error)}). Send them again as one JSON object, e.g. ${exampleArguments(tool)}.`);
    }
    const checked = argumentSchemas[tool].safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return invalid(`Bad arguments for ${tool}: ${issue?.path.join('.') || 'arguments'}: ${issue?.message ?? 'invalid'}. Expected ${exampleArguments(tool)}.`);
    }
    const args = checked.data as Record<string, unknown>;
    if (tool === 'run_sql' || tool === 'load_data') {
      const sql = String(args['sql']);
      const verdict = inspectSql(sql, this.options.source.dialect);
      if (!verdict.allowed) return refused(`Refused ${verdict.kind} statement: ${verdict.reason ?? 'not a read-only query'}. Only one read-only SELECT (or WITH … SELECT) runs.`);
      const protection = judgeSensitiveColumns(sql, this.options.source.dialect, this.options.dictionary, this.options.tables);
      const statistics = this.sensitiveNames.size > 0 ? readsValueStatistics(sql, this.options.source.dialect) : undefined;
      if (statistics !== undefined) return refused(`Refused: ${statistics} holds sample values of every column, including sensitive ones. Query the tables themselves.`);
      if (!protection.allowed) return refused(`Refused: ${protection.reason ?? 'the query would take a restricted column out of the database'}.`);
      const findings: CodeFinding[] = [{ severity: 'info', kind: 'guard', message: `read-only ${verdict.kind} (checked by the SQL guard)` }];
      if (protection.masked.length > 0) findings.push({ severity: 'info', kind: 'confidential', message: `masked for the model: ${protection.masked.map((column: { name: string }) => column.name).join(', ')}` });
      return { kind: 'ready', tool, args, pending: { id, tool, language: 'sql', code: sql, ...(tool === 'load_data' ? { name: String(args['name']) } : {}), findings } };
    }
    if (tool === 'run_python') {
      const code = String(args['code']);
      const kernel = await this.kernelSession();
      const findings = fromReview(await kernel.review(code));
      return { kind: 'ready', tool, args, pending: { id, tool, language: 'python', code, findings } };
    }
    return { kind: 'ready', tool, args };
  }

  /** Runs a prepared call (after approval, with the approved code). */
  async run(tool: AgentToolName, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolRunResult> {
    switch (tool) {
      case 'list_tables':
        return this.listTables();
      case 'describe_table':
        return this.describeTable(String(args['table']));
      case 'search_dictionary':
        return this.searchDictionary(String(args['query']));
      case 'run_sql':
        return this.runSql(String(args['sql']), signal);
      case 'load_data':
        return this.loadData(String(args['sql']), String(args['name']), signal);
      case 'run_python':
        return this.runPython(String(args['code']), signal);
      case 'show_chart':
        return this.showChart(args['spec'] as z.infer<typeof chartSpecSchema>);
      case 'remember':
        return this.remember(String(args['note']), args['kind'] as string | undefined);
      case 'write_report':
        return this.writeReport(args['title'] as string | undefined, args['summary'] as string | undefined);
    }
  }

  private listTables(): ToolRunResult {
    const lines = this.options.tables.map((table) => {
      const entry = findTable(this.options.dictionary, table.name);
      const about = entry?.description === undefined ? '' : `: ${entry.description}`;
      return `${table.name} (${table.rowCountExact ? '' : '~'}${table.rowCount} rows, ${table.columns.length} columns)${about}`;
    });
    return { status: 'ok', forModel: capText(lines.join('\n'), this.limits.chars), summary: `${lines.length} tables` };
  }

  private async describeTable(name: string): Promise<ToolRunResult> {
    const info = this.options.tables.find((table) => table.name === name) ?? this.options.tables.find((table) => table.name.toLowerCase() === name.toLowerCase());
    if (info === undefined) {
      const message = `No table "${name}". The tables are: ${this.options.tables.map((table) => table.name).join(', ')}.`;
      return { status: 'error', forModel: message, summary: message };
    }
    const entry = findTable(this.options.dictionary, info.name);
    const profile = await this.options.source.profileTable(info.name).catch(() => undefined);
    const lines = [`Table ${info.name}: ${info.rowCount} rows${entry?.description === undefined ? '' : `. ${entry.description}`}`];
    if (entry !== undefined && entry.synonyms.length > 0) lines.push(`Also called: ${entry.synonyms.join(', ')}`);
    if (info.primaryKey.length > 0) lines.push(`Primary key: ${info.primaryKey.join(', ')}`);
    for (const key of info.foreignKeys) lines.push(`Foreign key: ${key.columns.join(', ')} → ${key.referencedTable}(${key.referencedColumns.join(', ')})`);
    for (const relationship of this.options.dictionary.relationships) {
      if (relationship.from.table === info.name) lines.push(`Joins: ${relationship.from.table}.${relationship.from.column} = ${relationship.to.table}.${relationship.to.column}`);
    }
    lines.push('Columns:');
    for (const column of info.columns) {
      const meaning = entry === undefined ? undefined : findColumn(entry, column.name);
      const sensitivity = meaning?.sensitivity ?? 'public';
      const parts = [`- ${column.name} ${column.nativeType}`];
      if (meaning?.description !== undefined) parts.push(meaning.description);
      if (meaning?.unit !== undefined) parts.push(`unit ${meaning.unit}`);
      if (meaning !== undefined && meaning.synonyms.length > 0) parts.push(`synonyms: ${meaning.synonyms.join(', ')}`);
      if (sensitivity === 'restricted') parts.push('RESTRICTED: may only be counted (COUNT / COUNT DISTINCT) or tested IS NULL; never selected');
      else if (sensitivity === 'confidential') parts.push('CONFIDENTIAL: values are masked for you');
      const stats = profile?.columns.find((candidate) => candidate.name === column.name);
      if (stats !== undefined) {
        parts.push(`${stats.distinctCount} distinct, ${stats.nullCount} null`);
        const showValues = this.options.sendValues && sensitivity !== 'restricted' && sensitivity !== 'confidential';
        if (showValues && meaning !== undefined && meaning.values.length > 0) {
          parts.push(`values: ${meaning.values.map((value) => (value.synonyms.length > 0 ? `${value.value} (${value.synonyms.join('/')})` : value.value)).join(', ')}`);
        } else if (showValues && stats.values.length > 0) {
          parts.push(`${stats.categorical ? 'values' : 'e.g.'}: ${stats.values.slice(0, 12).map((value) => String(value.value)).join(', ')}`);
        }
      }
      lines.push(parts.join('; '));
    }
    const metrics = this.options.dictionary.metrics.filter((metric) => metric.sql.includes(`${info.name}.`));
    if (metrics.length > 0) {
      lines.push('Governed metrics (use these definitions):');
      for (const metric of metrics) lines.push(`- ${metric.name} (${metric.label}${metric.synonyms.length > 0 ? `; ${metric.synonyms.join(', ')}` : ''}) = ${metric.sql}`);
    }
    return { status: 'ok', forModel: capText(lines.join('\n'), this.limits.chars * 2), summary: `${info.name}: ${info.columns.length} columns, ${info.rowCount} rows` };
  }

  private searchDictionary(query: string): ToolRunResult {
    const index = buildSearchIndex(this.options.dictionary, this.options.memory.list({ status: 'saved' }));
    const hits = index.search(query, 8);
    if (hits.length === 0) return { status: 'ok', forModel: `Nothing in the dictionary matches "${query}". Try another word, or list_tables / describe_table.`, summary: 'no match' };
    return { status: 'ok', forModel: hits.map((hit) => `[${hit.kind}] ${hit.text}`).join('\n'), summary: `${hits.length} matches: ${hits.slice(0, 3).map((hit) => hit.name).join(', ')}` };
  }

  /** Which result columns the model must not see raw: the protection verdict's, plus any named like a sensitive column. */
  private maskedColumns(sql: string, columns: readonly string[]): number[] {
    const verdict = judgeSensitiveColumns(sql, this.options.source.dialect, this.options.dictionary, this.options.tables);
    const masked = new Set(maskedIndexes(verdict, columns.length));
    columns.forEach((name, index) => {
      if (this.sensitiveNames.has(name.toLowerCase())) masked.add(index);
    });
    return [...masked].sort((left, right) => left - right);
  }

  /** May these rows go to the model? With values off, only aggregates the user (or -y) lets through. */
  private async maySend(sql: string, columns: readonly string[], rows: readonly SqlValue[][]): Promise<boolean> {
    if (this.options.sendValues) return true;
    if (!isAggregateQuery(sql, this.options.source.dialect)) return false;
    if (this.options.approveAll) return true;
    const approver = this.options.approver;
    if (approver?.approveSharing === undefined) return false;
    return approver.approveSharing({ columns, rows: rows.length, preview: tableText(columns, rows, { limits: { rows: 10, chars: 2000 } }) });
  }

  private async runSql(sql: string, signal?: AbortSignal): Promise<ToolRunResult> {
    try {
      const result = await this.options.source.query(sql, { maxRows: 10_000, ...(signal === undefined ? {} : { signal }) });
      const columns = result.columns.map((column) => column.name);
      this.lastTable = { columns, rows: result.rows };
      const base = { rows: result.rowCount, truncated: result.truncated, sql, table: { columns, rows: result.rows, truncated: result.truncated } };
      const summary = `${result.rowCount}${result.truncated ? '+' : ''} rows × ${columns.length} columns (${columns.join(', ')})`;
      if (!(await this.maySend(sql, columns, result.rows))) {
        return { ...base, status: 'ok', summary, forModel: `The query ran: ${summary}. Its values are withheld from you by the privacy setting (the user sees them); only aggregate results the user approves are shared.` };
      }
      const masked = this.maskedColumns(sql, columns);
      const rows = masked.length === 0 ? result.rows : maskRows(result.rows, masked, this.options.maskSalt);
      const note = masked.length === 0 ? '' : `\n(confidential columns masked: ${masked.map((index) => columns[index]).join(', ')})`;
      return { ...base, status: 'ok', summary, forModel: tableText(columns, rows, { truncated: result.truncated, limits: this.limits }) + note };
    } catch (error) {
      return this.toolFailure(error);
    }
  }

  /** Query errors are the model's to repair; a lost connection or an internal failure stops the turn. */
  private toolFailure(error: unknown): ToolRunResult {
    if (error instanceof IqueryError && ['sql_refused', 'query_failed', 'query_timeout', 'not_found', 'bad_input'].includes(error.code)) {
      const message = `${error.code}: ${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}`;
      return { status: error.code === 'sql_refused' ? 'refused' : 'error', forModel: this.redactValues(message), summary: message };
    }
    throw error;
  }

  /**
   * A database's error can quote the value it choked on ("could not convert 'Alice' to INT"). Where
   * the dictionary marks columns sensitive, quoted text is cut from what the model reads (or
   * everything, with values off); the user's own summary keeps it.
   */
  private redactValues(message: string): string {
    if (!this.options.sendValues) return message.split('\n')[0]?.replace(/'(?:[^']|'')*'/g, "'…'") ?? '';
    if (this.sensitiveNames.size === 0) return message;
    return message.replace(/'(?:[^']|'')*'/g, "'…'");
  }

  private async kernelSession(): Promise<KernelSession> {
    if (this.kernel !== undefined) return this.kernel;
    const { KernelSession } = await import('../sandbox/kernel-session.js');
    this.options.onNote?.('starting the Python sandbox…');
    const kernel = await KernelSession.create({ sandbox: this.options.sandbox });
    this.kernel = kernel;
    for (const warning of kernel.confinement.warnings) this.options.onNote?.(`warning: ${warning}`);
    await this.restoreFrames(kernel);
    return kernel;
  }

  /** Loads again the DataFrames of earlier processes of the session (the last load of each name). */
  private async restoreFrames(kernel: KernelSession): Promise<void> {
    const latest = new Map<string, string>();
    for (const frame of this.options.restoreFrames ?? []) {
      latest.delete(frame.name);
      latest.set(frame.name, frame.sql);
    }
    const restored: string[] = [];
    for (const [name, sql] of latest) {
      try {
        await this.putMaskedFrame(kernel, sql, name);
        restored.push(name);
      } catch (error) {
        this.options.onNote?.(`could not restore DataFrame ${name}: ${messageOf(error)}`);
      }
    }
    if (restored.length > 0) {
      this.restoredNote = `(a new Python process: DataFrames loaded again from earlier in the session: ${restored.join(', ')}; other variables from earlier are gone)`;
      this.options.onNote?.(`restored DataFrames ${restored.join(', ')}`);
    }
  }

  /** A query's result as DataFrame `name`, confidential columns replaced by pseudonyms in the sandbox too. */
  private async putMaskedFrame(kernel: KernelSession, sql: string, name: string, signal?: AbortSignal): Promise<{ summary: Awaited<ReturnType<KernelSession['putFrame']>>; masked: string[] }> {
    const summary = await kernel.putFrame(name, this.options.source, sql, signal === undefined ? {} : { signal });
    const columns = summary.columns.map((column) => column.name);
    const masked = this.maskedColumns(sql, columns).map((index) => columns[index] ?? '');
    if (masked.length > 0) {
      // The sandbox gets pseudonyms too: Python output reaches the model, so raw values must not be in the frame.
      const outcome = await kernel.execute(maskingCell(name, masked, this.options.maskSalt));
      if (outcome.status !== 'ok') {
        await kernel.execute(`del ${name}`);
        throw new IqueryError('internal', `Could not mask the confidential columns of ${name}; the frame was discarded.`);
      }
    }
    return { summary, masked };
  }

  /** Said once, with the first Python result after frames were restored. */
  private takeRestoredNote(): string {
    const note = this.restoredNote;
    this.restoredNote = undefined;
    return note === undefined ? '' : `\n${note}`;
  }

  private async loadData(sql: string, name: string, signal?: AbortSignal): Promise<ToolRunResult> {
    const kernel = await this.kernelSession();
    let loaded;
    try {
      loaded = await this.putMaskedFrame(kernel, sql, name, signal);
    } catch (error) {
      return this.toolFailure(error);
    }
    const { summary, masked } = loaded;
    const shape = `DataFrame ${name}: ${summary.rows}${summary.truncated ? '+' : ''} rows × ${summary.columns.length} columns`;
    const dtypes = summary.columns.map((column) => `${column.name} ${column.kind}`).join(', ');
    let head = '';
    if (this.options.sendValues) {
      const preview = await kernel.execute(`${name}.head(5)`);
      head = '\n' + outputsForModel(preview.outputs, this.limits, true);
    }
    const maskNote = masked.length === 0 ? '' : `\n(confidential columns hold pseudonyms: ${masked.join(', ')})`;
    return { status: 'ok', summary: shape, rows: summary.rows, truncated: summary.truncated, sql, forModel: `${shape}\nColumns: ${dtypes}${head}${maskNote}${this.takeRestoredNote()}` };
  }

  private async runPython(code: string, signal?: AbortSignal): Promise<ToolRunResult> {
    const kernel = await this.kernelSession();
    const result = await kernel.execute(code, signal === undefined ? {} : { signal });
    const files: string[] = [];
    for (const output of result.outputs) {
      if (output.output_type !== 'display_data' && output.output_type !== 'execute_result') continue;
      const png = output.data['image/png'];
      if (typeof png !== 'string') continue;
      const file = `charts/figure-${++this.figureCount}.png`;
      mkdirSync(join(this.options.folder, 'charts'), { recursive: true });
      writeFileSync(join(this.options.folder, file), Buffer.from(png, 'base64'));
      files.push(file);
    }
    const lastTable = [...result.outputs].reverse().find((output) => (output.output_type === 'execute_result' || output.output_type === 'display_data') && output.data[tableMimeType] !== undefined);
    if (lastTable !== undefined && lastTable.output_type !== 'stream' && lastTable.output_type !== 'error') {
      const preview = lastTable.data[tableMimeType] as TablePreview;
      this.lastTable = { columns: preview.columns, rows: preview.rows as SqlValue[][] };
    }
    const status = result.status === 'ok' ? 'ok' : 'error';
    const text = outputsForModel(result.outputs, this.limits, this.options.sendValues);
    const figures = files.length === 0 ? '' : `\n(figures saved and shown to the user: ${files.join(', ')})`;
    const restarted = result.kernelRestarted ? '\n(the Python kernel was restarted: earlier variables are gone; load the data again)' : '';
    const headline = result.status === 'ok' ? 'ok' : `${result.status}`;
    const errorOutput = result.outputs.find((output) => output.output_type === 'error');
    // The first printed line says what the cell found (a shape, a count), for the step list and the report.
    const printed = text.split('\n').find((line) => line.trim() !== '')?.trim();
    const summary = errorOutput !== undefined && errorOutput.output_type === 'error' ? `${errorOutput.ename}: ${errorOutput.evalue}`.slice(0, 300) : `${headline}${files.length > 0 ? `, ${files.length} figure(s)` : ''}${printed === undefined ? '' : `: ${printed.length > 100 ? `${printed.slice(0, 99)}…` : printed}`}`;
    return { status, forModel: `${headline}\n${text}${figures}${restarted}${this.takeRestoredNote()}`.trim(), summary, files, outputs: result.outputs };
  }

  private showChart(spec: z.infer<typeof chartSpecSchema>): ToolRunResult {
    const data = spec.data ?? this.lastTable;
    if (data === undefined) return { status: 'error', forModel: 'There is no result to chart yet: run_sql first, or pass spec.data {columns, rows}.', summary: 'no data' };
    const y = spec.y === undefined ? undefined : Array.isArray(spec.y) ? spec.y : [spec.y];
    const missing = [spec.x, ...(y ?? []), spec.series].filter((column): column is string => column !== undefined && !data.columns.includes(column));
    if (missing.length > 0) return { status: 'error', forModel: `The chart names columns the data lacks: ${missing.join(', ')}. The columns are: ${data.columns.join(', ')}.`, summary: 'unknown columns' };
    const file = `charts/chart-${++this.chartCount}.json`;
    const chart: AgentChart = { type: spec.type, title: spec.title, ...(spec.x === undefined ? {} : { x: spec.x }), ...(y === undefined ? {} : { y }), ...(spec.series === undefined ? {} : { series: spec.series }), data: { columns: data.columns, rows: data.rows }, file };
    mkdirSync(join(this.options.folder, 'charts'), { recursive: true });
    writeFileSync(join(this.options.folder, file), JSON.stringify(chart, null, 1));
    return { status: 'ok', forModel: `Chart shown to the user (${spec.type}, ${data.rows.length} points).`, summary: `${spec.type} chart: ${spec.title}`, chart, files: [file] };
  }

  private async remember(note: string, kind: string | undefined): Promise<ToolRunResult> {
    let proposed;
    try {
      proposed = this.options.memory.propose({
        note,
        ...(kind === undefined ? {} : { kind: kind as never }),
        origin: { by: 'model', session: this.options.sessionName, question: this.options.question(), data: this.options.source.label },
      });
    } catch (error) {
      if (error instanceof IqueryError && (error.code === 'usage' || error.code === 'bad_input')) return this.toolFailure(new IqueryError('bad_input', error.message));
      throw error;
    }
    if (proposed.status === 'saved') return { status: 'ok', forModel: 'This note is already saved.', summary: `already saved (${proposed.id})` };
    const approver = this.options.approver;
    if (approver?.confirmMemory !== undefined && (await approver.confirmMemory(note))) {
      this.options.memory.confirm(proposed.id);
      return { status: 'ok', forModel: 'The user confirmed; the note is saved for later questions.', summary: `saved (${proposed.id})` };
    }
    return {
      status: 'ok',
      forModel: 'The note waits for the user to confirm it; it is not used until then. Carry on.',
      summary: `pending confirmation (${proposed.id}): iquery memory confirm ${proposed.id}`,
    };
  }

  private async writeReport(title: string | undefined, summary: string | undefined): Promise<ToolRunResult> {
    const written = await this.options.writeReport(title, summary);
    const relative = written.files.map((file) => file.slice(this.options.folder.length + 1));
    const unsupported = written.warnings.filter((warning) => warning.startsWith('unsupported'));
    return {
      status: 'ok',
      forModel: `Report written: ${relative.join(', ')}.${unsupported.length > 0 ? ` ${unsupported.join(' ')}` : ''}`,
      summary: `report ${relative[0] ?? written.folder}`,
      files: relative,
    };
  }

  /** The kernel, when Python has run (for the session's workspace and clean-up). */
  get pythonSession(): KernelSession | undefined {
    return this.kernel;
  }

  async close(): Promise<void> {
    await this.kernel?.close();
    this.kernel = undefined;
  }
}

function exampleArguments(tool: AgentToolName): string {
  switch (tool) {
    case 'describe_table':
      return '{"table": "orders"}';
    case 'search_dictionary':
      return '{"query": "churn"}';
    case 'run_sql':
      return '{"sql": "SELECT ..."}';
    case 'load_data':
      return '{"sql": "SELECT ...", "name": "df"}';
    case 'run_python':
      return '{"code": "print(df.describe())"}';
    case 'show_chart':
      return '{"spec": {"type": "bar", "title": "...", "x": "col", "y": "value"}}';
    case 'remember':
      return '{"note": "..."}';
    default:
      return '{}';
  }
}

/**
 * A cell that replaces the values of confidential columns of DataFrame `name` with the pseudonyms
 * `maskValue` gives SQL results (HMAC-SHA256 keyed by the session's salt over the value's type and
 * text), keeping nulls, so that a value masks the same way in SQL results and in Python.
 */
function maskingCell(name: string, columns: readonly string[], salt: string): string {
  return [
    'import hmac as __iq_hmac, hashlib as __iq_hashlib, numbers as __iq_numbers, pandas as __iq_pd',
    `def __iq_mask(value, __key=${JSON.stringify(salt)}.encode()):`,
    '    if value is None or (not isinstance(value, str) and __iq_pd.isna(value)):',
    '        return None',
    '    if isinstance(value, bool) or type(value).__name__ == "bool_":',
    '        kind, text = "boolean", "true" if value else "false"',
    '    elif isinstance(value, __iq_numbers.Number):',
    '        kind, text = "number", str(int(value)) if float(value).is_integer() else repr(float(value))',
    '    else:',
    '        kind, text = "string", value.isoformat() if hasattr(value, "isoformat") else str(value)',
    '    digest = __iq_hmac.new(__key, (kind + ":" + text).encode(), __iq_hashlib.sha256).hexdigest()',
    '    return "‹masked:" + digest[:12] + "›"',
    `for __iq_column in ${JSON.stringify(columns)}:`,
    `    ${name}[__iq_column] = ${name}[__iq_column].astype(object).map(__iq_mask)`,
    'del __iq_column, __iq_mask, __iq_hmac, __iq_hashlib, __iq_numbers, __iq_pd',
  ].join('\n');
}

/** The outputs of a cell as text for the model; with values off, only whether it ran and its error's name. */
function outputsForModel(outputs: readonly CellOutput[], limits: ResultLimits, sendValues: boolean): string {
  const parts: string[] = [];
  for (const output of outputs) {
    if (output.output_type === 'error') {
      const last = output.traceback.slice(-6).join('\n').replace(/\x1b\[[0-9;]*m/g, '');
      parts.push(sendValues ? `${output.ename}: ${output.evalue}\n${last}` : `${output.ename} (details withheld by the privacy setting)`);
      continue;
    }
    if (!sendValues) continue;
    if (output.output_type === 'stream') {
      parts.push(output.text);
      continue;
    }
    const table = output.data[tableMimeType] as TablePreview | undefined;
    if (table !== undefined) {
      parts.push(tableText(table.columns, table.rows, { totalRows: table.row_count, limits: { rows: Math.min(limits.rows, 20), chars: limits.chars } }));
      continue;
    }
    if (typeof output.data['image/png'] === 'string') continue;
    const text = output.data['text/plain'];
    if (typeof text === 'string') parts.push(text);
  }
  if (!sendValues && parts.length === 0) parts.push('(output withheld by the privacy setting)');
  return capText(parts.join('\n'), limits.chars);
}
