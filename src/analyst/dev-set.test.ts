/**
 * The question sets in eval/, scored as `iquery eval` scores them: the development sets must stay at
 * or above the targets (90% answered correctly, at most 1% wrong), on the demo data and, for
 * the questions that do not need the bills table, on the real Telco data in the same schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDictionary } from '../dictionary/load-dictionary.js';
import { assetPath, packageRoot } from '../package-root.js';
import { openSource } from '../sources/open-source.js';
import { OfflineAnalyst } from './analyst.js';
import { parseEvalFile, runEval, type EvalFile, type EvalReport } from './eval/run-eval.js';
import { buildRealTelcoDatabase } from './testing/real-telco.js';
import { evalToday, openDemoAnalyst, type DemoAnalyst } from './testing/demo-analyst.js';

function questionSet(name: string): EvalFile {
  const path = join(packageRoot(), 'eval', name);
  return parseEvalFile(readFileSync(path, 'utf8'), path);
}

function describeFailures(report: EvalReport): string {
  return report.outcomes
    .filter((outcome) => outcome.verdict === 'wrong')
    .map((outcome) => `${outcome.id} ${outcome.question}: ${outcome.detail ?? ''}`)
    .join('\n');
}

let demo: DemoAnalyst;
before(async () => {
  demo = await openDemoAnalyst();
});
after(async () => {
  await demo?.close();
});

test('the development set: at least 90% correct, at most 1% wrong, half of it Chinese', async () => {
  const set = questionSet('dev.yaml');
  assert.ok(set.questions.length >= 150);
  const report = await runEval(set, demo.analyst, demo.source);
  assert.ok(report.byLanguage.zh.questions * 2 >= report.questions, 'half the questions are Chinese');
  assert.ok(report.accuracy >= 0.9, `accuracy ${report.accuracy}`);
  assert.ok(report.wrongRate <= 0.01, `wrong ${report.wrongRate}:\n${describeFailures(report)}`);
  assert.ok(report.planning.maxMs < 1000);
});

for (const name of ['dev2.yaml', 'dev3.yaml', 'dev4.yaml', 'dev5.yaml']) {
  test(`${name}, written independently: at least 80% correct, at most 1% wrong`, async () => {
    const report = await runEval(questionSet(name), demo.analyst, demo.source);
    assert.ok(report.accuracy >= 0.8, `accuracy ${report.accuracy}`);
    assert.ok(report.wrongRate <= 0.01, `wrong ${report.wrongRate}:\n${describeFailures(report)}`);
  });
}

test('the same questions on the real Telco data in the demo schema', async (context) => {
  const database = await buildRealTelcoDatabase(demo.folder);
  if (database === undefined) {
    context.skip('the real Telco CSV is not beside the repository');
    return;
  }
  const source = await openSource(database, { home: demo.folder });
  try {
    const analyst = await OfflineAnalyst.create(source, loadDictionary(assetPath('demo', 'telco.dictionary.yaml')), { today: evalToday });
    const set = questionSet('dev.yaml');
    // The real data has no bills: keep the questions that do not need them.
    const questions = set.questions.filter((entry) => entry.sql !== undefined && !/user_bills/i.test(entry.sql) && entry.session === undefined);
    const report = await runEval({ ...set, questions }, analyst, source);
    assert.ok(report.questions >= 80, `${report.questions} questions`);
    assert.ok(report.accuracy >= 0.9, `accuracy ${report.accuracy}`);
    assert.ok(report.wrongRate <= 0.01, `wrong ${report.wrongRate}:\n${describeFailures(report)}`);
  } finally {
    await source.close();
  }
});
