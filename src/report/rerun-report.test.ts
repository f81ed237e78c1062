/**
 * `iquery rerun` for real: a report fingerprinted with hashQuery on a CSV, run again on the same data
 * (all the same), on changed data (the exact cell that moved), with its Python step in the real
 * sandbox, and through bin/iquery for the exit codes and what a person reads.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runIquery, stackLine, type Run } from '../cli/testing/run-iquery.js';
import { loadDictionary } from '../dictionary/load-dictionary.js';
import { IqueryError } from '../errors.js';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import type { Report, ReportStep } from './report.js';
import { hashQuery, hashTable } from './result-hash.js';
import { readReport, rerunReport, type RerunResult } from './rerun-report.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-rerun-home-'));
// Reachable (not listable) by the sandbox's unprivileged uid, so session workspaces stay in here and go with it.
chmodSync(home, 0o711);
// The sandbox finds its sessions folder through IQUERY_HOME; this test process starts kernels too.
process.env['IQUERY_HOME'] = home;
const folder = mkdtempSync(join(tmpdir(), 'iquery-rerun-data-'));
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

const header = 'id,Contract,churn,monthly';
const rows = [
  '1,Month-to-month,1,70.5',
  '2,Month-to-month,0,65.25',
  '3,Month-to-month,1,80',
  '4,One year,0,55',
  '5,One year,1,60.1',
  '6,Two year,0,40',
  '7,Two year,0,45.5',
];
const csv = join(folder, 'customers.csv');
const dictionaryFile = join(folder, 'customers.dictionary.yaml');
let modified = Date.now() / 1000;

/** Writes the CSV; its modification time moves forward each time, so the loader's cache sees the change. */
function writeData(lines: readonly string[]): void {
  writeFileSync(csv, [header, ...lines].join('\n') + '\n');
  modified += 10;
  utimesSync(csv, modified, modified);
}

function writeDictionary(description: string): void {
  writeFileSync(dictionaryFile, `name: customers\ntables:\n  customers:\n    description: ${description}\n    columns:\n      Contract: {description: 合同类型 / contract type}\n      churn: {description: 是否流失 / churned}\n`);
}

const contractSql = 'SELECT Contract, AVG(churn) AS churn_rate, COUNT(*) AS customers\nFROM customers\nGROUP BY Contract\nORDER BY Contract';
const pythonCode = 'assert len(churn_data) == 7, f"expected 7 customers, found {len(churn_data)}"\nrates = churn_data.groupby("Contract")["churn"].mean()\nprint(rates.round(4).to_dict())\n';

/** A report as build-report makes one: every SQL step fingerprinted through the guard with hashQuery. */
async function writeReportFolder(name: string, options: { spec?: string; language?: Report['language'] } = {}): Promise<string> {
  const source: DataSource = await openSource(csv, { home });
  try {
    const drafts: Omit<ReportStep, 'result'>[] = [
      { index: 1, tool: 'load_data', language: 'sql', code: 'SELECT * FROM customers ORDER BY id', frame: 'churn_data', stage: 'exploration', status: 'ok', summary: 'DataFrame churn_data: 7 rows × 4 columns', figures: [] },
      { index: 2, tool: 'run_sql', language: 'sql', code: contractSql, stage: 'analysis', status: 'ok', summary: '3 rows', figures: [] },
      { index: 3, tool: 'run_python', language: 'python', code: pythonCode, stage: 'analysis', status: 'ok', summary: 'ok', figures: [] },
      { index: 4, tool: 'run_sql', language: 'sql', code: 'SELECT missing_column FROM customers', stage: 'exploration', status: 'error', summary: 'Binder Error', figures: [] },
    ];
    const steps: ReportStep[] = [];
    for (const draft of drafts) steps.push(draft.language === 'sql' && draft.status === 'ok' ? { ...draft, result: await hashQuery(source, draft.code) } : draft);
    const dictionary = loadDictionary(dictionaryFile);
    const report: Report = {
      version: 1,
      title: 'Churn by contract',
      language: options.language ?? 'en',
      question: 'What is the churn rate by contract type?',
      createdAt: new Date().toISOString(),
      analyst: 'agent',
      data: {
        source: source.label,
        ...(options.spec === undefined ? {} : { spec: options.spec }),
        dialect: source.dialect,
        inputs: [{ table: 'customers', ...(await hashTable(source, 'customers')) }],
        filters: [],
        metrics: [],
        dictionaryVersion: dictionary.version,
        dictionaryFile,
      },
      plan: [],
      steps,
      findings: [{ text: 'Month-to-month customers churn most.', step: 2 }],
      answer: 'Month-to-month: 66.7%.',
      methodNotes: [],
      limitations: [],
      nextSteps: [],
      numbers: { checked: 1, unsupported: [] },
    };
    const target = join(folder, name);
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'report.json'), JSON.stringify(report, null, 1));
    return target;
  } finally {
    await source.close();
  }
}

