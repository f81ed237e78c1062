/**
 * `iquery export --notebook`: an analysis (a report, or an agent session without one) as a Jupyter
 * notebook (nbformat 4.5) that runs its steps again: each SQL step through `iquery sql` (so through
 * the same read-only guard), each Python step as its exact code, in the order they ran. The notebook
 * never holds a password: a data source with credentials is written as a placeholder.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentSessionRecord } from '../agent/session-store.js';
import { detectLanguage } from '../analyst/text.js';
import { hasUrlScheme } from '../sources/connection-url.js';
import type { Report } from './report.js';
import { packageRoot } from '../package-root.js';

export interface MarkdownCell {
  id: string;
  cell_type: 'markdown';
  metadata: Record<string, unknown>;
  source: string[];
}

export interface CodeCell {
  id: string;
  cell_type: 'code';
  metadata: Record<string, unknown>;
  execution_count: null;
  outputs: [];
  source: string[];
}

export type NotebookCell = MarkdownCell | CodeCell;

/** A Jupyter notebook, nbformat 4.5 (cells carry ids). */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: 5;
  metadata: {
    kernelspec: { name: 'python3'; display_name: string; language: 'python' };
    language_info: { name: 'python' };
    iquery: Record<string, string>;
  };
  cells: NotebookCell[];
}

/**
 * What the notebook says about where its data is: the spec itself, or a placeholder when the spec
 * holds credentials (`credentials`) or no spec is known (`missing`).
 */
export type NotebookData = { kind: 'spec'; spec: string } | { kind: 'placeholder'; placeholder: string; reason: 'credentials' | 'missing' };

/** Query parameters that carry secrets in connection URLs (`?password=`, `?sslpassword=`, `?token=`…). */
const secretParameter = /pass|secret|token|key|auth|credential/i;

/**
 * The data spec as the notebook may hold it. URLs with a password (even a redacted `***` one) or a
 * secret query parameter become a placeholder with `PASSWORD`/`SECRET` in their place; a path that
 * exists is made absolute, so the notebook runs from any folder; named connections stay names.
 */
export function notebookData(spec: string | undefined): NotebookData {
  if (spec === undefined || spec.trim() === '') return { kind: 'placeholder', placeholder: 'PATH/TO/DATA', reason: 'missing' };
  if (!hasUrlScheme(spec)) return { kind: 'spec', spec: existsSync(spec) ? resolve(spec) : spec };
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    const scheme = spec.slice(0, spec.indexOf('://'));
    // A URL that does not parse may still hold a password before an `@`: keep nothing of it.
    return spec.includes('@') ? { kind: 'placeholder', placeholder: `${scheme}://USER:PASSWORD@HOST/DATABASE`, reason: 'credentials' } : { kind: 'spec', spec };
  }
  let secret = false;
  if (url.password !== '') {
    url.password = 'PASSWORD';
    secret = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (!secretParameter.test(key)) continue;
    url.searchParams.set(key, 'SECRET');
    secret = true;
  }
  if (!secret) return { kind: 'spec', spec };
  return { kind: 'placeholder', placeholder: url.toString(), reason: 'credentials' };
}

/** Characters that a triple-quoted Python literal would not keep as written. */
const unsafeInTripleQuotes = /[\\\r\u0000-\u0008\u000b-\u001f\u2028\u2029\uD800-\uDFFF]/;

/**
 * A Python string literal whose value is exactly `text`. Multi-line text is written between triple
 * quotes when that is exact (no backslash, no `"""`, no trailing quote, no control character), which
 * reads like the SQL it holds; anything else is written as JSON, which is always a valid Python
 * literal (line and paragraph separators escaped too, since JSON leaves them raw).
 */
