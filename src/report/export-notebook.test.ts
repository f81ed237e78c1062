/**
 * `iquery export --notebook` for real: a report and an agent session exported through bin/iquery,
 * checked against the nbformat 4.5 structure, then executed with /usr/bin/python3 (each SQL step
 * through the real `iquery sql`), and the DataFrames compared with the report's recorded results.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentSessionRecord } from '../agent/session-store.js';
import { runIquery, stackLine, type Run } from '../cli/testing/run-iquery.js';
import { openSource } from '../sources/open-source.js';
import type { SqlValue } from '../sources/source.js';
import { notebookData, pythonString, reportToNotebook, type Notebook } from './export-notebook.js';
import type { Report, ReportStep } from './report.js';
import { canonicalRow, hashQuery, hashTable } from './result-hash.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-export-home-'));
const folder = mkdtempSync(join(tmpdir(), 'iquery-export-data-'));
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

const csv = join(folder, 'customers.csv');
writeFileSync(
  csv,
  ['id,Contract,churn,monthly', '1,Month-to-month,1,70.5', '2,Month-to-month,0,65.25', '3,Month-to-month,1,80', '4,One year,0,55', '5,One year,1,60.1', '6,Two year,0,40', '7,Two year,0,45.5'].join('\n') + '\n',
);

/** Starts with a comment holding a triple quote and a backslash: the literal must still be exact, and `iquery sql` must not read it as a flag. */
const rateSql = '-- churn by contract: "rate" is a share, not a """percent""" \\ note\nSELECT Contract, AVG(churn) AS churn_rate, COUNT(*) AS customers\nFROM customers\nGROUP BY Contract\nORDER BY Contract';
const revenueSql = 'SELECT Contract, SUM(monthly) AS revenue\nFROM customers\nGROUP BY Contract\nORDER BY Contract';
const pythonCode = 'by_contract = churn_data.groupby("Contract", as_index=False)["churn"].mean()\nprint(by_contract)\n';
const secretUrl = 'postgres://analyst:s3cret-pw@db.example.com:5432/sales';

function iquery(args: readonly string[]): Run {
  return runIquery(home, args, { environment: { IQUERY_ASK_SERVICE: '0' } });
}

let report: Report;
let reportFolder = '';

before(async () => {
  const source = await openSource(csv, { home });
  try {
    const drafts: Omit<ReportStep, 'result'>[] = [
      { index: 1, tool: 'load_data', language: 'sql', code: 'SELECT * FROM customers ORDER BY id', frame: 'churn_data', stage: 'exploration', status: 'ok', summary: 'DataFrame churn_data: 7 rows × 4 columns', figures: [] },
      { index: 2, tool: 'run_python', language: 'python', code: pythonCode, stage: 'analysis', status: 'ok', summary: 'ok', figures: [] },
      { index: 3, tool: 'run_sql', language: 'sql', code: rateSql, stage: 'analysis', status: 'ok', summary: '3 rows', figures: [] },
      { index: 4, tool: 'run_sql', language: 'sql', code: 'SELECT missing_column FROM customers', stage: 'exploration', status: 'error', summary: 'Binder Error', figures: [] },
      { index: 5, tool: 'run_sql', language: 'sql', code: revenueSql, stage: 'analysis', status: 'ok', summary: '3 rows', figures: [] },
    ];
    const steps: ReportStep[] = [];
    for (const draft of drafts) steps.push(draft.language === 'sql' && draft.status === 'ok' ? { ...draft, result: await hashQuery(source, draft.code) } : draft);
    report = {
      version: 1,
      title: 'Churn by contract',
      language: 'en',
      question: 'What is the churn rate by contract type?',
      createdAt: new Date().toISOString(),
      analyst: 'agent',
      data: { source: source.label, spec: csv, dialect: source.dialect, inputs: [{ table: 'customers', ...(await hashTable(source, 'customers')) }], filters: [], metrics: [], dictionaryVersion: 'draft' },
      plan: [],
      steps,
      findings: [{ text: 'Month-to-month customers churn most: 66.7%.', step: 3 }],
      answer: 'Month-to-month churns at 66.7%, one year at 50%, two year at 0%.',
      methodNotes: [],
      limitations: [],
      nextSteps: [],
      numbers: { checked: 3, unsupported: [] },
    };
  } finally {
    await source.close();
  }
  reportFolder = join(folder, 'report');
  mkdirSync(reportFolder, { recursive: true });
  writeFileSync(join(reportFolder, 'report.json'), JSON.stringify(report, null, 1));
});

