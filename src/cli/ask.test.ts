/** `iquery ask` and `iquery eval` as scripts meet them: the real `bin/iquery` in a child process. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runIquery, stackLine, type Run } from './testing/run-iquery.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-ask-home-'));
const folder = mkdtempSync(join(tmpdir(), 'iquery-ask-data-'));
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

function iquery(args: readonly string[]): Run {
  return runIquery(home, args);
}

function lines(run: Run): Record<string, unknown>[] {
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const contract = ['status', 'question', 'language', 'plan', 'sql', 'columns', 'rows', 'answer', 'chart'];

before(() => {
  const built = iquery(['demo', '--json']);
  assert.equal(built.status, 0, built.stderr);
});

describe('iquery ask on the demo data', () => {
  test('--json prints one object with the contract fields', () => {
    const run = iquery(['ask', '--offline', '--json', '--today', '2026-11-21', '各合同类型的流失率']);
    assert.equal(run.status, 0, run.stderr);
    const [result] = lines(run);
    assert.ok(result !== undefined);
    for (const field of contract) assert.ok(field in result, `missing ${field}`);
    assert.equal(result['status'], 'answered');
    assert.equal(result['language'], 'zh');
    assert.deepEqual(result['columns'], ['Contract', 'churn_rate']);
    assert.equal((result['rows'] as unknown[]).length, 3);
    assert.match(String(result['sql']), /^SELECT /);
    assert.equal((result['chart'] as { type: string }).type, 'bar');
  });

  test('for a person: the answer, the table and the SQL', () => {
    const run = iquery(['ask', 'What is the churn rate by contract type?']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Churn rate by contract type: Month-to-month \d+\.\d%/);
    assert.match(run.stdout, /churn_rate/);
    assert.match(run.stdout, /SQL: SELECT/);
  });

  test('--batch answers one question per line, each on its own', () => {
    const file = join(folder, 'questions.txt');
    writeFileSync(file, '各合同类型的流失率\n# a comment\n\nand by gender?\n明天天气怎么样\n');
    const run = iquery(['ask', '--json', '--batch', file]);
    assert.equal(run.status, 0, run.stderr);
    const results = lines(run);
    assert.equal(results.length, 3);
    assert.deepEqual(results.map((result) => result['status']), ['answered', 'answered', 'abstained']);
    // Without --session, "and by gender?" is a question of its own: no contract in it.
    assert.ok(!(results[1]?.['columns'] as string[]).includes('Contract'));
  });

  test('--session carries the context to follow-ups, across processes', () => {
    const first = iquery(['ask', '--json', '--session', 'follow-up', '各合同类型的流失率']);
    assert.equal(first.status, 0, first.stderr);
    const second = lines(iquery(['ask', '--json', '--session', 'follow-up', '那只看老年用户呢?']))[0];
    assert.equal(second?.['status'], 'answered');
    assert.deepEqual(second?.['columns'], ['Contract', 'churn_rate']);
    assert.match(String(second?.['sql']), /SeniorCitizen" = 1/);
    const third = lines(iquery(['ask', '--json', '--session', 'follow-up', 'and by gender?']))[0];
    assert.deepEqual(third?.['columns'], ['gender', 'churn_rate']);
    assert.match(String(third?.['sql']), /SeniorCitizen" = 1/);
    assert.ok(existsSync(join(home, 'conversations', 'follow-up.json')));
  });

  test('an abstention is an answer that says so, not a failure', () => {
    const run = iquery(['ask', '--json', '各省份的流失率']);
    assert.equal(run.status, 0);
    const [result] = lines(run);
    assert.equal(result?.['status'], 'abstained');
    assert.equal(result?.['sql'], null);
    assert.deepEqual(result?.['unmapped'], ['省份']);
  });

  test('bad input gets a clear error, exit 1 and no stack trace', () => {
    for (const args of [['ask'], ['ask', '--today', 'tomorrow', 'churn rate'], ['ask', '--session', '../x', 'churn rate'], ['ask', '--batch', join(folder, 'missing.txt')]]) {
      const run = iquery(args);
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^error: /);
      assert.doesNotMatch(run.stderr, stackLine);
    }
  });
});

describe('iquery ask on data without a dictionary', () => {
  test('a CSV gets a dictionary drafted from its data', () => {
    const csv = join(folder, 'orders.csv');
    writeFileSync(csv, 'order_id,region,amount\n1,north,10.5\n2,south,20\n3,north,7.25\n4,east,3\n');
    const run = iquery(['ask', '--json', '--data', csv, 'total amount by region']);
    assert.equal(run.status, 0, run.stderr);
    const [result] = lines(run);
    assert.equal(result?.['status'], 'answered', String(result?.['answer']));
    const rows = new Map((result?.['rows'] as [string, number][]).map(([region, total]) => [region, total]));
    assert.equal(rows.get('north'), 17.75);
    assert.equal(rows.get('east'), 3);
  });
});

describe('iquery eval', () => {
  test('scores a question set and reports correct, abstained and wrong', () => {
    const file = join(folder, 'set.yaml');
    writeFileSync(
      file,
      [
        'today: 2026-11-21',
        'questions:',
        '  - {id: a, question: 各合同类型的流失率, sql: "SELECT Contract, AVG(CASE WHEN c.Churn = \'Yes\' THEN 1.0 ELSE 0.0 END) FROM user_payments p JOIN user_churn c USING (customerID) GROUP BY 1"}',
        '  - {id: b, question: 整体流失率是多少, sql: "SELECT 0.5"}',
        '  - {id: c, question: 明天天气怎么样, expect: abstain}',
        '  - {id: d, question: 各省份的用户数, sql: "SELECT 1"}',
      ].join('\n'),
    );
    const run = iquery(['eval', '--json', file]);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { questions: number; correct: number; abstained: number; wrong: number; outcomes: { id: string; verdict: string }[] };
    assert.deepEqual(
      report.outcomes.map((outcome) => [outcome.id, outcome.verdict]),
      [
        ['a', 'correct'],
        ['b', 'wrong'],
        ['c', 'correct'],
        ['d', 'abstained'],
      ],
    );
    assert.deepEqual([report.questions, report.correct, report.abstained, report.wrong], [4, 2, 1, 1]);
  });

  test('a malformed question set is refused with what is wrong', () => {
    const file = join(folder, 'bad.yaml');
    writeFileSync(file, 'questions:\n  - {id: a, question: hi}\n');
    const run = iquery(['eval', file]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /a has neither sql nor expect/);
  });
});
