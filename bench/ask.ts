/**
 * Benchmark: the offline analyst's speed, against peers measured in the same run.
 *  - planning (interpretation and compilation, no SQL) per question of the development set, against
 *    running the SQL it planned on DuckDB (the cost the question has anyway);
 *  - one `iquery ask` process, answered by the answer service and without it, against one `iquery sql`
 *    process running the same SQL (a process that opens the data and runs a query, without the
 *    analyst), and a bare `node` start;
 *  - `iquery ask --batch` of 100 questions, against 100 questions' worth of single processes.
 * Uses the demo database under IQUERY_HOME (built if missing). Prints medians and ratios.
 *
 * Usage: node dist/bench/ask.js [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { OfflineAnalyst } from '../src/analyst/analyst.js';
import { parseEvalFile } from '../src/analyst/eval/run-eval.js';
import { iqueryHome } from '../src/config/home.js';
import { demoDatabasePath } from '../src/demo/demo-paths.js';
import { loadDictionary } from '../src/dictionary/load-dictionary.js';
import { assetPath, packageRoot } from '../src/package-root.js';
import { openSource } from '../src/sources/open-source.js';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

function timeProcess(args: readonly string[], environment: Record<string, string> = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...args], { encoding: 'utf8', env: { ...process.env, ...environment } });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
  const runs = Number(flags.runs);
  const bin = join(packageRoot(), 'bin', 'iquery');
  const database = demoDatabasePath(iqueryHome());
  if (!existsSync(database)) timeProcess([bin, 'demo', '--json']);

  // Planning against execution, question by question.
  const source = await openSource(database);
  const analyst = await OfflineAnalyst.create(source, loadDictionary(assetPath('demo', 'telco.dictionary.yaml')), { today: '2026-11-21' });
  const set = parseEvalFile(readFileSync(join(packageRoot(), 'eval', 'dev.yaml'), 'utf8'), 'dev.yaml');
  const planning: number[] = [];
  const execution: number[] = [];
  for (const entry of set.questions) {
    const result = await analyst.ask(entry.question);
    if (result.status !== 'answered' || result.sql === null) continue;
    planning.push(result.planningMs);
    const start = process.hrtime.bigint();
    await source.query(result.sql, { maxRows: 100_000 });
    execution.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await source.close();

  // Processes: ask against sql with the same SQL, and a bare node start.
  const question = '各合同类型的流失率';
  const planned = spawnSync(process.execPath, [bin, 'ask', '--json', question], { encoding: 'utf8' });
  const sql = String((JSON.parse(planned.stdout) as { sql: string }).sql);
  const ask: number[] = [];
  const cold: number[] = [];
  const sqlRuns: number[] = [];
  const node: number[] = [];
  // The first warm ask starts the answer service if none runs; give it time to come up.
  timeProcess([bin, 'ask', '--json', question]);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  for (let run = 0; run < runs; run++) {
    ask.push(timeProcess([bin, 'ask', '--json', question]));
    cold.push(timeProcess([bin, 'ask', '--json', question], { IQUERY_ASK_SERVICE: '0' }));
    sqlRuns.push(timeProcess([bin, 'sql', '--json', sql]));
    node.push(timeProcess(['-e', '']));
  }

  // A batch of 100 questions against 100 single processes (estimated from the single-process median).
  const folder = mkdtempSync(join(tmpdir(), 'iquery-bench-ask-'));
  const file = join(folder, 'questions.txt');
  const hundred = Array.from({ length: 100 }, (_, index) => set.questions[index % set.questions.length]?.question ?? question);
  writeFileSync(file, `${hundred.join('\n')}\n`);
  const batch: number[] = [];
  for (let run = 0; run < Math.min(runs, 3); run++) batch.push(timeProcess([bin, 'ask', '--json', '--batch', file]));
  rmSync(folder, { recursive: true, force: true });

  const ms = (value: number): string => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
  process.stdout.write(
    [
      `planning over ${planning.length} answered dev questions: median ${ms(median(planning))}, p95 ${ms(percentile(planning, 0.95))}, max ${ms(Math.max(...planning))}`,
      `  running the planned SQL on DuckDB: median ${ms(median(execution))}; planning / execution = ${(median(planning) / median(execution)).toFixed(2)}`,
      `one process (median of ${runs}): iquery ask ${ms(median(ask))} with the answer service, ${ms(median(cold))} without; iquery sql of the same SQL ${ms(median(sqlRuns))}; bare node ${ms(median(node))}`,
      `  ask (service) / sql = ${(median(ask) / median(sqlRuns)).toFixed(2)}; ask (no service) / sql = ${(median(cold) / median(sqlRuns)).toFixed(2)}; ask (service) / bare node = ${(median(ask) / median(node)).toFixed(1)}`,
      `--batch of 100 questions: ${ms(median(batch))} (${ms(median(batch) / 100)} per question); 100 cold single asks would take ~${ms(100 * median(cold))}, ${((100 * median(cold)) / median(batch)).toFixed(0)}× longer`,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