export function pythonString(text: string): string {
  if (text.includes('\n') && !unsafeInTripleQuotes.test(text) && !text.includes('"""') && !text.endsWith('"')) return `"""${text}"""`;
  return JSON.stringify(text).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

/** Text as a cell's source: lines, each but the last ending in a newline (as Jupyter writes them). */
function sourceLines(text: string): string[] {
  const lines = text.split('\n').map((line, index, all) => (index < all.length - 1 ? `${line}\n` : line));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function markdown(id: string, text: string): MarkdownCell {
  return { id, cell_type: 'markdown', metadata: {}, source: sourceLines(text) };
}

function code(id: string, text: string): CodeCell {
  return { id, cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: sourceLines(text) };
}

/** Rows `iquery sql` may return to the notebook: as many as a report's fingerprint reads. */
const notebookMaxRows = 1_000_000;

function setupCode(data: NotebookData): string {
  const origin =
    data.kind === 'spec'
      ? ['# The data the analysis ran on; set IQUERY_DATA to run it on other data.', `DATA = os.environ.get("IQUERY_DATA") or ${pythonString(data.spec)}`]
      : data.reason === 'credentials'
        ? ['# The data source holds a password, which is never written into a notebook: set IQUERY_DATA to the', '# full URL (or to a connection name from `iquery connections list`), or edit the placeholder below.', `DATA = os.environ.get("IQUERY_DATA") or ${pythonString(data.placeholder)}`]
        : ['# Where the data is was not recorded: set IQUERY_DATA, or edit the placeholder below.', `DATA = os.environ.get("IQUERY_DATA") or ${pythonString(data.placeholder)}`];
  return [
    'import json',
    'import os',
    'import shutil',
    'import subprocess',
    '',
    'import pandas as pd',
    '',
    ...origin,
    '# The iquery command: IQUERY_BIN, else the one on the PATH, else the one that wrote this notebook.',
    `IQUERY = os.environ.get("IQUERY_BIN") or shutil.which("iquery") or ${pythonString(join(packageRoot(), 'bin', 'iquery'))}`,
    '',
    '',
    'def run_sql(sql):',
    '    """Runs one read-only query through `iquery sql` (and so through its SQL guard); returns a DataFrame."""',
    '    try:',
    '        completed = subprocess.run(',
    `            [IQUERY, "--json", "--data", DATA, "sql", "--max-rows", "${notebookMaxRows}", "--", sql],`,
    '            capture_output=True,',
    '            text=True,',
    '            check=True,',
    '        )',
    '    except subprocess.CalledProcessError as failure:',
    '        # iquery --json prints {"status": "error", "error": {"message", "hint"}} on stdout.',
    '        try:',
    '            error = json.loads(failure.stdout)["error"]',
    '            message = error["message"] + (" " + error["hint"] if error.get("hint") else "")',
    '        except (ValueError, KeyError, TypeError):',
    '            message = (failure.stderr or failure.stdout).strip()',
    '        raise RuntimeError("iquery sql failed: " + message) from None',
    '    result = json.loads(completed.stdout)',
    '    if result["truncated"]:',
    '        print(f"(only the first {result[\'row_count\']} rows were read: aggregate in SQL to see all of it)")',
    '    return pd.DataFrame(result["rows"], columns=result["columns"])',
  ].join('\n');
}

/** A step as the notebook runs it. */
interface NotebookStep {
  /** 1-based, as in the report (or counted over the session's turns). */
  index: number;
  tool: string;
  code: string;
  frame?: string;
  /** The markdown heading of the step. */
  heading: string;
}

const words = {
  en: { stages: { cleaning: 'cleaning', exploration: 'exploration', analysis: 'analysis' }, step: 'Step', findings: 'Findings', answer: 'Answer', leftOut: (status: string) => `did not complete when it ran (${status}), so it is left out.`, data: 'Data', dictionary: 'dictionary', how: 'Each query runs again through `iquery sql` (read-only, through its SQL guard) on `DATA`. Python steps are their exact code.' },
  zh: { stages: { cleaning: '清洗', exploration: '探索', analysis: '分析' }, step: '步骤', findings: '结论', answer: '回答', leftOut: (status: string) => `当时未完成（${status}），此处略去。`, data: '数据', dictionary: '数据字典', how: '每个查询都通过 `iquery sql` 在 `DATA` 上重新运行（只读，经过 SQL 守卫）。Python 步骤是当时的原样代码。' },
} as const;

type Language = keyof typeof words;

/** A summary as a heading's second line: its first line, at most 300 characters. */
function shortSummary(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function stepCells(step: NotebookStep): NotebookCell[] {
  const heading = markdown(`step-${step.index}-heading`, step.heading);
  if (step.tool === 'run_python') return [heading, code(`step-${step.index}`, step.code)];
  const name = step.tool === 'load_data' && step.frame !== undefined ? step.frame : `result_${step.index}`;
  // The second line shows the table when the cell runs in Jupyter.
  return [heading, code(`step-${step.index}`, `${name} = run_sql(${pythonString(step.code)})\n${name}`)];
}

function notebookOf(cells: NotebookCell[], metadata: Record<string, string>): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python' },
      iquery: metadata,
    },
    cells,
  };
}

function introCells(title: string, lines: readonly string[], data: NotebookData, language: Language): NotebookCell[] {
  return [markdown('title', [`# ${title}`, ...lines, '', words[language].how].join('\n')), code('setup', setupCode(data))];
}

