/**
 * What the MCP tools do, apart from the protocol: each method returns a `CallToolResult`. A tool that
 * fails for a reason the model can act on (a refused statement, a query error, a Python exception, an
 * unknown table) returns the failure as data (`isError: true`); a failure of the system is thrown.
 *
 * Everything here goes to a model, so the agent's data protection rules hold: restricted columns
 * never leave the database, confidential ones are masked with this server's own random salt, and
 * neither shows sample values in descriptions.
 */
import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { capText, tableText } from '../agent/result-text.js';
import type { AskResult, OfflineAnalyst } from '../analyst/analyst.js';
import { findColumn, findTable, type Dictionary, type Sensitivity } from '../dictionary/dictionary.js';
import { IqueryError } from '../errors.js';
import { assertReadOnlySql } from '../guard/guard.js';
import { judgeSensitiveColumns, maskedIndexes, maskRows } from '../protection/sensitive-columns.js';
import { readsValueStatistics } from '../protection/value-statistics.js';
import type { ExecuteResult, KernelSession } from '../sandbox/kernel-session.js';
import { tableMimeType, type TablePreview } from '../sandbox/protocol.js';
import type { DataSource, SqlValue, TableInfo } from '../sources/source.js';

/** Most rows a run_sql or ask result returns; the text and the structured content say when there were more. */
export const mcpMaxRows = 200;

/** Characters of one tool result's text (structured content is not cut). */
const maxTextChars = 40_000;

/** Rows of a Python table preview written out as text. */
const previewRows = 50;

export interface McpToolsOptions {
  source: DataSource;
  dictionary: Dictionary;
  /** false runs Python without bubblewrap (the user's explicit --no-sandbox). Default true. */
  sandbox?: boolean;
  /** Notes for a person (sandbox warnings). */
  onNote?: (text: string) => void;
}

/** A run_sql result as structured content: the (masked) rows returned, at most `mcpMaxRows`. */
export interface SqlContent {
  [key: string]: unknown;
  columns: string[];
  rows: SqlValue[][];
  truncated: boolean;
}

function text(value: string): CallToolResult['content'][number] {
  return { type: 'text', text: value };
}

function toolError(message: string): CallToolResult {
  return { content: [text(message)], isError: true };
}

/** Errors the model can act on become tool errors; anything else (the system failing) is thrown. */
const modelErrors = new Set(['sql_refused', 'query_failed', 'query_timeout', 'query_cancelled', 'not_found', 'bad_input']);

const sensitive = (sensitivity: Sensitivity | undefined): boolean => sensitivity === 'confidential' || sensitivity === 'restricted';

/** The tools behind one MCP server: its Python session, its masking salt and its caches. */
export class McpTools {
  private readonly options: McpToolsOptions;
  /** HMAC key of the masking pseudonyms: random per server, never shown to the model. */
  private readonly maskSalt = randomBytes(32).toString('hex');
  /** Column names marked confidential or restricted anywhere, lower-cased: a second net when masking by name. */
  private readonly sensitiveNames: Set<string>;
  private tables: Promise<TableInfo[]> | undefined;
  private analyst: Promise<OfflineAnalyst> | undefined;
  private kernel: Promise<KernelSession> | undefined;
  /** Cells run one at a time: each has its own time limit, which waiting in a queue must not use up. */
  private pythonQueue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(options: McpToolsOptions) {
    this.options = options;
    this.sensitiveNames = new Set(
      options.dictionary.tables.flatMap((table) => table.columns.filter((column) => sensitive(column.sensitivity)).map((column) => column.name.toLowerCase())),
    );
  }

  private listTablesOnce(): Promise<TableInfo[]> {
    this.tables ??= this.options.source.listTables().catch((error: unknown) => {
      this.tables = undefined;
      throw error;
    });
    return this.tables;
  }

  async listTables(): Promise<CallToolResult> {
    const { source, dictionary } = this.options;
    const tables = await this.listTablesOnce();
    const lines = [`${source.label} (${source.dialect}), ${tables.length} ${tables.length === 1 ? 'table' : 'tables'}:`];
    for (const table of tables) {
      const about = findTable(dictionary, table.name)?.description;
      lines.push(`- ${table.name} (${table.rowCountExact ? '' : '~'}${table.rowCount} rows, ${table.columns.length} columns)${about === undefined ? '' : `: ${about}`}`);
    }
    if (dictionary.metrics.length > 0) {
      lines.push('', 'Governed metrics (use these definitions):');
      for (const metric of dictionary.metrics) lines.push(`- ${metric.name} (${metric.label}) = ${metric.sql}`);
    }
    return { content: [text(capText(lines.join('\n'), maxTextChars))] };
  }

