/**
 * `iquery rerun DIR` (run a report again and say which numbers moved) and `iquery export --notebook`
 * (a report or an agent session as a Jupyter notebook). Thin: the work is in src/report/.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { agentSessionFolder, loadAgentSession } from '../../agent/session-store.js';
import { iqueryHome } from '../../config/home.js';
import type { Dictionary } from '../../dictionary/dictionary.js';
import { loadDictionary } from '../../dictionary/load-dictionary.js';
import { IqueryError } from '../../errors.js';
import { notebookData, reportToNotebook, sessionToNotebook, type Notebook } from '../../report/export-notebook.js';
import type { Report } from '../../report/report.js';
import { readReport, reportFolderOf, type NumberChange, type RerunResult, type RerunStep } from '../../report/rerun-report.js';
import { canonicalNumber } from '../../report/result-hash.js';
import type { DataSource, SqlValue } from '../../sources/source.js';
import { withData } from '../open-data.js';
import { printJson, printLine, printNote, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';

/** Today's dictionary: --dict, else the file the report used (when it is still there), else the data's own or a draft. */
async function currentDictionary(source: DataSource, report: Report, dictPath: string | undefined, dataSpec: string): Promise<Dictionary> {
  if (dictPath !== undefined) return loadDictionary(dictPath);
  const recorded = report.data.dictionaryFile;
  if (recorded !== undefined && existsSync(recorded)) return loadDictionary(recorded);
  const { dictionaryFor } = await import('../../analyst/open-analyst.js');
  return (await dictionaryFor(source, { dataPath: dataSpec })).dictionary;
}

const labels = {
  en: {
    heading: (title: string) => `Rerun of "${title}"`,
    columns: ['step', 'tool', 'status', 'rows', 'note'],
    status: { same: 'same', changed: 'changed', failed: 'failed', skipped: 'skipped' },
    numbers: (count: number) => (count === 1 ? '1 number changed:' : `${count} numbers changed:`),
    noNumbers: 'No number changed.',
    added: 'rows added',
    missing: 'rows missing',
    inputs: 'Input tables that changed:',
    rows: (before: number, after: number) => `${before} → ${after} rows`,
    content: 'content changed',
    unreadable: (error: string) => `cannot be read: ${error}`,
    dictionary: (before: string, after: string) => `The dictionary changed: version ${before} → ${after}.`,
    written: (path: string) => `(written to ${path})`,
    step: 'step',
  },
  zh: {
    heading: (title: string) => `重新运行报告「${title}」`,
    columns: ['步骤', '工具', '状态', '行数', '说明'],
    status: { same: '相同', changed: '有变化', failed: '失败', skipped: '跳过' },
    numbers: (count: number) => `${count} 个数字发生了变化：`,
    noNumbers: '没有数字发生变化。',
    added: '新增的行',
    missing: '缺少的行',
    inputs: '有变化的输入表：',
    rows: (before: number, after: number) => `${before} → ${after} 行`,
    content: '内容有变化',
    unreadable: (error: string) => `无法读取：${error}`,
    dictionary: (before: string, after: string) => `数据字典已变化：版本 ${before} → ${after}。`,
    written: (path: string) => `（已写入 ${path}）`,
    step: '步骤',
  },
} as const;

/** A number with as few significant digits (at least 4) as tell it apart from the one it is compared with. */
function shownNumber(value: number, other: SqlValue): string {
  if (Number.isInteger(value)) return String(value);
  if (typeof other !== 'number') return String(Number(value.toPrecision(4)));
  for (let digits = 4; digits < 12; digits++) {
    if (Number(value.toPrecision(digits)) !== Number(other.toPrecision(digits))) return String(Number(value.toPrecision(digits)));
  }
  return canonicalNumber(value);
}

function shownValue(value: SqlValue, other: SqlValue): string {
  return typeof value === 'number' ? shownNumber(value, other) : formatCell(value);
}

/** `step 2 · Contract=Month-to-month · churn_rate: 0.4271 → 0.4302` */
export function changeLine(change: NumberChange, step: string): string {
  return `${step} ${change.step} · ${change.row} · ${change.column}: ${shownValue(change.before, change.after)} → ${shownValue(change.after, change.before)}`;
}

function rowsCell(step: RerunStep): string {
  if (step.before === undefined && step.after === undefined) return '';
  if (step.before === undefined) return String(step.after?.rowCount ?? '');
  if (step.after === undefined) return String(step.before.rowCount);
  return `${step.before.rowCount} → ${step.after.rowCount}`;
}

function printRerun(result: RerunResult, report: Report): void {
  const say = labels[report.language];
  printLine(say.heading(report.title));
  printLine(
    renderTable(
      [...say.columns],
      result.steps.map((step) => [String(step.index), step.tool, say.status[step.status], rowsCell(step), (step.error ?? step.note ?? '').split('\n')[0] ?? '']),
      { rightAligned: new Set([0]) },
    ),
  );
  printLine();
  printLine(result.changedNumbers === 0 ? say.noNumbers : say.numbers(result.changedNumbers));
  for (const step of result.steps) for (const change of step.changes) printLine(`  ${changeLine(change, say.step)}`);
  for (const step of result.steps) {
    for (const row of step.rowsAdded) printLine(`  ${say.step} ${row.step} · ${say.added}: ${row.row}`);
    for (const row of step.rowsMissing) printLine(`  ${say.step} ${row.step} · ${say.missing}: ${row.row}`);
  }
  const inputs = result.inputs.filter((input) => input.changed);
  if (inputs.length > 0) {
    printLine();
    printLine(say.inputs);
    for (const input of inputs) {
      if (input.after === undefined) {
        printLine(`  ${input.table}: ${say.unreadable(input.error ?? '')}`);
        continue;
      }
      const rows = input.before.rows === input.after.rows ? `${input.after.rows}` : say.rows(input.before.rows, input.after.rows);
      const content = input.before.hash !== undefined && input.after.hash !== undefined && input.before.hash !== input.after.hash ? ` (${say.content})` : '';
      printLine(`  ${input.table}: ${rows}${content}`);
    }
  }
  if (result.dictionary.changed) {
    printLine();
    printLine(say.dictionary(result.dictionary.before, result.dictionary.after));
  }
  for (const warning of result.warnings) printNote(`warning: ${warning}`);
  printLine();
  printLine(result.summary);
  printNote(say.written(join(result.report, 'rerun.json')));
}