/** The structure nbformat 4.5 requires of a notebook and its cells. */
function assertNotebook(notebook: Notebook): void {
  assert.equal(notebook.nbformat, 4);
  assert.ok(notebook.nbformat_minor >= 4);
  assert.equal(notebook.metadata.kernelspec.name, 'python3');
  assert.equal(notebook.metadata.kernelspec.language, 'python');
  assert.equal(notebook.metadata.language_info.name, 'python');
  const ids = new Set<string>();
  for (const cell of notebook.cells) {
    assert.match(cell.id, /^[a-zA-Z0-9_-]{1,64}$/);
    assert.ok(!ids.has(cell.id), `duplicate cell id ${cell.id}`);
    ids.add(cell.id);
    assert.ok(['markdown', 'code'].includes(cell.cell_type));
    assert.ok(Array.isArray(cell.source) && cell.source.every((line) => typeof line === 'string'));
    assert.equal(typeof cell.metadata, 'object');
    if (cell.cell_type === 'code') {
      assert.deepEqual(cell.outputs, []);
      assert.equal(cell.execution_count, null);
    } else {
      assert.ok(!('outputs' in cell) && !('execution_count' in cell), 'markdown cells have no outputs');
    }
  }
}

function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, 'utf8')) as Notebook;
}

interface Frame {
  columns: string[];
  rows: SqlValue[][];
}

/**
 * Runs the notebook's code cells, in order, as one script with /usr/bin/python3, then prints the
 * named DataFrames as JSON. No iquery is on the PATH: the notebook finds the iquery that wrote it.
 */