  async describeTable(name: string): Promise<CallToolResult> {
    const { source, dictionary } = this.options;
    const tables = await this.listTablesOnce();
    const info = tables.find((table) => table.name === name) ?? tables.find((table) => table.name.toLowerCase() === name.toLowerCase());
    if (info === undefined) return toolError(`No table "${name}". The tables are: ${tables.map((table) => table.name).join(', ')}.`);
    const entry = findTable(dictionary, info.name);
    const profile = await source.profileTable(info.name);
    const lines = [`Table ${info.name}: ${info.rowCount} rows${info.rowCountExact ? '' : ' (estimate)'}${entry?.description === undefined ? '' : `. ${entry.description}`}`];
    if (entry !== undefined && entry.synonyms.length > 0) lines.push(`Also called: ${entry.synonyms.join(', ')}`);
    if (info.primaryKey.length > 0) lines.push(`Primary key: ${info.primaryKey.join(', ')}`);
    else if (entry !== undefined && entry.primaryKey.length > 0) lines.push(`Primary key: ${entry.primaryKey.join(', ')} (per the dictionary; not declared in the database)`);
    for (const key of info.foreignKeys) lines.push(`Foreign key: ${key.columns.join(', ')} → ${key.referencedTable}(${key.referencedColumns.join(', ')})`);
    for (const relationship of dictionary.relationships) {
      if (relationship.from.table === info.name) lines.push(`Joins: ${relationship.from.table}.${relationship.from.column} = ${relationship.to.table}.${relationship.to.column}`);
    }
    lines.push('Columns:');
    for (const column of info.columns) {
      const meaning = entry === undefined ? undefined : findColumn(entry, column.name);
      const statistics = profile.columns.find((candidate) => candidate.name === column.name);
      const parts = [`- ${column.name} ${column.nativeType}${column.nullable ? '' : ' NOT NULL'}`];
      if (meaning?.description !== undefined) parts.push(meaning.description);
      if (meaning?.unit !== undefined) parts.push(`unit ${meaning.unit}`);
      if (meaning !== undefined && meaning.synonyms.length > 0) parts.push(`synonyms: ${meaning.synonyms.join(', ')}`);
      if (meaning?.sensitivity === 'restricted') parts.push('RESTRICTED: may only be counted (COUNT / COUNT DISTINCT) or tested IS NULL; never selected');
      if (meaning?.sensitivity === 'confidential') parts.push('CONFIDENTIAL: its values are masked in results');
      if (statistics !== undefined) {
        parts.push(`${statistics.distinctCount} distinct, ${statistics.nullCount} null${statistics.unique ? ', unique' : ''}`);
        // Values of sensitive columns are never shown, not even those the dictionary lists.
        if (!sensitive(meaning?.sensitivity) && statistics.values.length > 0) {
          const synonymsOf = (value: SqlValue): string => {
            const known = meaning?.values.find((candidate) => candidate.value === String(value));
            return known === undefined || known.synonyms.length === 0 ? '' : ` (${known.synonyms.join('/')})`;
          };
          parts.push(
            statistics.categorical
              ? `values: ${statistics.values.map((entry) => `${String(entry.value)}${synonymsOf(entry.value)} ×${entry.count}`).join(', ')}`
              : `e.g. ${statistics.values.map((entry) => String(entry.value)).join(', ')}`,
          );
        }
      }
      lines.push(parts.join('; '));
    }
    const metrics = dictionary.metrics.filter((metric) => metric.sql.includes(`${info.name}.`));
    if (metrics.length > 0) {
      lines.push('Governed metrics (use these definitions):');
      for (const metric of metrics) lines.push(`- ${metric.name} (${metric.label}) = ${metric.sql}`);
    }
    return { content: [text(capText(lines.join('\n'), maxTextChars))] };
  }