export interface NotebookOptions {
  /** What `DATA` is: the `--data` to run the steps on. Absent: a placeholder. */
  dataSpec?: string;
}

/**
 * A report as a notebook: the question, the `run_sql` helper, every step in order (SQL steps as
 * `result_N = run_sql(…)`, load_data steps assigning the DataFrame their `frame` names, Python steps
 * as their exact code; steps that did not complete are a note), then the findings and the answer.
 */
export function reportToNotebook(report: Report, options: NotebookOptions = {}): Notebook {
  const language: Language = report.language;
  const say = words[language];
  const data = notebookData(options.dataSpec);
  const lines = [''];
  if (report.question !== report.title) lines.push(`> ${report.question}`, '');
  lines.push(`${say.data}: ${report.data.source} (${report.data.dialect}) · ${say.dictionary} ${report.data.dictionaryVersion}`);
  const cells = introCells(report.title, lines, data, language);
  for (const step of report.steps) {
    const summary = shortSummary(step.summary);
    const heading = `### ${say.step} ${step.index} · ${say.stages[step.stage]}${summary === '' ? '' : `\n\n${summary}`}`;
    if (step.status !== 'ok') {
      cells.push(markdown(`step-${step.index}`, `${heading}\n\n${say.step} ${step.index} ${say.leftOut(step.status)}`));
      continue;
    }
    cells.push(...stepCells({ index: step.index, tool: step.tool, code: step.code, ...(step.frame === undefined ? {} : { frame: step.frame }), heading }));
  }
  const findings = report.findings.map((finding) => finding.text.trim()).filter((text) => text !== '');
  if (findings.length > 0) cells.push(markdown('findings', [`## ${say.findings}`, ...findings].join('\n\n')));
  // The answer gets its own cell only when the findings do not already say it.
  if (report.answer.trim() !== '' && findings.join('\n\n') !== report.answer.trim()) cells.push(markdown('answer', `## ${say.answer}\n\n${report.answer.trim()}`));
  return notebookOf(cells, { question: report.question, createdAt: report.createdAt, dictionaryVersion: report.data.dictionaryVersion });
}

/** The tools whose steps a notebook runs again. */
const replayedTools = new Set(['run_sql', 'load_data', 'run_python']);

/**
 * An agent session as a notebook, for analyses that have no report: each turn's question, its SQL and
 * Python steps in order (numbered across the turns, as `result_N`), and its answer. `dataSpec`
 * defaults to the session's recorded data (`record.data`).
 */
export function sessionToNotebook(record: AgentSessionRecord, options: NotebookOptions = {}): Notebook {
  const language: Language = detectLanguage(record.turns[0]?.question ?? '') === 'zh' ? 'zh' : 'en';
  const say = words[language];
  const spec = options.dataSpec ?? record.data;
  const data = notebookData(spec);
  const lines = [''];
  if (record.data !== undefined) lines.push(`${say.data}: ${record.data}${record.model === undefined ? '' : ` · ${record.model}`}`);
  const cells = introCells(record.name, lines, data, language);
  let index = 0;
  for (const [turnIndex, turn] of record.turns.entries()) {
    cells.push(markdown(`turn-${turnIndex + 1}`, `## ${turn.question}`));
    for (const step of turn.steps) {
      if (!replayedTools.has(step.tool)) continue;
      const input = step.input as { sql?: unknown; code?: unknown; name?: unknown } | null;
      const text = step.tool === 'run_python' ? input?.code : input?.sql;
      if (typeof text !== 'string' || step.status === 'pending') continue;
      index++;
      const summary = shortSummary(step.output);
      const heading = `### ${say.step} ${index} · ${step.tool}${summary === '' ? '' : `\n\n${summary}`}`;
      if (step.status !== 'ok') {
        cells.push(markdown(`step-${index}`, `${heading}\n\n${say.step} ${index} ${say.leftOut(step.status)}`));
        continue;
      }
      const frame = step.tool === 'load_data' && typeof input?.name === 'string' ? input.name : undefined;
      cells.push(...stepCells({ index, tool: step.tool, code: text, ...(frame === undefined ? {} : { frame }), heading }));
    }
    if (turn.answer.trim() !== '') cells.push(markdown(`turn-${turnIndex + 1}-answer`, `**${say.answer}:** ${turn.answer.trim()}`));
  }
  return notebookOf(cells, { session: record.name, createdAt: record.createdAt });
}
