/** The command line as a person or a script meets it: the real `bin/iquery` in a child process. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../package-root.js';
import { runIquery, stackLine, type Run } from './testing/run-iquery.js';
import { createPostgresTestDatabase, type TestDatabase } from '../sources/testing/test-databases.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-cli-home-'));
const folder = mkdtempSync(join(tmpdir(), 'iquery-cli-data-'));
const csv = join(folder, 'orders.csv');
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

function iquery(args: readonly string[], environment: Record<string, string> = {}): Run {
  return runIquery(home, args, { environment });
}

function json(run: Run): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}


before(() => {
  writeFileSync(csv, 'id,region,amount,Churn\n1,north,10.5,Yes\n2,south,20,No\n3,north,7.25,No\n4,east,3,Yes\n');
});

describe('iquery sql', () => {
  test('--json prints {columns, rows, row_count, truncated}', () => {
    const run = iquery(['sql', '--json', '--data', csv, 'SELECT region, SUM(amount) AS total FROM orders GROUP BY region ORDER BY region']);
    assert.equal(run.status, 0, run.stderr);
    const output = json(run);
    assert.deepEqual(output['columns'], ['region', 'total']);
    assert.deepEqual(output['rows'], [['east', 3], ['north', 17.75], ['south', 20]]);
    assert.equal(output['row_count'], 3);
    assert.equal(output['truncated'], false);
  });

  test('a result over --max-rows says it was truncated', () => {
    const run = iquery(['sql', '--json', '--max-rows', '2', '--data', csv, 'SELECT id FROM orders ORDER BY id']);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(json(run)['rows'], [[1], [2]]);
    assert.equal(json(run)['truncated'], true);
    const text = iquery(['sql', '--max-rows', '2', '--data', csv, 'SELECT id FROM orders ORDER BY id']);
    assert.match(text.stdout, /first 2 rows shown/);
  });

  test('prints an aligned table for people', () => {
    const run = iquery(['sql', '--data', csv, "SELECT region, '华东地区' AS 名称 FROM orders WHERE id = 1"]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^region\s+名称$/);
    assert.match(lines[2] ?? '', /^north\s+华东地区$/);
    assert.equal(lines.at(-1), '(1 row)');
  });

  test('a refused statement exits 1 with the reason and no stack trace', () => {
    const run = iquery(['sql', '--data', csv, 'DELETE FROM orders']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^error: Refused DELETE statement/m);
    assert.match(run.stderr, /^hint: /m);
    assert.doesNotMatch(run.stderr, stackLine);
    const machine = iquery(['sql', '--json', '--data', csv, 'DROP TABLE orders']);
    assert.equal(machine.status, 1);
    assert.deepEqual((json(machine)['error'] as Record<string, unknown>)['code'], 'sql_refused');
  });

  test('a query error exits 1 and --debug adds the stack trace', () => {
    const plain = iquery(['sql', '--data', csv, 'SELECT nope FROM orders']);
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /nope/);
    assert.doesNotMatch(plain.stderr, stackLine);
    const debug = iquery(['sql', '--debug', '--data', csv, 'SELECT nope FROM orders']);
    assert.equal(debug.status, 1);
    assert.match(debug.stderr, stackLine);
  });

  test('bad input and bad flags exit 1 with a clear message', () => {
    const missing = iquery(['sql', '--data', join(folder, 'absent.csv'), 'SELECT 1']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /absent\.csv/);
    const flag = iquery(['sql', '--max-rows', 'lots', '--data', csv, 'SELECT 1']);
    assert.equal(flag.status, 1);
    assert.match(flag.stderr, /--max-rows/);
    assert.equal(iquery(['no-such-command']).status, 1);
    assert.equal(iquery(['--help']).status, 0);
  });
});

describe('iquery tables and describe', () => {
  test('tables lists the file as a table with its row count', () => {
    const run = iquery(['tables', '--json', '--data', csv]);
    assert.equal(run.status, 0, run.stderr);
    const tables = json(run)['tables'] as Record<string, unknown>[];
    assert.deepEqual(tables.map((table) => [table['name'], table['row_count']]), [['orders', 4]]);
  });

  test('describe shows categorical values', () => {
    const run = iquery(['describe', '--json', '--data', csv, 'orders']);
    assert.equal(run.status, 0, run.stderr);
    const columns = json(run)['columns'] as { name: string; values: { value: unknown }[]; categorical: boolean }[];
    const churn = columns.find((column) => column.name === 'Churn');
    assert.equal(churn?.categorical, true);
    assert.deepEqual(churn.values.map((entry) => entry.value).sort(), ['No', 'Yes']);
    const unknown = iquery(['describe', '--data', csv, 'nope']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /orders/);
  });
});

describe('secrets', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createPostgresTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  test('a password in a URL is never printed', () => {
    // The local server trusts loopback logins, so any password connects; it must never be echoed.
    const url = new URL(database.spec);
    url.password = 'Sup3r-Secret';
    const run = iquery(['tables', '--data', url.toString()]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(!run.stdout.includes('Sup3r-Secret') && !run.stderr.includes('Sup3r-Secret'), run.stdout);
    assert.match(run.stdout, /\*\*\*/);
    const refused = iquery(['tables', '--data', 'postgres://someone:Sup3r-Secret@127.0.0.1:1/db']);
    assert.equal(refused.status, 1);
    assert.ok(!refused.stderr.includes('Sup3r-Secret'), refused.stderr);
  });

  test('named connections keep the password out of listings and off other readers', () => {
    const url = new URL(database.spec);
    url.password = 'Sup3r-Secret';
    assert.equal(iquery(['connections', 'add', 'warehouse', url.toString()]).status, 0);
    const listed = iquery(['connections', 'list']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /warehouse/);
    assert.ok(!listed.stdout.includes('Sup3r-Secret'));
    assert.equal(statSync(join(home, 'config.yaml')).mode & 0o777, 0o600);
    const tables = iquery(['tables', '--json', '--data', 'warehouse']);
    assert.equal(tables.status, 0, tables.stderr);
    assert.ok((json(tables)['tables'] as unknown[]).length >= 2);
    assert.equal(iquery(['connections', 'add', 'from-env', url.toString(), '--password-env', 'WAREHOUSE_PW']).status, 0);
    const unset = iquery(['tables', '--data', 'from-env']);
    assert.equal(unset.status, 1);
    assert.match(unset.stderr, /WAREHOUSE_PW/);
    assert.equal(iquery(['connections', 'remove', 'warehouse']).status, 0);
    assert.equal(iquery(['connections', 'remove', 'warehouse']).status, 1);
  });
});