  async runSql(sql: string, signal?: AbortSignal): Promise<CallToolResult> {
    const { source, dictionary } = this.options;
    try {
      // The guard first, so that a statement that is no query is refused for that (the source checks again).
      assertReadOnlySql(sql, source.dialect);
      if (this.sensitiveNames.size > 0) {
        const statistics = readsValueStatistics(sql, source.dialect);
        if (statistics !== undefined) return toolError(`Refused: ${statistics} holds sample values of every column, including sensitive ones. Query the tables themselves.`);
      }
      const verdict = judgeSensitiveColumns(sql, source.dialect, dictionary, await this.listTablesOnce());
      if (!verdict.allowed) return toolError(`Refused: ${verdict.reason ?? 'the query would take a restricted column out of the database'}`);
      const result = await source.query(sql, { maxRows: mcpMaxRows, ...(signal === undefined ? {} : { signal }) });
      const columns = result.columns.map((column) => column.name);
      const masked = this.maskedColumns(maskedIndexes(verdict, columns.length), columns);
      const rows = maskRows(result.rows, masked, this.maskSalt);
      const notes = [result.truncated ? `(first ${rows.length} rows shown: the result has more; aggregate in SQL or add a LIMIT)` : `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`];
      if (masked.length > 0) notes.push(`(confidential columns masked: ${masked.map((index) => columns[index]).join(', ')})`);
      const structured: SqlContent = { columns, rows, truncated: result.truncated };
      return { content: [text(capText(`${tableText(columns, rows, { limits: { rows: mcpMaxRows, chars: maxTextChars } })}\n${notes.join('\n')}`, maxTextChars))], structuredContent: structured };
    } catch (error) {
      return this.failure(error);
    }
  }

  async runPython(code: string, signal?: AbortSignal): Promise<CallToolResult> {
    const run = this.pythonQueue.then(async () => {
      const kernel = await this.kernelSession();
      return pythonResult(await kernel.execute(code, signal === undefined ? {} : { signal }));
    });
    this.pythonQueue = run.catch(() => undefined);
    return run;
  }

  async ask(question: string, signal?: AbortSignal): Promise<CallToolResult> {
    this.analyst ??= import('../analyst/analyst.js')
      .then(({ OfflineAnalyst }) => OfflineAnalyst.create(this.options.source, this.options.dictionary))
      .catch((error: unknown) => {
        this.analyst = undefined;
        throw error;
      });
    const analyst = await this.analyst;
    const result = await analyst.ask(question, { maxRows: mcpMaxRows, ...(signal === undefined ? {} : { signal }) });
    const protectedResult = await this.protectAnswer(result);
    if (typeof protectedResult === 'string') return toolError(protectedResult);
    const parts = [protectedResult.answer];
    if (protectedResult.status === 'answered' && protectedResult.columns.length > 0) {
      parts.push('', tableText(protectedResult.columns, protectedResult.rows, { limits: { rows: mcpMaxRows, chars: maxTextChars } }));
      if (protectedResult.truncated) parts.push(`(first ${protectedResult.rows.length} rows shown: the result has more)`);
    }
    if (protectedResult.sql !== null) parts.push('', `SQL: ${protectedResult.sql}`);
    return {
      content: [text(capText(parts.join('\n'), maxTextChars))],
      structuredContent: { ...protectedResult },
      ...(protectedResult.status === 'error' ? { isError: true } : {}),
    };
  }

  /**
   * The analyst reads the dictionary but not its sensitivity: its answer passes the same rules as
   * run_sql before the model sees it. A refusal is returned as its message.
   */
  private async protectAnswer(result: AskResult): Promise<AskResult | string> {
    const { source, dictionary } = this.options;
    if (result.status === 'error') return { ...result, answer: this.redactValues(result.answer), ...(result.error === undefined ? {} : { error: { ...result.error, message: this.redactValues(result.error.message) } }) };
    if (result.sql === null) {
      // Questions about the schema: a sensitive column's listed values stay out.
      const plan = result.plan;
      if (plan?.intent !== 'describe_column') return result;
      const table = findTable(dictionary, String(plan['table']));
      const column = table === undefined ? undefined : findColumn(table, String(plan['column']));
      if (column === undefined || !sensitive(column.sensitivity)) return result;
      const withheld = result.language === 'zh' ? `（该列为敏感列，不显示取值）` : ` (its values are not shown: the column is ${column.sensitivity})`;
      return {
        ...result,
        answer: `${table?.name}.${column.name}: ${column.description ?? column.name}${withheld}`,
        rows: result.rows.map((row) => row.map((value, index) => (result.columns[index] === 'values' ? null : value))),
      };
    }
    const verdict = judgeSensitiveColumns(result.sql, source.dialect, dictionary, await this.listTablesOnce());
    if (!verdict.allowed) return `Refused: the analyst's answer is withheld: ${verdict.reason ?? 'its query would take a restricted column out of the database.'}\nSQL: ${result.sql}`;
    const masked = this.maskedColumns(maskedIndexes(verdict, result.columns.length), result.columns);
    if (masked.length === 0) return result;
    const names = masked.map((index) => result.columns[index]).join(', ');
    const chart = result.chart === null ? null : { ...result.chart };
    if (chart !== null) delete chart.points;
    return {
      ...result,
      // The written answer states the values; the masked table below stands in for it.
      answer: result.language === 'zh' ? `结果含有机密列的值（${names}），已做脱敏处理，文字回答不显示。` : `The result holds values of confidential columns (${names}); they are masked, so the written answer is withheld.`,
      rows: maskRows(result.rows, masked, this.maskSalt),
      chart,
    };
  }

