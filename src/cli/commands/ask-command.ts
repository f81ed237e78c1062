import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { OfflineAnalyst, type AskResult } from '../../analyst/analyst.js';
import { contextOf, loadConversation, recordTurn, saveConversation, type Conversation } from '../../analyst/conversations.js';
import { dictionaryFor, openAnalyst } from '../../analyst/open-analyst.js';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import { IqueryError, exitCodeFor } from '../../errors.js';
import { withData } from '../open-data.js';
import { printJson, printLine, printNote, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';
import { numberFlag } from '../number-flag.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisToReport, ReportTarget } from '../../report/write-analysis-report.js';
import type { DataSource, SqlValue } from '../../sources/source.js';
import type { Dictionary } from '../../dictionary/dictionary.js';
import type { AgentResult } from '../../agent/agent.js';
import type { LlmSettings } from '../../llm/llm-settings.js';
import { addAgentOptions, agentChoices, chosenModel, eventPrinter, openAgent, printAgentResult, sessionNameFor, type AgentFlags } from '../agent-runner.js';

interface AskOptions extends AgentFlags {
  offline?: boolean;
  session?: string;
  batch?: string;
  today?: string;
  maxRows: number;
  approve?: boolean;
  reject?: boolean;
  report?: string;
}

function checkToday(today: string | undefined): void {
  if (today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(today)) {
    throw new IqueryError('usage', `--today ${today} is not a date.`, { hint: 'Write it as YYYY-MM-DD, e.g. --today 2026-11-21.' });
  }
}

/** The questions of a batch file: one per line; blank lines and lines starting with # are skipped. */
function readBatch(path: string): string[] {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch {
    throw new IqueryError('not_found', `Cannot read the batch file ${path}.`, { hint: 'Give a text file with one question per line, or - for standard input.' });
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The answer for a person: the answer, the table, the SQL. */
function printForPerson(result: AskResult): void {
  printLine(result.answer);
  if (result.status === 'answered' && result.columns.length > 0) {
    printLine();
    const formats = result.formats ?? [];
    const cell = (value: SqlValue, index: number): string => {
      const format = formats[index];
      if (typeof value !== 'number' || format === undefined || format === 'text') return formatCell(value);
      if (format === 'percent') return `${(value * 100).toFixed(1)}%`;
      if (format === 'integer') return Math.round(value).toLocaleString('en-US');
      return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
    };
    const numeric = new Set(formats.flatMap((format, index) => (format !== 'text' ? [index] : [])));
    printLine(renderTable(result.columns, result.rows.slice(0, 50).map((row) => row.map(cell)), { rightAligned: numeric }));
    if (result.rows.length > 50) printLine(`(first 50 of ${result.rows.length} rows)`);
  }
  if (result.sql !== null) {
    printLine();
    printLine(`SQL: ${result.sql}`);
  }
}

async function answer(analyst: OfflineAnalyst, question: string, conversation: Conversation | undefined, options: AskOptions): Promise<AskResult> {
  const previous = conversation === undefined ? null : contextOf(conversation);
  const result = await analyst.ask(question, { previous, maxRows: options.maxRows });
  if (conversation !== undefined) recordTurn(conversation, result);
  return result;
}

/** Where the report of question `index` of `count` goes: the folder itself, or one subfolder per question. */
function reportFolder(base: string, index: number, count: number): string {
  return count > 1 ? join(base, `q${index + 1}`) : base;
}

/**
 * Writes the report of an analysis (`--report DIR`) and says where; a report that cannot be written
 * never loses the answer, but makes the command exit 1.
 */
async function reportOn(analysis: AnalysisToReport, target: ReportTarget, json: boolean | undefined): Promise<{ folder: string; files: string[]; warnings: string[] } | { error: string }> {
  try {
    const { writeAnalysisReport } = await import('../../report/write-analysis-report.js');
    const rendered = await writeAnalysisReport(analysis, target);
    if (!json) {
      for (const file of rendered.files) printNote(`report: ${file.path}`);
      for (const warning of rendered.warnings) printNote(`(report: ${warning})`);
    }
    return { folder: rendered.folder, files: rendered.files.map((file) => file.path), warnings: rendered.warnings };
  } catch (error) {
    const message = `the report could not be written into ${target.folder}: ${error instanceof Error ? error.message : String(error)}; give --report a folder you can write to`;
    if (!json) printNote(message);
    // The answer stands, but what was asked for was not done.
    process.exitCode = Math.max(Number(process.exitCode ?? 0), 1);
    return { error: message };
  }
}

/** Says, for a person, why `--report` wrote nothing: there was no analysis to report on. */
function noteNoReport(status: string, json: boolean | undefined): void {
  if (json) return;
  const why = status === 'needs_approval' ? 'the code waits for approval; pass --report again with --approve' : status === 'abstained' ? 'the question was not answered' : `the analysis ended with ${status}`;
  printNote(`(no report: ${why})`);
}

/** Exit code of an agent result: errors by their code (1 for what the user can fix, 2 for internal). */
function agentExitCode(result: AgentResult): number {
  if (result.status !== 'error') return 0;
  return result.error?.code === 'internal' ? 2 : 1;
}

/**
 * Asks the agent. When the model cannot be reached before anything ran, the offline analyst answers
 * instead and the result says so (`analyst: "offline"`, `fallback`).
 */
async function askAgent(
  source: DataSource,
  dictionary: Dictionary,
  settings: LlmSettings,
  questions: readonly string[],
  options: GlobalOptions,
  commandOptions: AskOptions,
  offline: () => Promise<OfflineAnalyst>,
  dataPath: string | undefined,
): Promise<number> {
  const choices = agentChoices(commandOptions);
  let worst = 0;
  const resuming = commandOptions.approve === true || commandOptions.reject === true;
  const runs = resuming ? [undefined] : questions;
  for (const [index, question] of runs.entries()) {
    const session = sessionNameFor(commandOptions.session);
    const printer = options.json ? undefined : eventPrinter(choices.mode, { streamText: false });
    const { agent, lines } = await openAgent(source, dictionary, settings, {
      flags: commandOptions,
      session,
      json: options.json,
      ...(commandOptions.today === undefined ? {} : { today: commandOptions.today }),
      ...(printer === undefined ? {} : { onEvent: printer }),
      ...(dataPath === undefined ? {} : { data: dataPath }),
    });
    const interrupt = new AbortController();
    const onSignal = (): void => interrupt.abort();
    process.once('SIGINT', onSignal);
    let result: AgentResult;
    try {
      result = question === undefined
        ? await agent.resume(commandOptions.reject === true ? { action: 'reject' } : { action: 'run' }, interrupt.signal)
        : await agent.ask(question, interrupt.signal);
    } finally {
      process.off('SIGINT', onSignal);
      lines?.close();
      await agent.close();
    }
    const unreachable = result.status === 'error' && result.error?.code === 'llm_unreachable' && result.steps.length === 0;
    if (unreachable && question !== undefined) {
      // The model is down: the offline analyst answers, and says it did.
      const fallback = await (await offline()).ask(question, { maxRows: commandOptions.maxRows });
      const reason = result.error?.message ?? 'the model could not be reached';
      const target = { source, dictionary, folder: reportFolder(commandOptions.report ?? '', index, runs.length), ...(dataPath === undefined ? {} : { data: dataPath }) };
      const report = commandOptions.report === undefined || fallback.status !== 'answered' ? undefined : await reportOn({ analyst: 'offline', result: fallback }, target, options.json);
      if (commandOptions.report !== undefined && report === undefined) noteNoReport(fallback.status, options.json);
      if (options.json) printJson({ ...fallback, fallback: { from: result.model, reason }, ...(report === undefined ? {} : { report }) });
      else {
        printNote(`(the model could not be reached: ${reason}; the offline analyst answered instead)`);
        printForPerson(fallback);
      }
      if (fallback.status === 'error') worst = Math.max(worst, 1);
      continue;
    }
    let report: Awaited<ReturnType<typeof reportOn>> | undefined;
    if (commandOptions.report !== undefined && (result.status === 'answered' || result.status === 'stopped')) {
      const target = { source, dictionary, folder: reportFolder(commandOptions.report, index, runs.length), ...(dataPath === undefined ? {} : { data: dataPath }) };
      report = await reportOn({ analyst: 'agent', record: agent.session, sessionFolder: agent.sessionFolder }, target, options.json);
    } else if (commandOptions.report !== undefined) noteNoReport(result.status, options.json);
    if (options.json) printJson(report === undefined ? result : { ...result, report });
    else {
      if (runs.length > 1) printLine(`${index === 0 ? '' : '\n'}■ ${question ?? ''}`);
      printAgentResult(result, { answerStreamed: false });
    }
    worst = Math.max(worst, agentExitCode(result));
  }
  return worst;
}

export function registerAskCommand(program: Command, globals: () => GlobalOptions): void {
  const command = program
    .command('ask')
    .description('Answer a question about the data, in Chinese or English: with a model when one is configured, else with the offline analyst')
    .argument('[question...]', 'the question')
    .option('--offline', 'use the offline analyst even when a model is configured')
    .option('--session <name>', 'continue a named conversation, for follow-up questions')
    .option('--batch <file>', 'answer one question per line of a file (- for standard input)')
    .option('--today <date>', 'the date relative time counts from (YYYY-MM-DD; default today)')
    .option('--max-rows <n>', 'most rows in a result', numberFlag('--max-rows', 'positive whole number'), 1000)
    .option('--approve', 'run the code (or accept the plan) the session is waiting on, and go on')
    .option('--reject', 'skip the code (or plan) the session is waiting on, and go on')
    .option('--report <dir>', 'write a report of the analysis into DIR: Markdown, self-contained HTML, and PDF when Chromium is there');
  addAgentOptions(command).action(async (words: string[], commandOptions: AskOptions) => {
      const options = globals();
      checkToday(commandOptions.today);
      const resuming = commandOptions.approve === true || commandOptions.reject === true;
      if (commandOptions.approve === true && commandOptions.reject === true) throw new IqueryError('usage', 'Give --approve or --reject, not both.');
      if (resuming && commandOptions.session === undefined) throw new IqueryError('usage', `--${commandOptions.approve === true ? 'approve' : 'reject'} needs --session NAME: the session that waits.`, { hint: 'The JSON of the paused question names it in "session".' });
      if (resuming && words.length > 0) throw new IqueryError('usage', 'Give either a question or --approve/--reject, not both.');
      const questions = commandOptions.batch !== undefined ? readBatch(commandOptions.batch) : [words.join(' ').trim()];
      if (commandOptions.batch !== undefined && words.length > 0) throw new IqueryError('usage', 'Give either a question or --batch, not both.');
      if (!resuming && (questions.length === 0 || questions[0] === '')) throw new IqueryError('usage', 'No question given.', { hint: 'iquery ask "各合同类型的流失率" (or --batch FILE).' });
      const model = commandOptions.offline === true ? undefined : chosenModel(commandOptions);
      if (resuming && model === undefined) throw new IqueryError('usage', 'Only the agent waits for approval, and no model is configured.', { hint: 'Give the same --llm-* settings (or environment) as the question that paused.' });
      const home = iqueryHome();
      const dataPath = options.data ?? (existsSync(demoDatabasePath(home)) ? demoDatabasePath(home) : undefined);
      await withData(options, async (source) => {
        const dictionaryOptions = {
          ...(options.dict === undefined ? {} : { dictPath: options.dict }),
          ...(dataPath === undefined ? {} : { dataPath }),
        };
        if (model !== undefined) {
          const { dictionary } = await dictionaryFor(source, dictionaryOptions);
          const offline = async (): Promise<OfflineAnalyst> => (await openAnalyst(source, { ...dictionaryOptions, ...(commandOptions.today === undefined ? {} : { today: commandOptions.today }) })).analyst;
          const code = await askAgent(source, dictionary, model, questions, options, commandOptions, offline, dataPath);
          if (code > 0) process.exitCode = code;
          return;
        }
        const { dictionary, origin } = await dictionaryFor(source, dictionaryOptions);
        const analyst = await OfflineAnalyst.create(source, dictionary, commandOptions.today === undefined ? {} : { today: commandOptions.today });
        if (!options.json && origin === 'drafted') printNote('(no dictionary given: using one drafted from the data; pass --dict for better answers)');
        const conversation = commandOptions.session === undefined ? undefined : loadConversation(home, commandOptions.session);
        let worst = 0;
        for (const [index, question] of questions.entries()) {
          const result = await answer(analyst, question, conversation, commandOptions);
          if (conversation !== undefined) saveConversation(home, conversation);
          if (result.status === 'error') worst = Math.max(worst, exitCodeFor(new IqueryError((result.error?.code ?? 'internal') as never, result.error?.message ?? '')));
          if (!options.json) {
            if (questions.length > 1) printLine(`${index === 0 ? '' : '\n'}■ ${question}`);
            printForPerson(result);
          }
          const target = { source, dictionary, folder: reportFolder(commandOptions.report ?? '', index, questions.length), ...(dataPath === undefined ? {} : { data: dataPath }) };
          const report = commandOptions.report === undefined || result.status !== 'answered' ? undefined : await reportOn({ analyst: 'offline', result }, target, options.json);
          if (commandOptions.report !== undefined && report === undefined) noteNoReport(result.status, options.json);
          if (options.json) printJson(report === undefined ? result : { ...result, report });
        }
        if (!options.json && commandOptions.offline !== true) printNote('(answered by the offline analyst: no model is configured; see `iquery ask --help` for --llm-provider)');
        if (worst > 0) process.exitCode = worst;
      });
    });
}