/** Runs the report again in this process, on a freshly opened source. */
async function rerun(reportFolder: string, python: boolean): Promise<RerunResult> {
  const source = await openSource(csv, { home });
  try {
    return await rerunReport(reportFolder, { source, dictionary: loadDictionary(dictionaryFile), python });
  } finally {
    await source.close();
  }
}

function iquery(args: readonly string[]): Run {
  return runIquery(home, args, { environment: { IQUERY_ASK_SERVICE: '0' } });
}

let report = '';
before(async () => {
  writeData(rows);
  writeDictionary('customers');
  report = await writeReportFolder('report', { spec: csv });
});

describe('rerunReport on unchanged data', () => {
  test('every step is the same, no number changed, and the Python step runs in the sandbox', async () => {
    const result = await rerun(report, true);
    assert.deepEqual(result.steps.map((step) => step.status), ['same', 'same', 'same', 'skipped'], JSON.stringify(result.steps, null, 1));
    assert.equal(result.changedNumbers, 0);
    assert.deepEqual(result.inputs.map((input) => [input.table, input.changed, input.after?.rows]), [['customers', false, 7]]);
    assert.equal(result.dictionary.changed, false);
    const python = result.steps[2];
    assert.equal(python?.python?.status, 'ok');
    assert.match(python?.python?.output ?? '', /'Month-to-month': 0\.6667/);
    assert.match(result.steps[3]?.note ?? '', /recorded as error/);
    // Written beside the report as well.
    const written = JSON.parse(readFileSync(join(report, 'rerun.json'), 'utf8')) as RerunResult;
    assert.deepEqual(written.steps.map((step) => step.status), ['same', 'same', 'same', 'skipped']);
  });

  test('without Python, the Python step is skipped and the kernel never starts', async () => {
    const result = await rerun(report, false);
    assert.deepEqual(result.steps.map((step) => step.status), ['same', 'same', 'skipped', 'skipped']);
    assert.match(result.steps[2]?.note ?? '', /--no-python/);
  });

  test('iquery rerun --json prints the result and exits 0; --no-python skips Python', () => {
    const run = iquery(['rerun', report, '--json', '--no-python']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as RerunResult;
    for (const field of ['report', 'ranAt', 'dictionary', 'inputs', 'steps', 'changedNumbers', 'summary']) assert.ok(field in result, `missing ${field}`);
    assert.deepEqual(result.steps.map((step) => step.status), ['same', 'same', 'skipped', 'skipped']);
    assert.equal(result.changedNumbers, 0);
  });
});

describe('rerunReport on changed data', () => {
  test('one value changed: the steps reading it are changed, with the exact cells', async () => {
    // Customer 2 churns now: Month-to-month goes from 2 of 3 to 3 of 3.
    writeData(rows.map((row) => (row.startsWith('2,') ? '2,Month-to-month,1,65.25' : row)));
    const result = await rerun(report, true);
    assert.deepEqual(result.steps.map((step) => step.status), ['changed', 'changed', 'same', 'skipped']);
    // The grouped result is matched by its key cells; only the churn rate of one contract moved.
    assert.deepEqual(result.steps[1]?.changes, [{ step: 2, row: 'Contract=Month-to-month', column: 'churn_rate', before: 2 / 3, after: 1 }]);
    // The raw rows have no unique key cells (Contract repeats), so they are matched by position.
    assert.deepEqual(result.steps[0]?.changes, [{ step: 1, row: 'row 2', column: 'churn', before: 0, after: 1 }]);
    assert.equal(result.changedNumbers, 2);
    const input = result.inputs[0];
    assert.equal(input?.changed, true);
    assert.equal(input?.after?.rows, 7);
    assert.notEqual(input?.after?.hash, input?.before.hash);
    assert.equal(result.steps[2]?.python?.status, 'ok');
    assert.match(result.steps[2]?.python?.output ?? '', /'Month-to-month': 1\.0/);
  });

  test('iquery rerun shows the steps and each changed number for a person', () => {
    const run = iquery(['rerun', report, '--no-python']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /2 numbers changed:/);
    assert.match(run.stdout, /step 2 · Contract=Month-to-month · churn_rate: 0\.6667 → 1\n/);
    assert.match(run.stdout, /step 1 · row 2 · churn: 0 → 1\n/);
    assert.match(run.stdout, /customers: 7 \(content changed\)/);
    assert.doesNotMatch(run.stderr, stackLine);
  });

  test('a row more: rows added are listed, and the Python step that now raises has failed', async () => {
    writeData([...rows, '8,One year,1,58']);
    const result = await rerun(report, true);
    assert.deepEqual(result.steps.map((step) => step.status), ['changed', 'changed', 'failed', 'skipped']);
    assert.deepEqual(result.steps[0]?.rowsAdded.map((row) => row.row), ['row 8']);
    assert.deepEqual([result.steps[0]?.before?.rowCount, result.steps[0]?.after?.rowCount], [7, 8]);
    assert.deepEqual(result.steps[1]?.changes.map((change) => [change.row, change.column, change.before, change.after]), [
      ['Contract=One year', 'churn_rate', 0.5, 2 / 3],
      ['Contract=One year', 'customers', 2, 3],
    ]);
    assert.equal(result.steps[2]?.python?.status, 'error');
    assert.match(result.steps[2]?.error ?? '', /AssertionError: expected 7 customers, found 8/);
    assert.equal(result.inputs[0]?.after?.rows, 8);
    // Failing steps are what a rerun reports: it still exits 0.
    const run = iquery(['rerun', report, '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as RerunResult).steps[2]?.status, 'failed');
  });

  test('a new dictionary version is reported', () => {
    const other = join(folder, 'other.dictionary.yaml');
    writeFileSync(other, readFileSync(dictionaryFile, 'utf8').replace('description: customers', 'description: customers of the shop'));
    const run = iquery(['rerun', report, '--no-python', '--dict', other]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /The dictionary changed: version \S+ → \S+\./);
    const json = JSON.parse(iquery(['rerun', report, '--no-python', '--dict', other, '--json']).stdout) as RerunResult;
    assert.equal(json.dictionary.changed, true);
    assert.equal(json.dictionary.before, loadDictionary(dictionaryFile).version);
    assert.equal(json.dictionary.after, loadDictionary(other).version);
  });

  test('a report in Chinese is rerun in Chinese', async () => {
    writeData(rows);
    const chinese = await writeReportFolder('report-zh', { spec: csv, language: 'zh' });
    writeData(rows.map((row) => (row.startsWith('2,') ? '2,Month-to-month,1,65.25' : row)));
    const run = iquery(['rerun', chinese, '--no-python']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /2 个数字发生了变化：/);
    assert.match(run.stdout, /步骤 2 · Contract=Month-to-month · churn_rate: 0\.6667 → 1/);
    assert.match(run.stdout, /有变化/);
  });
});

describe('what iquery rerun refuses', () => {
  test('a folder without a report: not_found, exit 1, no stack', () => {
    const empty = join(folder, 'empty');
    mkdirSync(empty, { recursive: true });
    assert.throws(() => readReport(empty), (error: unknown) => error instanceof IqueryError && error.code === 'not_found' && error.details?.['reason'] === 'report_not_found');
    const run = iquery(['rerun', empty]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /No report in .*empty: there is no report\.json there\./);
    assert.doesNotMatch(run.stderr, stackLine);
    const json = iquery(['rerun', empty, '--json']);
    assert.equal(json.status, 1);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'not_found');
  });

  test('a report.json that is not a report: bad_input, exit 1', () => {
    const broken = join(folder, 'broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'report.json'), '{"version": 1, "steps": "no"}');
    const run = iquery(['rerun', broken]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /is not an iquery report/);
    writeFileSync(join(broken, 'report.json'), '{not json');
    assert.match(iquery(['rerun', broken]).stderr, /is not valid JSON/);
  });

  test('a report made on a server connection needs --data, and runs with it', async () => {
    writeData(rows);
    const serverReport = await writeReportFolder('no-spec');
    const run = iquery(['rerun', serverReport]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /made on a server connection/);
    assert.match(run.stderr, /--data/);
    const given = iquery(['rerun', serverReport, '--data', csv, '--dict', dictionaryFile, '--no-python', '--json']);
    assert.equal(given.status, 0, given.stderr);
    assert.deepEqual((JSON.parse(given.stdout) as RerunResult).steps.map((step) => step.status), ['same', 'same', 'skipped', 'skipped']);
    assert.ok(existsSync(join(serverReport, 'rerun.json')));
  });
});