function execute(notebook: Notebook, frames: readonly string[], environment: Record<string, string> = {}): Record<string, Frame> {
  const cells = notebook.cells.filter((cell) => cell.cell_type === 'code').map((cell) => cell.source.join(''));
  const dump = [
    'import json as _json',
    'def _frame(frame):',
    '    return {"columns": [str(column) for column in frame.columns], "rows": frame.astype(object).where(frame.notna(), None).values.tolist()}',
    `print(_json.dumps({${frames.map((name) => `${JSON.stringify(name)}: _frame(${name})`).join(', ')}}, default=lambda value: value.item()))`,
  ].join('\n');
  const script = join(folder, `notebook-${Date.now()}.py`);
  writeFileSync(script, [...cells, dump].join('\n\n') + '\n');
  const run = spawnSync('/usr/bin/python3', [script], {
    encoding: 'utf8',
    cwd: folder,
    env: { ...process.env, IQUERY_HOME: home, IQUERY_ASK_SERVICE: '0', ...environment },
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, Frame>;
}

function assertSameRows(frame: Frame | undefined, expected: { columns: string[]; rows: SqlValue[][] }): void {
  assert.ok(frame !== undefined);
  assert.deepEqual(frame.columns, expected.columns);
  assert.deepEqual(frame.rows.map((row) => canonicalRow(row)), expected.rows.map((row) => canonicalRow(row)));
}

describe('pythonString', () => {
  test('is a valid Python literal of exactly the text, whatever it holds', () => {
    const texts = ['SELECT 1', 'SELECT *\nFROM t', 'ends with a quote"\nx"', 'has """ three quotes\nq', 'back\\slash\nx', 'tab\there\nq', 'crlf\r\nline', 'separator\u2028x\ny', 'emoji 😀\nq', 'nul\u0000\nq', 'lone \uD800 surrogate\nq', "single ' quote\n"];
    const literals = texts.map(pythonString);
    assert.ok(literals[1]?.startsWith('"""'), 'plain multi-line SQL reads as written');
    const check = spawnSync('/usr/bin/python3', ['-c', 'import ast, json, sys\npairs = json.load(sys.stdin)\nprint(json.dumps([ast.literal_eval(literal) == text for literal, text in pairs]))'], {
      input: JSON.stringify(literals.map((literal, index) => [literal, texts[index]])),
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout), texts.map(() => true));
  });
});

describe('iquery export --notebook --report', () => {
  test('writes DIR/analysis.ipynb, a valid notebook whose code reproduces the recorded results', () => {
    const run = iquery(['export', '--notebook', '--report', reportFolder]);
    assert.equal(run.status, 0, run.stderr);
    const path = join(reportFolder, 'analysis.ipynb');
    assert.equal(run.stdout.trim(), path);
    const notebook = readNotebook(path);
    assertNotebook(notebook);
    const code = notebook.cells.filter((cell) => cell.cell_type === 'code').map((cell) => cell.source.join(''));
    // The helper, then the steps that completed, in order; the failed step is a note, not code.
    assert.equal(code.length, 5);
    assert.match(code[0] ?? '', /def run_sql\(sql\):/);
    assert.match(code[1] ?? '', /^churn_data = run_sql\("SELECT \* FROM customers ORDER BY id"\)/);
    assert.equal(code[2], pythonCode);
    assert.match(code[3] ?? '', /^result_3 = run_sql\(/);
    assert.match(code[4] ?? '', /^result_5 = run_sql\("""SELECT Contract, SUM/);
    const markdown = notebook.cells.filter((cell) => cell.cell_type === 'markdown').map((cell) => cell.source.join(''));
    assert.match(markdown[0] ?? '', /^# Churn by contract/);
    assert.ok(markdown.some((text) => text.includes('Step 4') && text.includes('left out')));
    assert.match(markdown.at(-2) ?? '', /Month-to-month customers churn most/);
    assert.match(markdown.at(-1) ?? '', /^## Answer\n\nMonth-to-month churns at 66\.7%/);

    const frames = execute(notebook, ['result_3', 'result_5', 'by_contract']);
    const rates = report.steps[2]?.result;
    const revenue = report.steps[4]?.result;
    assert.ok(rates !== undefined && revenue !== undefined);
    assertSameRows(frames['result_3'], rates);
    assertSameRows(frames['result_5'], revenue);
    // The Python step ran on the DataFrame the load_data step made.
    assert.deepEqual(frames['by_contract']?.rows.map((row) => canonicalRow(row)), rates.rows.map((row) => canonicalRow(row.slice(0, 2))));
  });

  test('--json prints the path and the number of cells; --out chooses the file', () => {
    const out = join(folder, 'elsewhere', 'churn.ipynb');
    const run = iquery(['export', '--notebook', '--report', reportFolder, '--out', out, '--json']);
    assert.equal(run.status, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { path: string; cells: number; warnings: string[] };
    assert.equal(printed.path, out);
    assert.equal(printed.cells, readNotebook(out).cells.length);
    assert.deepEqual(printed.warnings, []);
  });

  test('a data URL with a password is never written: a placeholder, and the user is told', () => {
    const out = join(folder, 'secret.ipynb');
    const run = iquery(['export', '--notebook', '--report', reportFolder, '--data', secretUrl, '--out', out]);
    assert.equal(run.status, 0, run.stderr);
    const text = readFileSync(out, 'utf8');
    assert.ok(!text.includes('s3cret-pw'), 'the password is in the notebook');
    assert.ok(text.includes('postgres://analyst:PASSWORD@db.example.com:5432/sales'));
    assert.match(run.stderr, /holds a password/);
    assert.ok(!run.stderr.includes('s3cret-pw') && !run.stdout.includes('s3cret-pw'));
    assertNotebook(readNotebook(out));
    // The same in the library, and for secrets in query parameters.
    assert.ok(!JSON.stringify(reportToNotebook(report, { dataSpec: secretUrl })).includes('s3cret-pw'));
    assert.deepEqual(notebookData('mysql://reader@db/sales?ssl-password=hunter2'), { kind: 'placeholder', placeholder: 'mysql://reader@db/sales?ssl-password=SECRET', reason: 'credentials' });
    assert.deepEqual(notebookData('mysql://reader@db/sales'), { kind: 'spec', spec: 'mysql://reader@db/sales' });
  });

  test('the notebook runs on other data given in IQUERY_DATA', () => {
    const notebook = readNotebook(join(folder, 'secret.ipynb'));
    const frames = execute(notebook, ['result_5'], { IQUERY_DATA: csv });
    assertSameRows(frames['result_5'], report.steps[4]?.result ?? { columns: [], rows: [] });
  });
});

describe('iquery export --notebook --session', () => {
  const sessionName = 'churn-session';
  const turnSql = 'SELECT Contract, COUNT(*) AS customers\nFROM customers\nGROUP BY Contract\nORDER BY Contract';

  before(() => {
    const at = new Date().toISOString();
    const record: AgentSessionRecord = {
      name: sessionName,
      createdAt: at,
      updatedAt: at,
      data: csv,
      model: 'scripted',
      messages: [],
      turns: [
        {
          question: 'Load the customers and look at churn by contract',
          at,
          status: 'answered',
          answer: 'Month-to-month churns most.',
          plan: [],
          analyst: 'agent',
          steps: [
            { index: 1, tool: 'load_data', input: { sql: 'SELECT * FROM customers ORDER BY id', name: 'churn_data' }, status: 'ok', output: 'DataFrame churn_data: 7 rows × 4 columns', at },
            { index: 2, tool: 'run_python', input: { code: pythonCode }, status: 'ok', output: 'ok', at },
            { index: 3, tool: 'run_sql', input: { sql: 'SELECT nope FROM customers' }, status: 'error', output: 'Binder Error', at },
            { index: 4, tool: 'show_chart', input: { spec: { type: 'bar', title: 'churn' } }, status: 'ok', output: 'bar chart', at },
          ],
        },
        {
          question: 'How many customers per contract?',
          at,
          status: 'answered',
          answer: 'Three month-to-month, two one-year, two two-year.',
          plan: [],
          analyst: 'agent',
          steps: [{ index: 1, tool: 'run_sql', input: { sql: turnSql }, status: 'ok', output: '3 rows', at }],
        },
      ],
      pending: [],
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      stepsTaken: 0,
    };
    const sessionFolder = join(home, 'agent', sessionName);
    mkdirSync(sessionFolder, { recursive: true });
    writeFileSync(join(sessionFolder, 'session.json'), JSON.stringify(record, null, 1));
  });

  test('exports the turns\' steps in order, and the notebook runs', async () => {
    const out = join(folder, 'session.ipynb');
    const run = iquery(['export', '--notebook', '--session', sessionName, '--out', out]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), out);
    const notebook = readNotebook(out);
    assertNotebook(notebook);
    const code = notebook.cells.filter((cell) => cell.cell_type === 'code').map((cell) => cell.source.join(''));
    assert.equal(code.length, 4);
    assert.ok(code[0]?.includes(`DATA = os.environ.get("IQUERY_DATA") or ${JSON.stringify(csv)}`));
    assert.match(code[1] ?? '', /^churn_data = run_sql\(/);
    assert.equal(code[2], pythonCode);
    assert.match(code[3] ?? '', /^result_4 = run_sql\("""SELECT Contract, COUNT/);
    const markdown = notebook.cells.filter((cell) => cell.cell_type === 'markdown').map((cell) => cell.source.join(''));
    assert.ok(markdown.includes('## How many customers per contract?'));
    const frames = execute(notebook, ['result_4', 'by_contract']);
    const source = await openSource(csv, { home });
    try {
      assertSameRows(frames['result_4'], await hashQuery(source, turnSql));
    } finally {
      await source.close();
    }
    assert.equal(frames['by_contract']?.rows.length, 3);
  });

  test('a session on a server URL gets a placeholder, never the password', () => {
    const out = join(folder, 'session-secret.ipynb');
    const run = iquery(['export', '--notebook', '--session', sessionName, '--data', secretUrl, '--out', out, '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(!readFileSync(out, 'utf8').includes('s3cret-pw'));
    assert.match((JSON.parse(run.stdout) as { warnings: string[] }).warnings[0] ?? '', /placeholder/);
  });
});

describe('what iquery export refuses', () => {
  test('no format, both or neither source, an unknown session, a folder without a report: exit 1, no stack', () => {
    const cases: [string[], RegExp][] = [
      [['export', '--report', reportFolder], /--notebook is the only format/],
      [['export', '--notebook'], /exactly one of --report DIR or --session NAME/],
      [['export', '--notebook', '--report', reportFolder, '--session', 'x'], /exactly one of --report DIR or --session NAME/],
      [['export', '--notebook', '--session', 'no-such-session', '--out', join(folder, 'x.ipynb')], /No agent session "no-such-session"/],
      [['export', '--notebook', '--report', folder], /No report in/],
    ];
    for (const [args, message] of cases) {
      const run = iquery(args);
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, stackLine);
    }
  });
});
