/**
 * `iquery rerun`: runs a report's analysis again on today's data and says what moved. Every input
 * table is counted and hashed again, every SQL step is run again through the guard and fingerprinted,
 * and where a result's hash differs the first rows are compared cell by cell, so the answer is "which
 * numbers changed", not only "something changed". Python steps run again in the real sandbox on the
 * frames the load_data steps make. The result is returned and written beside the report as rerun.json.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Dictionary } from '../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../errors.js';
import type { KernelSession } from '../sandbox/kernel-session.js';
import { tableMimeType, type CellOutput } from '../sandbox/protocol.js';
import type { DataSource, SqlValue } from '../sources/source.js';
import { reportFiles, type Report, type ReportStep, type ResultFingerprint } from './report.js';
import { canonicalRow, hashQuery, hashTable } from './result-hash.js';

/** The file `rerunReport` writes into the report folder. */
export const rerunFile = 'rerun.json';

/** How a step compares with what the report recorded. */
export const rerunStatuses = ['same', 'changed', 'failed', 'skipped'] as const;
export type RerunStatus = (typeof rerunStatuses)[number];

/** One cell whose value is not what the report recorded. */
export interface NumberChange {
  /** The step's 1-based index in the report. */
  step: number;
  /** The row, by its key cells (`Contract=Month-to-month`), or by position (`row 3`) when it has none. */
  row: string;
  column: string;
  before: SqlValue;
  after: SqlValue;
}

/** A row present on one side only. */
export interface RowPresence {
  step: number;
  row: string;
  values: SqlValue[];
}

/** What identifies a result: its size and content hash (see result-hash.ts). */
export interface ResultSummary {
  columns: string[];
  rowCount: number;
  truncated: boolean;
  hash: string;
}

export interface RerunStep {
  index: number;
  tool: ReportStep['tool'];
  status: RerunStatus;
  /** The fingerprint the report recorded (SQL steps). */
  before?: ResultSummary;
  /** The fingerprint of today's run (SQL steps that ran). */
  after?: ResultSummary;
  /** Why it failed: the error of the query or of the Python code. */
  error?: string;
  /** Why it was skipped, or what limits the comparison (changes past the kept rows). */
  note?: string;
  /** Cells that differ among the rows both runs kept; empty when the step is the same. */
  changes: NumberChange[];
  /** Rows today's result has and the recorded one lacks (only when both were kept whole). */
  rowsAdded: RowPresence[];
  /** Rows the recorded result has and today's lacks (only when both were kept whole). */
  rowsMissing: RowPresence[];
  /** Python steps that ran: how the code ended, and its text output (capped at 10 000 characters). */
  python?: { status: 'ok' | 'error'; output: string };
}

export interface RerunInput {
  table: string;
  before: { rows: number; hash?: string };
  /** Absent when the table cannot be read any more (see `error`). */
  after?: { rows: number; hash?: string };
  changed: boolean;
  error?: string;
}

export interface RerunResult {
  /** The report folder, absolute. */
  report: string;
  /** ISO 8601. */
  ranAt: string;
  dictionary: { before: string; after: string; changed: boolean };
  inputs: RerunInput[];
  steps: RerunStep[];
  /** Cells that changed, over every step (the length of all `changes` together). */
  changedNumbers: number;
  /** Things that kept part of the rerun from happening (the Python sandbox could not start, …). */
  warnings: string[];
  /** One sentence, in the report's language. */
  summary: string;
}

export interface RerunOptions {
  /** The data the report is run again on; it is not closed here. */
  source: DataSource;
  /** Today's dictionary, whose version is compared with the recorded one. */
  dictionary: Dictionary;
  /** Run the Python steps in the sandbox; when false they are `skipped`. */
  python: boolean;
  /** false runs Python without bubblewrap (the user's explicit choice). Default true. */
  sandbox?: boolean;
  signal?: AbortSignal;
}

const sqlValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const stepSchema = z.looseObject({
  index: z.number().int().positive(),
  tool: z.enum(['run_sql', 'load_data', 'run_python', 'offline']),
  language: z.enum(['sql', 'python']),
  code: z.string(),
  frame: z.string().optional(),
  status: z.enum(['ok', 'error', 'skipped', 'refused']),
  result: z
    .looseObject({
      columns: z.array(z.string()),
      rowCount: z.number().int().nonnegative(),
      truncated: z.boolean(),
      hash: z.string(),
      rows: z.array(z.array(sqlValueSchema)),
    })
    .optional(),
});