interface RerunFlags {
  python: boolean;
  sandbox: boolean;
}

interface ExportFlags {
  notebook?: boolean;
  report?: string;
  session?: string;
  out?: string;
}

function writeNotebook(path: string, notebook: Notebook): void {
  mkdirSync(dirname(path), { recursive: true });
  // One-space indentation, as Jupyter itself writes notebooks.
  writeFileSync(path, JSON.stringify(notebook, null, 1) + '\n');
}

export function registerReportCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('rerun')
    .description('Run a report again on today\'s data and say which numbers changed (writes DIR/rerun.json)')
    .argument('<dir>', 'the report folder (holding report.json)')
    .option('--no-python', 'do not run the report\'s Python steps (they are reported as skipped)')
    .option('--no-sandbox', 'run the Python steps WITHOUT isolation (not recommended)')
    .action(async (folder: string, flags: RerunFlags) => {
      const options = globals();
      const report = readReport(folder);
      const spec = options.data ?? report.data.spec;
      if (spec === undefined) {
        throw new IqueryError('usage', 'The report does not say where its data is: it was made on a server connection, whose URL may hold a password and is never written into a report.', {
          hint: `Pass the same source again: iquery rerun ${folder} --data <URL or connection name>.`,
        });
      }
      const { rerunReport } = await import('../../report/rerun-report.js');
      const result = await withData({ ...options, data: spec }, async (source) => {
        const dictionary = await currentDictionary(source, report, options.dict, spec);
        const interrupt = new AbortController();
        const onSignal = (): void => interrupt.abort();
        process.once('SIGINT', onSignal);
        try {
          return await rerunReport(reportFolderOf(folder), { source, dictionary, python: flags.python, sandbox: flags.sandbox, signal: interrupt.signal });
        } finally {
          process.off('SIGINT', onSignal);
        }
      });
      if (options.json) printJson(result);
      else printRerun(result, report);
    });

  program
    .command('export')
    .description('Export an analysis as a Jupyter notebook that runs its steps again through iquery')
    .option('--notebook', 'write a Jupyter notebook (.ipynb): the only format for now')
    .option('--report <dir>', 'the report folder to export')
    .option('--session <name>', 'the agent session to export (for an analysis without a report)')
    .option('--out <file>', 'where to write it (default DIR/analysis.ipynb, or ./NAME.ipynb for a session)')
    .action((flags: ExportFlags) => {
      const options = globals();
      if (flags.notebook !== true) {
        throw new IqueryError('usage', 'Say what to export as: --notebook is the only format for now.', { hint: 'iquery export --notebook --report DIR' });
      }
      if ((flags.report === undefined) === (flags.session === undefined)) {
        throw new IqueryError('usage', 'Give exactly one of --report DIR or --session NAME: what to export.', { hint: 'iquery export --notebook --report DIR, or iquery export --notebook --session NAME' });
      }
      let notebook: Notebook;
      let spec: string | undefined;
      let out: string;
      if (flags.report !== undefined) {
        const report = readReport(flags.report);
        spec = options.data ?? report.data.spec;
        notebook = reportToNotebook(report, spec === undefined ? {} : { dataSpec: spec });
        out = flags.out ?? join(reportFolderOf(flags.report), 'analysis.ipynb');
      } else {
        const name = flags.session ?? '';
        const home = iqueryHome();
        if (!existsSync(join(agentSessionFolder(home, name), 'session.json'))) {
          throw new IqueryError('not_found', `No agent session "${name}" in ${join(home, 'agent')}.`, { hint: 'Give the name of a session of `iquery chat` or `iquery ask` (--session NAME).' });
        }
        const record = loadAgentSession(home, name);
        spec = options.data ?? record.data;
        notebook = sessionToNotebook(record, spec === undefined ? {} : { dataSpec: spec });
        out = flags.out ?? `${name}.ipynb`;
      }
      const path = resolve(out);
      writeNotebook(path, notebook);
      const data = notebookData(spec);
      const warnings: string[] = [];
      if (data.kind === 'placeholder') {
        warnings.push(
          data.reason === 'credentials'
            ? `The data source holds a password, so the notebook has a placeholder (${data.placeholder}); set IQUERY_DATA before running it, or edit DATA in its first code cell.`
            : 'Where the data is was not recorded, so the notebook has a placeholder; set IQUERY_DATA before running it, or pass --data.',
        );
      }
      if (options.json) {
        printJson({ path, cells: notebook.cells.length, warnings });
        return;
      }
      for (const warning of warnings) printNote(`note: ${warning}`);
      printLine(path);
    });
}
