import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import { assetPath } from '../../package-root.js';
import { checkDictionaryAgainstSource } from '../../dictionary/check-dictionary.js';
import { formatProblem } from '../../dictionary/dictionary.js';
import { loadDictionary } from '../../dictionary/load-dictionary.js';
import { openSource } from '../../sources/open-source.js';
import { numberFlag } from '../number-flag.js';
import { printJson, printLine, printNote, renderResult, type GlobalOptions } from '../output.js';

interface DemoStamp {
  scale: number;
  seed: number;
}

function readStamp(path: string): DemoStamp | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DemoStamp;
  } catch {
    return undefined;
  }
}

export function registerDemoCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('Build the telecom demo database under IQUERY_HOME and run a short analysis session on it')
    .option('--scale <n>', 'customers as a multiple of 7,043', numberFlag('--scale', 'number above 0'), 1)
    .option('--seed <n>', 'random seed; the same seed gives the same data', numberFlag('--seed', 'whole number'), 42)
    .option('--rebuild', 'build the database again even when one exists')
    .action(async (commandOptions: { scale: number; seed: number; rebuild?: boolean }) => {
      const options = globals();
      const home = iqueryHome();
      const database = demoDatabasePath(home);
      const stampPath = join(dirname(database), 'telco.json');
      const stamp = readStamp(stampPath);
      const current = existsSync(database) && stamp?.scale === commandOptions.scale && stamp.seed === commandOptions.seed;
      const note = options.json ? () => undefined : printNote;
      // The generator and the analyses load only here, so that other commands start without them.
      const [{ generateDemoDatabase }, { demoAnalyses }] = await Promise.all([import('../../demo/generate.js'), import('../../demo/analyses.js')]);
      if (!current || commandOptions.rebuild === true) {
        note(`Building the demo database (scale ${commandOptions.scale}, seed ${commandOptions.seed}) at ${database}`);
        mkdirSync(dirname(database), { recursive: true });
        const summary = await generateDemoDatabase({ path: database, scale: commandOptions.scale, seed: commandOptions.seed, onProgress: note });
        writeFileSync(stampPath, JSON.stringify({ scale: commandOptions.scale, seed: commandOptions.seed }));
        note(`Built ${summary.customers.toLocaleString('en-US')} customers, data up to ${summary.snapshotMonth}.`);
      }
      const dictionary = join(dirname(database), 'telco.dictionary.yaml');
      refreshDemoDictionary(dictionary);

      const source = await openSource(database, { home });
      try {
        const checked = await checkDictionaryAgainstSource(loadDictionary(dictionary), source);
        const dictionaryErrors = checked.filter((problem) => problem.severity === 'error');
        if (!options.json) {
          for (const problem of checked) printNote(formatProblem(problem));
          printLine(`Dictionary ${dictionary}: checked against the data, ${dictionaryErrors.length} errors, ${checked.length - dictionaryErrors.length} warnings.`);
        }
        const results = [];
        for (const analysis of demoAnalyses) {
          const result = await source.query(analysis.sql, { maxRows: 100 });
          results.push({ analysis, result });
          if (!options.json) {
            printLine(`\n■ ${analysis.title}`);
            printLine(renderResult(result.columns, result));
          }
        }
        // The main job: questions in Chinese and English, answered by the offline analyst (no model).
        const { OfflineAnalyst } = await import('../../analyst/analyst.js');
        const analyst = await OfflineAnalyst.create(source, loadDictionary(dictionary));
        const answers = [];
        for (const question of demoQuestions) {
          const answer = await analyst.ask(question);
          answers.push(answer);
          if (!options.json) {
            printLine(`\n■ ${question}`);
            printLine(`  ${answer.answer}`);
            if (answer.sql !== null) printLine(`  SQL: ${answer.sql}`);
          }
        }
        // The signature feature: the report of the first answer, in every format, beside the database.
        const reported = answers.find((answer) => answer.status === 'answered');
        let report: { folder: string; files: string[]; warnings: string[] } | undefined;
        if (reported !== undefined) {
          const { writeAnalysisReport } = await import('../../report/write-analysis-report.js');
          const rendered = await writeAnalysisReport({ analyst: 'offline', result: reported }, { source, dictionary: loadDictionary(dictionary), data: database, folder: join(dirname(database), 'report') });
          report = { folder: rendered.folder, files: rendered.files.map((file) => file.path), warnings: rendered.warnings };
        }
        if (options.json) {
          printJson({
            database,
            ...(report === undefined ? {} : { report }),
            dictionary,
            dictionary_problems: checked,
            questions: answers.map((answer) => ({ question: answer.question, status: answer.status, answer: answer.answer, sql: answer.sql, columns: answer.columns, rows: answer.rows })),
            analyses: results.map(({ analysis, result }) => ({
              id: analysis.id,
              title: analysis.title,
              sql: analysis.sql,
              columns: result.columns.map((column) => column.name),
              rows: result.rows,
              row_count: result.rowCount,
              truncated: result.truncated,
            })),
          });
          return;
        }
        printLine('');
        printLine(`Demo database: ${database}`);
        printLine(`Dictionary:    ${dictionary}`);
        if (report !== undefined) {
          printLine(`Report:        ${report.folder} (${report.files.map((file) => basename(file)).join(', ')})`);
          for (const warning of report.warnings) printNote(`(report: ${warning})`);
        }
        printLine('Try:');
        printLine('  bin/iquery tables');
        printLine('  bin/iquery describe user_payments');
        printLine(`  bin/iquery sql "SELECT Contract, COUNT(*) AS customers FROM user_payments GROUP BY Contract"`);
        printLine('  bin/iquery ask "光纤用户里按支付方式的流失率"');
        printLine('  bin/iquery ask "average monthly charge by contract type, highest first"');
        if (report !== undefined) printLine(`  bin/iquery rerun ${report.folder}`);
        printLine('  bin/iquery ask --report my-report "各合同类型的流失率"');
      } finally {
        await source.close();
      }
    });
}

/** Questions the demo answers with the offline analyst, as a person would type them. */
const demoQuestions = [
  '各合同类型的流失率是多少？',
  'What percentage of customers use fiber optic internet?',
  '按在网时长每12个月分组，各组的流失率',
  'Average monthly charge of senior vs non-senior customers',
  '过去3个月的总收入',
  'Which 3 payment methods have the highest churn rate?',
  '明天的天气怎么样？',
];

/**
 * The demo's dictionary beside its database is the person's to edit: it is replaced by the shipped one
 * only while it is still a copy of a shipped version (its hash is recorded beside it), so that a newer
 * iquery brings its richer dictionary without overwriting edits.
 */
function refreshDemoDictionary(path: string): void {
  const shipped = readFileSync(assetPath('demo', 'telco.dictionary.yaml'));
  const stamp = `${path}.shipped-sha256`;
  const hash = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const pristine = !existsSync(path) || (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash(readFileSync(path)));
  if (!pristine) return;
  writeFileSync(path, shipped);
  writeFileSync(stamp, hash(shipped));
}
