import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateDemoDatabase } from '../demo/generate.js';
import { assetPath } from '../package-root.js';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { checkDictionaryAgainstSource } from './check-dictionary.js';
import { formatProblem } from './dictionary.js';
import { loadDictionary, parseDictionary } from './load-dictionary.js';

let workFolder: string;
let source: DataSource;

before(async () => {
  workFolder = mkdtempSync(join(tmpdir(), 'iquery-dictionary-check-'));
  const data = join(workFolder, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'user_demographics.csv'), 'customerID,gender,SeniorCitizen\nA1,Male,0\nA2,Female,1\nA3,Female,0\nA4,Male,0\n');
  writeFileSync(join(data, 'user_payments.csv'), 'customerID,Contract,MonthlyCharges\nA1,Month-to-month,29.85\nA2,One year,56.95\nA3,Month-to-month,53.85\nA4,Two year,42.30\n');
  writeFileSync(join(data, 'user_churn.csv'), 'customerID,Churn\nA1,Yes\nA2,No\nA3,No\nA4,No\n');
  source = await openSource(data, { home: join(workFolder, 'home') });
});

after(async () => {
  await source.close();
  rmSync(workFolder, { recursive: true, force: true });
});

const fitting = `name: small
tables:
  user_demographics:
    primary_key: customerID
    columns:
      customerID: {sensitivity: internal}
      gender:
        values:
          Female: [女]
          Male: [男]
      SeniorCitizen:
        values:
          1: [是]
          0: [否]
  user_payments:
    primary_key: customerID
    columns:
      customerID:
      Contract:
        values:
          Month-to-month: [按月]
          One year: [一年]
          Two year: [两年]
      MonthlyCharges: {unit: USD}
relationships:
  - user_payments.customerID = user_demographics.customerID
metrics:
  arpu:
    sql: AVG(user_payments.MonthlyCharges)
  senior_arpu:
    label: 老年用户平均月费
    sql: AVG(CASE WHEN user_demographics.SeniorCitizen = 1 THEN user_payments.MonthlyCharges END)
  customer_count:
    sql: COUNT(DISTINCT user_demographics.customerID)
`;

async function problemsOf(text: string): Promise<string[]> {
  return (await checkDictionaryAgainstSource(parseDictionary(text, 'small.yaml'), source)).map(formatProblem);
}

describe('checking a dictionary against real data', () => {
  test('a dictionary that fits the data has no problems, including a metric joined over a relationship', async () => {
    assert.deepEqual(await problemsOf(fitting), []);
  });

  test('a missing column is an error naming the file, the line and the closest column', async () => {
    const problems = await problemsOf(fitting.replace('      gender:\n', '      gendre:\n'));
    assert.deepEqual(problems, ['small.yaml:7:7: error: column "user_demographics.gendre": table "user_demographics" has no column "gendre". Did you mean "gender"?']);
  });

  test('a missing table is an error suggesting the closest table', async () => {
    const problems = await problemsOf('name: x\ntables:\n  user_payment:\n    columns: {Contract: }\n');
    assert.deepEqual(problems, ['small.yaml:3:3: error: table "user_payment" is not in the data (' + source.label + '). Did you mean "user_payments"?']);
  });

  test('a metric that fails on the data is an error', async () => {
    const problems = await problemsOf(`${fitting}  broken:\n    sql: SUM(user_payments.Contract)\n`);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^small\.yaml:35:3: error: metric "broken" fails on the data: .*sum/i);
  });

  test('a metric over tables no relationship joins is an error', async () => {
    const text = fitting.replace('relationships:\n  - user_payments.customerID = user_demographics.customerID\n', '');
    const problems = await problemsOf(text);
    assert.deepEqual(problems, [
      'small.yaml:28:3: error: metric "senior_arpu" reads tables user_demographics, user_payments, but no relationship joins them; add one under `relationships:`.',
    ]);
  });

  test('a metric column missing from a table that lists no columns is an error', async () => {
    const problems = await problemsOf('name: x\ntables:\n  user_payments:\nmetrics:\n  m: {sql: SUM(user_payments.MonthlyCharge)}\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /small\.yaml:5:3: error: metric "m": table "user_payments" has no column "MonthlyCharge"\. Did you mean "MonthlyCharges"\?/);
  });

  test('listed values that never occur, and values the dictionary misses, are warnings', async () => {
    const problems = await problemsOf(fitting.replace('          Male: [男]\n', '          Other: [其他]\n'));
    assert.deepEqual(problems, [
      'small.yaml:10:11: warning: value "Other" of user_demographics.gender never occurs in the data, which has: "Female", "Male".',
      'small.yaml:7:7: warning: user_demographics.gender also holds values the dictionary does not list: "Male".',
    ]);
  });

  test('values of a small table are checked even when they repeat too little to count as categorical', async () => {
    const problems = await problemsOf(fitting.replace('          Two year: [两年]\n', '          Three year: [三年]\n'));
    assert.deepEqual(problems, [
      'small.yaml:23:11: warning: value "Three year" of user_payments.Contract never occurs in the data, which has: "Month-to-month", "One year", "Two year".',
      'small.yaml:19:7: warning: user_payments.Contract also holds values the dictionary does not list: "Two year".',
    ]);
  });

  test('a name matching only ignoring case is a warning with the exact name', async () => {
    const problems = await problemsOf(fitting.replace('      MonthlyCharges: {unit: USD}', '      monthlycharges: {unit: USD}').replace('AVG(user_payments.MonthlyCharges)\n', 'AVG(user_payments.monthlycharges)\n'));
    assert.ok(problems.includes('small.yaml:24:7: warning: column "user_payments.monthlycharges": the data spells column "monthlycharges" as "MonthlyCharges"; write it that way.'), problems.join('\n'));
    assert.ok(problems.every((problem) => problem.includes('warning')), problems.join('\n'));
  });

  test('Yes/No values of a CSV column match exactly: the loader keeps them as text', async () => {
    const problems = await problemsOf('name: x\ntables:\n  user_churn:\n    columns:\n      Churn:\n        values:\n          "Yes": [流失]\n          "No": [留存]\n');
    assert.deepEqual(problems, []);
  });

  test('a recorded type that does not fit the data is a warning', async () => {
    const problems = await problemsOf('name: x\ntables:\n  user_payments:\n    columns:\n      MonthlyCharges: {type: date}\n      Contract: {type: text}\n');
    assert.deepEqual(problems, ['small.yaml:5:7: warning: column "user_payments.MonthlyCharges" is recorded as date, but the data has DOUBLE (float).']);
  });

  test('metrics can be left unrun', async () => {
    const dictionary = parseDictionary(`${fitting}  broken:\n    sql: SUM(user_payments.Contract)\n`, 'small.yaml');
    assert.deepEqual(await checkDictionaryAgainstSource(dictionary, source, { runMetrics: false }), []);
  });
});

describe('the demo dictionary against the demo database', () => {
  let demoSource: DataSource;

  before(async () => {
    const summary = await generateDemoDatabase({ path: join(workFolder, 'demo', 'telco.duckdb'), scale: 0.1 });
    demoSource = await openSource(summary.path, { home: join(workFolder, 'home') });
  });

  after(async () => {
    await demoSource.close();
  });

  test('fits the demo data: every table, column, value and metric', async () => {
    const dictionary = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));
    const problems = await checkDictionaryAgainstSource(dictionary, demoSource);
    assert.deepEqual(problems.map(formatProblem), []);
  });
});