describe('iquery dict', () => {
  test('init drafts a dictionary that check accepts against the same data', () => {
    const out = join(folder, 'orders.dictionary.yaml');
    const drafted = iquery(['dict', 'init', '--data', csv, '--out', out]);
    assert.equal(drafted.status, 0, drafted.stderr);
    assert.match(readFileSync(out, 'utf8'), /orders:/);
    const again = iquery(['dict', 'init', '--data', csv, '--out', out]);
    assert.equal(again.status, 1, 'must not overwrite without --force');
    const checked = iquery(['dict', 'check', out, '--data', csv, '--json']);
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.equal(json(checked)['status'], 'ok');
  });

  test('check names the file and line of a problem and exits 1', () => {
    const broken = join(folder, 'broken.yaml');
    writeFileSync(broken, 'name: broken\ntables:\n  orders:\n    colums:\n      id: {}\n');
    const run = iquery(['dict', 'check', broken]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /broken\.yaml:4:\d+: error: .*colums/);
  });

  test('check against data reports a column the data lacks', () => {
    const wrong = join(folder, 'wrong.yaml');
    writeFileSync(wrong, 'name: wrong\ntables:\n  orders:\n    columns:\n      regoin: {description: region}\n');
    const run = iquery(['dict', 'check', wrong, '--data', csv]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /regoin/);
    assert.match(run.stdout, /region/);
  });

  test('the example dictionary of the issue loads', () => {
    const run = iquery(['dict', 'check', join(packageRoot(), 'src', 'dictionary', 'fixtures', 'issue-example.yaml'), '--json']);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(json(run)['status'], 'ok');
  });
});

describe('iquery demo', () => {
  test('builds the demo database, checks its dictionary and runs the analyses through the guard', () => {
    const run = iquery(['demo', '--json', '--scale', '0.1']);
    assert.equal(run.status, 0, run.stderr);
    const output = json(run);
    assert.deepEqual(output['dictionary_problems'], []);
    const analyses = output['analyses'] as { id: string; rows: unknown[][]; truncated: boolean }[];
    assert.ok(analyses.length >= 6);
    for (const analysis of analyses) assert.ok(analysis.rows.length > 0, `${analysis.id} returned no rows`);
    // The demo writes the report of its first answer, and it reruns unchanged.
    const report = output['report'] as { folder: string; files: string[] };
    assert.ok(['report.json', 'report.md', 'report.html'].every((name) => report.files.some((file) => file.endsWith(`/${name}`))), report.files.join(', '));
    const rerun = iquery(['rerun', '--json', report.folder]);
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.equal(json(rerun)['changedNumbers'], 0);
    // Without --data, commands use the demo database.
    const tables = iquery(['tables', '--json']);
    assert.equal(tables.status, 0, tables.stderr);
    const names = (json(tables)['tables'] as { name: string }[]).map((table) => table.name).sort();
    assert.deepEqual(names, ['user_bills', 'user_churn', 'user_demographics', 'user_payments', 'user_services']);
    const customers = iquery(['sql', '--json', 'SELECT COUNT(*) FROM user_demographics']);
    assert.deepEqual(json(customers)['rows'], [[704]]);
  });

  test('without --data and without a demo database, commands say what to do', () => {
    const empty = mkdtempSync(join(tmpdir(), 'iquery-empty-home-'));
    try {
      const run = iquery(['tables'], { IQUERY_HOME: empty });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /--data/);
      assert.match(run.stderr, /iquery demo/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
