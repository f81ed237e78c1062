import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { AskResult, OfflineAnalyst } from '../../analyst/analyst.js';
import { contextOf, loadConversation, recordTurn, saveConversation, type Conversation } from '../../analyst/conversations.js';
import { openAnalyst } from '../../analyst/open-analyst.js';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import { IqueryError, exitCodeFor } from '../../errors.js';
import { withData } from '../open-data.js';
import { printJson, printLine, printNote, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';
import { numberFlag } from '../number-flag.js';
import { existsSync } from 'node:fs';
import type { SqlValue } from '../../sources/source.js';

interface AskOptions {
  offline?: boolean;
  session?: string;
  batch?: string;
  today?: string;
  maxRows: number;
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

export function registerAskCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('ask')
    .description('Answer a question about the data, in Chinese or English (offline analyst: no model needed)')
    .argument('[question...]', 'the question')
    .option('--offline', 'use the offline analyst (the only one until a model is configured)')
    .option('--session <name>', 'continue a named conversation, for follow-up questions')
    .option('--batch <file>', 'answer one question per line of a file (- for standard input)')
    .option('--today <date>', 'the date relative time counts from (YYYY-MM-DD; default today)')
    .option('--max-rows <n>', 'most rows in a result', numberFlag('--max-rows', 'positive whole number'), 1000)
    .action(async (words: string[], commandOptions: AskOptions) => {
      const options = globals();
      checkToday(commandOptions.today);
      const questions = commandOptions.batch !== undefined ? readBatch(commandOptions.batch) : [words.join(' ').trim()];
      if (commandOptions.batch !== undefined && words.length > 0) throw new IqueryError('usage', 'Give either a question or --batch, not both.');
      if (questions.length === 0 || questions[0] === '') throw new IqueryError('usage', 'No question given.', { hint: 'iquery ask "各合同类型的流失率" (or --batch FILE).' });
      const home = iqueryHome();
      const dataPath = options.data ?? (existsSync(demoDatabasePath(home)) ? demoDatabasePath(home) : undefined);
      await withData(options, async (source) => {
        const { analyst, origin } = await openAnalyst(source, {
          ...(options.dict === undefined ? {} : { dictPath: options.dict }),
          ...(dataPath === undefined ? {} : { dataPath }),
          ...(commandOptions.today === undefined ? {} : { today: commandOptions.today }),
        });
        if (!options.json && origin === 'drafted') printNote('(no dictionary given: using one drafted from the data; pass --dict for better answers)');
        const conversation = commandOptions.session === undefined ? undefined : loadConversation(home, commandOptions.session);
        let worst = 0;
        for (const [index, question] of questions.entries()) {
          const result = await answer(analyst, question, conversation, commandOptions);
          if (conversation !== undefined) saveConversation(home, conversation);
          if (result.status === 'error') worst = Math.max(worst, exitCodeFor(new IqueryError((result.error?.code ?? 'internal') as never, result.error?.message ?? '')));
          if (options.json) {
            printJson(result);
          } else {
            if (questions.length > 1) printLine(`${index === 0 ? '' : '\n'}■ ${question}`);
            printForPerson(result);
          }
        }
        if (worst > 0) process.exitCode = worst;
      });
    });
}