const reportSchema = z.looseObject({
  version: z.literal(1),
  title: z.string(),
  language: z.enum(['zh', 'en']),
  question: z.string(),
  data: z.looseObject({
    source: z.string(),
    spec: z.string().optional(),
    dialect: z.string(),
    inputs: z.array(z.looseObject({ table: z.string(), rows: z.number(), exact: z.boolean(), hash: z.string().optional() })),
    dictionaryVersion: z.string(),
    dictionaryFile: z.string().optional(),
  }),
  steps: z.array(stepSchema),
  findings: z.array(z.looseObject({ text: z.string() })),
  answer: z.string(),
});

/** The report folder a path names: the folder itself, or the folder of a report.json given directly. */
export function reportFolderOf(path: string): string {
  const absolute = resolve(path);
  if (basename(absolute) === reportFiles.json && existsSync(absolute) && statSync(absolute).isFile()) return dirname(absolute);
  return absolute;
}

/**
 * Reads and validates `folder/report.json` (a path to the report.json itself is accepted too).
 * A missing file is `not_found`; a file that is not JSON or not a report is `bad_input`.
 */
export function readReport(folder: string): Report {
  const path = join(reportFolderOf(folder), reportFiles.json);
  if (!existsSync(path)) {
    throw new IqueryError('not_found', `No report in ${folder}: there is no ${reportFiles.json} there.`, {
      hint: 'Give the folder a report was written to, e.g. the DIR of `iquery ask --report DIR`.',
      details: { reason: 'report_not_found', path },
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new IqueryError('bad_input', `${path} is not valid JSON: ${messageOf(error)}`, {
      hint: 'Write the report again (iquery ask --report DIR); report.json is not meant to be edited by hand.',
      details: { reason: 'report_invalid', path },
      cause: error,
    });
  }
  const parsed = reportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.map(String).join('.')}`;
    throw new IqueryError('bad_input', `${path} is not an iquery report${where}: ${issue?.message ?? 'unexpected content'}.`, {
      hint: 'Write the report again (iquery ask --report DIR); report.json is not meant to be edited by hand.',
      details: { reason: 'report_invalid', path },
    });
  }
  // The schema checks what a rerun reads; the other fields pass through unchanged (looseObject).
  return parsed.data as unknown as Report;
}

function summaryOf(result: ResultFingerprint): ResultSummary {
  return { columns: result.columns, rowCount: result.rowCount, truncated: result.truncated, hash: result.hash };
}

function sameCell(before: SqlValue | undefined, after: SqlValue | undefined): boolean {
  // The hash's canonical form, so that float noise past 12 significant digits is no change.
  return canonicalRow([before ?? null]) === canonicalRow([after ?? null]);
}

function cellLabel(value: SqlValue | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  return String(value);
}

interface RowsComparison {
  changes: NumberChange[];
  rowsAdded: RowPresence[];
  rowsMissing: RowPresence[];
}

/**
 * Compares the rows both runs kept. Rows are matched by their key cells (the columns that hold no
 * number on either side) when those name every row once on both sides, else by position. Rows on one
 * side only are reported only when both sides kept every row, since otherwise a row may merely lie
 * past the kept window.
 */
export function compareRows(step: number, before: { columns: readonly string[]; rows: readonly SqlValue[][]; rowCount: number }, after: { columns: readonly string[]; rows: readonly SqlValue[][]; rowCount: number }): RowsComparison {
  const shared = before.columns.filter((column) => after.columns.includes(column));
  const beforeIndex = new Map(before.columns.map((column, index) => [column, index]));
  const afterIndex = new Map(after.columns.map((column, index) => [column, index]));
  const cell = (row: readonly SqlValue[], columns: Map<string, number>, column: string): SqlValue => row[columns.get(column) ?? -1] ?? null;
  const isKey = (column: string): boolean => {
    let seen = false;
    for (const [rows, columns] of [[before.rows, beforeIndex], [after.rows, afterIndex]] as const) {
      for (const row of rows) {
        const value = cell(row, columns, column);
        if (typeof value === 'number') return false;
        if (value !== null) seen = true;
      }
    }
    return seen;
  };
  const keys = shared.filter(isKey);
  const labelsOf = (rows: readonly SqlValue[][], columns: Map<string, number>): string[] => rows.map((row) => keys.map((key) => `${key}=${cellLabel(cell(row, columns, key))}`).join(', '));
  const beforeLabels = labelsOf(before.rows, beforeIndex);
  const afterLabels = labelsOf(after.rows, afterIndex);
  const unique = (labels: readonly string[]): boolean => new Set(labels).size === labels.length;
  const byKey = keys.length > 0 && unique(beforeLabels) && unique(afterLabels);
  const whole = before.rowCount <= before.rows.length && after.rowCount <= after.rows.length;

  const pairs: { label: string; before: SqlValue[]; after: SqlValue[] }[] = [];
  const comparison: RowsComparison = { changes: [], rowsAdded: [], rowsMissing: [] };
  if (byKey) {
    const afterByLabel = new Map(afterLabels.map((label, index) => [label, after.rows[index] ?? []]));
    const beforeSet = new Set(beforeLabels);
    for (const [index, label] of beforeLabels.entries()) {
      const match = afterByLabel.get(label);
      if (match !== undefined) pairs.push({ label, before: before.rows[index] ?? [], after: match });
      else if (whole) comparison.rowsMissing.push({ step, row: label, values: before.rows[index] ?? [] });
    }
    if (whole) for (const [index, label] of afterLabels.entries()) if (!beforeSet.has(label)) comparison.rowsAdded.push({ step, row: label, values: after.rows[index] ?? [] });
  } else {
    const common = Math.min(before.rows.length, after.rows.length);
    for (let index = 0; index < common; index++) pairs.push({ label: `row ${index + 1}`, before: before.rows[index] ?? [], after: after.rows[index] ?? [] });
    if (whole) {
      for (let index = common; index < before.rows.length; index++) comparison.rowsMissing.push({ step, row: `row ${index + 1}`, values: before.rows[index] ?? [] });
      for (let index = common; index < after.rows.length; index++) comparison.rowsAdded.push({ step, row: `row ${index + 1}`, values: after.rows[index] ?? [] });
    }
  }
  const compared = byKey ? shared.filter((column) => !keys.includes(column)) : shared;
  for (const pair of pairs) {
    for (const column of compared) {
      const old = cell(pair.before, beforeIndex, column);
      const now = cell(pair.after, afterIndex, column);
      if (!sameCell(old, now)) comparison.changes.push({ step, row: pair.label, column, before: old, after: now });
    }
  }
  return comparison;
}

/** Most characters of a Python step's output kept in the result. */
const outputLimit = 10_000;

/** A cell's outputs as text: streams, plain-text results, tables as text, errors as their traceback. */
function outputText(outputs: readonly CellOutput[]): string {
  const parts: string[] = [];
  for (const output of outputs) {
    if (output.output_type === 'stream') parts.push(output.text);
    else if (output.output_type === 'error') parts.push(`${output.traceback.join('\n')}\n`);
    else {
      const text = output.data['text/plain'];
      if (typeof text === 'string') parts.push(`${text}\n`);
      else if (output.data[tableMimeType] !== undefined) parts.push('(a table)\n');
      else if (output.data['image/png'] !== undefined) parts.push('(a figure)\n');
    }
  }
  const text = parts.join('');
  return text.length > outputLimit ? `${text.slice(0, outputLimit)}\n(output cut at ${outputLimit} characters)` : text;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

const words = {
  en: {
    notOk: (status: string) => `recorded as ${status} when the report was made`,
    noPython: 'Python steps are not run (--no-python)',
    noKernel: 'the Python sandbox did not start',
    noFingerprint: 'the report recorded no fingerprint for it, so there is nothing to compare with',
    outsideRows: (rows: number) => `its result differs past the first ${rows} rows the report kept`,
    columnsChanged: 'its columns changed',
    summary: (counts: Record<RerunStatus, number>, numbers: number, inputs: number, dictionary: string | undefined) =>
      `Steps: ${counts.same} same, ${counts.changed} changed, ${counts.failed} failed, ${counts.skipped} skipped. ${plural(numbers, 'number')} changed; ${plural(inputs, 'input table')} changed` + (dictionary === undefined ? '.' : `; the dictionary changed (${dictionary}).`),
  },
  zh: {
    notOk: (status: string) => `生成报告时该步骤状态为 ${status}`,
    noPython: '未运行 Python 步骤（--no-python）',
    noKernel: 'Python 沙箱未能启动',
    noFingerprint: '报告中没有记录它的指纹，无从比较',
    outsideRows: (rows: number) => `结果在报告保存的前 ${rows} 行之外有差异`,
    columnsChanged: '结果的列发生了变化',
    summary: (counts: Record<RerunStatus, number>, numbers: number, inputs: number, dictionary: string | undefined) =>
      `${counts.same} 步相同，${counts.changed} 步有变化，${counts.failed} 步失败，${counts.skipped} 步跳过；${numbers} 个数字变化；${inputs} 张输入表有变化` + (dictionary === undefined ? '。' : `；数据字典已变化（${dictionary}）。`),
  },
} as const;

type Words = (typeof words)[keyof typeof words];

async function rerunInputs(report: Report, source: DataSource, signal: AbortSignal | undefined): Promise<RerunInput[]> {
  const inputs: RerunInput[] = [];
  for (const input of report.data.inputs) {
    const before = { rows: input.rows, ...(input.hash === undefined ? {} : { hash: input.hash }) };
    try {
      const counted = await hashTable(source, input.table, signal === undefined ? {} : { signal });
      const after = { rows: counted.rows, ...(counted.hash === undefined ? {} : { hash: counted.hash }) };
      const changed = before.rows !== after.rows || (before.hash !== undefined && after.hash !== undefined && before.hash !== after.hash);
      inputs.push({ table: input.table, before, after, changed });
    } catch (error) {
      if (signal?.aborted) throw error;
      inputs.push({ table: input.table, before, changed: true, error: messageOf(error) });
    }
  }
  return inputs;
}

/** Starts the sandbox once, on the first step that needs it; a failure to start is remembered, not retried. */
class LazyKernel {
  private session: KernelSession | undefined;
  private failure: string | undefined;
  /** What the sandbox warned about when it started. */
  readonly warnings: string[] = [];

  constructor(private readonly sandbox: boolean) {}

  async get(): Promise<KernelSession | string> {
    if (this.session !== undefined) return this.session;
    if (this.failure !== undefined) return this.failure;
    try {
      const { KernelSession } = await import('../sandbox/kernel-session.js');
      this.session = await KernelSession.create({ sandbox: this.sandbox });
      // Said every time Python runs without bubblewrap (--no-sandbox).
      this.warnings.push(...this.session.confinement.warnings);
      return this.session;
    } catch (error) {
      const hint = error instanceof IqueryError && error.hint !== undefined ? ` (${error.hint})` : '';
      this.failure = `${messageOf(error)}${hint}`;
      return this.failure;
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    await session.close();
    // The workspace held only the frames loaded for this rerun; nothing in it is worth keeping.
    const folder = dirname(session.workspace);
    if (basename(folder) === session.id) rmSync(folder, { recursive: true, force: true });
  }
}

async function rerunSqlStep(step: ReportStep, source: DataSource, say: Words, signal: AbortSignal | undefined): Promise<RerunStep> {
  const entry: RerunStep = { index: step.index, tool: step.tool, status: 'same', changes: [], rowsAdded: [], rowsMissing: [] };
  const recorded = step.result;
  if (recorded !== undefined) entry.before = summaryOf(recorded);
  let now: Awaited<ReturnType<typeof hashQuery>>;
  try {
    now = await hashQuery(source, step.code, signal === undefined ? {} : { signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ...entry, status: 'failed', error: messageOf(error) };
  }
  entry.after = summaryOf(now);
  if (recorded === undefined) return { ...entry, status: 'skipped', note: say.noFingerprint };
  if (recorded.hash === now.hash && recorded.rowCount === now.rowCount) return entry;
  entry.status = 'changed';
  const comparison = compareRows(step.index, recorded, now);
  entry.changes = comparison.changes;
  entry.rowsAdded = comparison.rowsAdded;
  entry.rowsMissing = comparison.rowsMissing;
  const notes: string[] = [];
  if (recorded.columns.join('\u0000') !== now.columns.join('\u0000')) notes.push(say.columnsChanged);
  if (comparison.changes.length === 0 && comparison.rowsAdded.length === 0 && comparison.rowsMissing.length === 0 && recorded.rowCount === now.rowCount) notes.push(say.outsideRows(recorded.rows.length));
  if (notes.length > 0) entry.note = notes.join('; ');
  return entry;
}

function summarize(result: Omit<RerunResult, 'summary'>, language: Report['language']): string {
  const counts: Record<RerunStatus, number> = { same: 0, changed: 0, failed: 0, skipped: 0 };
  for (const step of result.steps) counts[step.status]++;
  const inputs = result.inputs.filter((input) => input.changed).length;
  const dictionary = result.dictionary.changed ? `${result.dictionary.before} → ${result.dictionary.after}` : undefined;
  return words[language].summary(counts, result.changedNumbers, inputs, dictionary);
}

/**
 * Runs the report in `folder` again on `options.source` and compares every input table and every
 * step with what the report recorded; writes the result to `folder/rerun.json` and returns it.
 *
 * Steps recorded as anything but `ok` are skipped. SQL steps (run_sql, load_data, offline) run through
 * the source's guard; a step is `same` when its content hash and row count match, `changed` (with the
 * cells that changed) when they do not, `failed` when the query fails today. With `python`, the
 * sandbox starts on the first step that needs it, each load_data result becomes the DataFrame its
 * `frame` names (unmasked: the rerun's output goes to the user, not to a model), and each run_python
 * step runs in order: `same` when it runs without error, `failed` when it raises. Figures are not
 * compared. Cancelling `signal` stops the query or cell that runs and rejects.
 */
export async function rerunReport(folder: string, options: RerunOptions): Promise<RerunResult> {
  const reportFolder = reportFolderOf(folder);
  const report = readReport(reportFolder);
  const say = words[report.language];
  const { source, signal } = options;
  const inputs = await rerunInputs(report, source, signal);
  const warnings: string[] = [];
  const wantsPython = options.python && report.steps.some((step) => step.tool === 'run_python' && step.status === 'ok');
  const kernel = new LazyKernel(options.sandbox ?? true);
  const steps: RerunStep[] = [];
  try {
    for (const step of report.steps) {
      const skipped = (note: string): RerunStep => ({ index: step.index, tool: step.tool, status: 'skipped', note, changes: [], rowsAdded: [], rowsMissing: [] });
      if (step.status !== 'ok') {
        steps.push(skipped(say.notOk(step.status)));
        continue;
      }
      if (step.tool !== 'run_python') {
        const entry = await rerunSqlStep(step, source, say, signal);
        if (step.tool === 'load_data' && wantsPython && step.frame !== undefined && entry.status !== 'failed') {
          const session = await kernel.get();
          if (typeof session !== 'string') {
            try {
              await session.putFrame(step.frame, source, step.code, signal === undefined ? {} : { signal });
            } catch (error) {
              if (signal?.aborted) throw error;
              entry.status = 'failed';
              entry.error = `DataFrame ${step.frame} could not be loaded: ${messageOf(error)}`;
            }
          }
        }
        steps.push(entry);
        continue;
      }
      if (!options.python) {
        steps.push(skipped(say.noPython));
        continue;
      }
      const session = await kernel.get();
      if (typeof session === 'string') {
        steps.push(skipped(`${say.noKernel}: ${session}`));
        continue;
      }
      const ran = await session.execute(step.code, signal === undefined ? {} : { signal });
      if (signal?.aborted) throw new IqueryError('query_cancelled', 'The rerun was cancelled.');
      const output = outputText(ran.outputs);
      const entry: RerunStep = { index: step.index, tool: step.tool, status: ran.status === 'ok' ? 'same' : 'failed', changes: [], rowsAdded: [], rowsMissing: [], python: { status: ran.status === 'ok' ? 'ok' : 'error', output } };
      if (ran.status !== 'ok') {
        const error = ran.outputs.find((item) => item.output_type === 'error');
        entry.error = error?.output_type === 'error' ? `${error.ename}: ${error.evalue}` : `the cell ended with status ${ran.status}`;
      }
      steps.push(entry);
    }
  } finally {
    await kernel.close();
  }
  warnings.push(...kernel.warnings);
  const kernelFailure = steps.find((step) => step.tool === 'run_python' && step.note?.startsWith(say.noKernel) === true);
  if (kernelFailure?.note !== undefined) warnings.push(kernelFailure.note);
  const partial: Omit<RerunResult, 'summary'> = {
    report: reportFolder,
    ranAt: new Date().toISOString(),
    dictionary: { before: report.data.dictionaryVersion, after: options.dictionary.version, changed: report.data.dictionaryVersion !== options.dictionary.version },
    inputs,
    steps,
    changedNumbers: steps.reduce((sum, step) => sum + step.changes.length, 0),
    warnings,
  };
  const result: RerunResult = { ...partial, summary: summarize(partial, report.language) };
  writeFileSync(join(reportFolder, rerunFile), JSON.stringify(result, null, 1) + '\n');
  return result;
}