  /** Result positions to mask: the verdict's, plus any column named like a sensitive one. */
  private maskedColumns(fromVerdict: readonly number[], columns: readonly string[]): number[] {
    const masked = new Set(fromVerdict);
    columns.forEach((name, index) => {
      if (this.sensitiveNames.has(name.toLowerCase())) masked.add(index);
    });
    return [...masked].sort((left, right) => left - right);
  }

  private failure(error: unknown): CallToolResult {
    if (error instanceof IqueryError && modelErrors.has(error.code)) {
      return toolError(`${error.code}: ${this.redactValues(error.message)}${error.hint === undefined ? '' : `\nhint: ${error.hint}`}`);
    }
    throw error;
  }

  /**
   * A database's error can quote the value it choked on ("could not convert 'Alice' to INT"). Where
   * the dictionary marks columns sensitive, quoted text is cut from what the model reads.
   */
  private redactValues(message: string): string {
    if (this.sensitiveNames.size === 0) return message;
    return message.replace(/'(?:[^']|'')*'/g, "'…'");
  }

  private kernelSession(): Promise<KernelSession> {
    if (this.closing !== undefined) throw new IqueryError('internal', 'This MCP server is closed.');
    this.kernel ??= (async () => {
      const { KernelSession } = await import('../sandbox/kernel-session.js');
      this.options.onNote?.('starting the Python sandbox…');
      const session = await KernelSession.create({ sandbox: this.options.sandbox ?? true });
      for (const warning of session.confinement.warnings) this.options.onNote?.(`warning: ${warning}`);
      return session;
    })().catch((error: unknown) => {
      this.kernel = undefined;
      throw error;
    });
    return this.kernel;
  }

  /** Stops the Python session, if one was started. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const kernel = await this.kernel?.catch(() => undefined);
      await kernel?.close();
    })();
    return this.closing;
  }
}

/**
 * A cell's outputs as MCP content, in order: stream text, the last expression's text or table,
 * figures as PNG images, and errors (which make the result a tool error).
 */
export function pythonResult(result: ExecuteResult): CallToolResult {
  const content: CallToolResult['content'] = [];
  const texts: string[] = [];
  const flush = (): void => {
    const joined = texts.join('').replace(/\n+$/, '');
    if (joined !== '') content.push(text(capText(joined, maxTextChars)));
    texts.length = 0;
  };
  for (const output of result.outputs) {
    switch (output.output_type) {
      case 'stream':
        texts.push(output.name === 'stderr' ? prefixLines(output.text, 'stderr: ') : output.text);
        break;
      case 'error':
        texts.push(`${output.ename}: ${output.evalue}\n${output.traceback.join('\n').replace(/\x1b\[[0-9;]*m/g, '')}\n`);
        break;
      case 'execute_result':
      case 'display_data': {
        const png = output.data['image/png'];
        if (typeof png === 'string') {
          flush();
          content.push({ type: 'image', data: png, mimeType: 'image/png' });
          break;
        }
        const table = output.data[tableMimeType] as TablePreview | undefined;
        if (table !== undefined) {
          const shown = table.rows.slice(0, previewRows);
          texts.push(tableText(table.columns, shown, { limits: { rows: previewRows, chars: maxTextChars } }) + '\n');
          texts.push(table.row_count > shown.length ? `(${shown.length} of ${table.row_count} rows shown)\n` : `(${table.row_count} rows)\n`);
          break;
        }
        const plain = output.data['text/plain'];
        if (typeof plain === 'string') texts.push(plain + '\n');
        break;
      }
    }
  }
  if (result.kernelRestarted) texts.push('(the Python kernel was restarted: earlier variables are gone)\n');
  flush();
  const failed = result.status !== 'ok';
  if (content.length === 0) content.push(text(failed ? `The cell ended with status ${result.status}.` : '(no output)'));
  return failed ? { content, isError: true } : { content };
}

function prefixLines(value: string, prefix: string): string {
  return value.replace(/^(?=.)/gm, prefix);
}
