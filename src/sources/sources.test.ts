import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSource } from './open-source.js';
import type { DataSource, SqlDialect } from './source.js';
import type { TestDatabase } from './testing/test-databases.js';
import { expectError, useTestSource } from './testing/test-source.js';
import { writeXlsx } from './testing/write-xlsx.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** Slow statements, one per engine, for timeout and cancellation checks. */
const slowQuery: Record<SqlDialect, string> = {
  duckdb: 'SELECT SUM(a.range * b.range) FROM range(1000000) a, range(1000000) b',
  mysql: 'SELECT SLEEP(20)',
  postgres: 'SELECT pg_sleep(20)',
};

const placeholder: Record<SqlDialect, string> = { duckdb: '?', mysql: '?', postgres: '$1' };


for (const dialect of ['duckdb', 'mysql', 'postgres'] as const) {
  describe(`${dialect} source`, () => {
    const current = useTestSource(dialect, home);
    let database: TestDatabase;
    let source: DataSource;
    before(() => ({ database, source } = current()));

    test('names its dialect and hides credentials in its label', () => {
      assert.equal(source.dialect, dialect);
      assert.ok(!source.label.includes(':@'), source.label);
    });

    test('lists tables with exact row counts, keys and columns', async () => {
      const tables = await source.listTables();
      const customers = tables.find((table) => table.name === 'guard_customers');
      const orders = tables.find((table) => table.name === 'guard_orders');
      assert.ok(customers && orders, `tables: ${tables.map((table) => table.name).join(', ')}`);
      assert.equal(customers.rowCount, 40);
      assert.equal(orders.rowCount, 400);
      assert.deepEqual(customers.primaryKey, ['id']);
      assert.deepEqual(
        customers.columns.map((column) => [column.name, column.family]),
        [['id', 'integer'], ['name', 'text'], ['region', 'text'], ['signup', 'date'], ['vip', 'boolean']],
      );
      assert.deepEqual(orders.columns.find((column) => column.name === 'amount')?.family, 'decimal');
      assert.deepEqual(orders.columns.find((column) => column.name === 'ordered_at')?.family, 'timestamp');
      assert.deepEqual(orders.foreignKeys, [{ columns: ['customer_id'], referencedTable: 'guard_customers', referencedColumns: ['id'] }]);
    });

    test('describing an unknown table names the known ones', async () => {
      const error = await expectError(source.describeTable('no_such_table'), 'not_found');
      assert.match(error.hint ?? '', /guard_customers/);
    });

    test('profiles categorical values and key candidates', async () => {
      const profile = await source.profileTable('guard_customers');
      const region = profile.columns.find((column) => column.name === 'region');
      const id = profile.columns.find((column) => column.name === 'id');
      assert.ok(region?.categorical);
      assert.deepEqual(region.values.map((entry) => entry.value).sort(), ['east', 'north', 'south', 'west']);
      assert.equal(region.values.reduce((sum, entry) => sum + entry.count, 0), 40);
      assert.equal(id?.unique, true);
      assert.equal(id?.categorical, false);
      assert.equal(id?.distinctCount, 40);
    });

    test('runs a parameterised query and returns JSON-safe values', async () => {
      const result = await source.query(
        `SELECT c.id, c.name, c.signup, o.amount FROM guard_customers c JOIN guard_orders o ON o.customer_id = c.id WHERE o.id = ${placeholder[dialect]}`,
        { params: [7] },
      );
      assert.deepEqual(result.columns.map((column) => column.name), ['id', 'name', 'signup', 'amount']);
      assert.deepEqual(result.rows, [[8, 'customer 8', '2024-09-09', 30.9]]);
      assert.equal(result.truncated, false);
      assert.equal(JSON.parse(JSON.stringify(result.rows))[0][3], 30.9);
    });

    test('caps rows and says the result was truncated', async () => {
      const capped = await source.query('SELECT id FROM guard_orders ORDER BY id', { maxRows: 25 });
      assert.equal(capped.rowCount, 25);
      assert.equal(capped.rows.length, 25);
      assert.equal(capped.truncated, true);
      assert.deepEqual(capped.rows.at(-1), [25]);
      const exact = await source.query('SELECT id FROM guard_orders ORDER BY id', { maxRows: 400 });
      assert.equal(exact.truncated, false);
      assert.equal(exact.rowCount, 400);
    });

    test('streams column-major batches', async () => {
      // 16,000 rows: more than one DuckDB chunk (2,048 rows), which is DuckDB's own batch size.
      const stream = source.stream('SELECT o.id, c.name FROM guard_orders o CROSS JOIN guard_customers c ORDER BY o.id, c.id', { batchRows: 1000, maxRows: 10_000 });
      let rows = 0;
      let batches = 0;
      for await (const batch of stream) {
        batches++;
        assert.equal(batch.values.length, 2);
        assert.equal(batch.values[0]?.length, batch.rowCount);
        if (rows === 0) assert.equal(batch.values[0]?.[0], 1);
        rows += batch.rowCount;
      }
      assert.equal(rows, 10_000);
      assert.ok(batches >= 2, `expected several batches, got ${batches}`);
      assert.equal(stream.truncated, true);
    });

    test('an empty result still has its columns', async () => {
      const result = await source.query("SELECT id, name FROM guard_customers WHERE name = 'nobody'");
      assert.deepEqual(result.columns.map((column) => column.name), ['id', 'name']);
      assert.equal(result.rowCount, 0);
    });

    test('stops a query that passes its time limit, and keeps working', async () => {
      await expectError(source.query(slowQuery[dialect], { timeoutMs: 400 }), 'query_timeout');
      const after = await source.query('SELECT COUNT(*) AS n FROM guard_orders');
      assert.deepEqual(after.rows, [[400]]);
    });

    test('cancels a query through an AbortSignal', async () => {
      const controller = new AbortController();
      const running = source.query(slowQuery[dialect], { signal: controller.signal, timeoutMs: 20_000 });
      setTimeout(() => controller.abort(), 200);
      await expectError(running, 'query_cancelled');
      assert.deepEqual((await source.query('SELECT COUNT(*) AS n FROM guard_customers')).rows, [[40]]);
    });

    test('a streamed result stopped midway raises instead of ending as if complete', async () => {
      const controller = new AbortController();
      const rows = dialect === 'mysql'
        ? 'SELECT a.id FROM guard_orders a, guard_orders b, guard_orders c'
        : 'SELECT a.id FROM guard_orders a CROSS JOIN guard_orders b CROSS JOIN guard_orders c';
      let seen = 0;
      const reading = (async () => {
        for await (const batch of source.stream(rows, { maxRows: 50_000_000, timeoutMs: 60_000, signal: controller.signal })) {
          seen += batch.rowCount;
          if (seen > 0) controller.abort();
        }
      })();
      await expectError(reading, 'query_cancelled');
      assert.ok(seen < 64_000_000);
    });

    test('refuses writes before they reach the database, and the data stays the same', async () => {
      const before = await database.fingerprint();
      const error = await expectError(source.query('DELETE FROM guard_orders'), 'sql_refused');
      assert.match(error.message, /DELETE/);
      await expectError(source.query('SELECT 1; DROP TABLE guard_orders'), 'sql_refused');
      assert.equal(await database.fingerprint(), before);
    });

    test('reports a query error with the database message', async () => {
      const error = await expectError(source.query('SELECT no_such_column FROM guard_orders'), 'query_failed');
      assert.match(error.message, /no_such_column/);
    });
  });
}

describe('file sources', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'iquery-files-'));
    writeFileSync(join(folder, 'sales.csv'), 'region,amount,day\nnorth,10.5,2024-01-01\nsouth,20,2024-01-02\n北方,7,2024-01-03\n');
    writeFileSync(join(folder, 'people.tsv'), 'id\tname\n1\tAda\n2\t李雷\n');
    writeFileSync(join(folder, 'events.json'), '[{"id": 1, "kind": "click"}, {"id": 2, "kind": "view"}]');
    writeFileSync(join(folder, 'notes.txt'), 'not data');
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('a folder becomes one table per file, named after the stem', async () => {
    const source = await openSource(folder, { home });
    try {
      const tables = await source.listTables();
      assert.deepEqual(tables.map((table) => table.name).sort(), ['events', 'people', 'sales']);
      const sales = await source.query('SELECT region, amount, day FROM sales ORDER BY amount');
      assert.deepEqual(sales.rows, [['北方', 7, '2024-01-03'], ['north', 10.5, '2024-01-01'], ['south', 20, '2024-01-02']]);
      assert.deepEqual(sales.columns.map((column) => column.family), ['text', 'float', 'date']);
      assert.deepEqual((await source.query('SELECT name FROM people ORDER BY id')).rows, [['Ada'], ['李雷']]);
      assert.deepEqual((await source.query('SELECT kind FROM events ORDER BY id')).rows, [['click'], ['view']]);
    } finally {
      await source.close();
    }
  });

  test('text stays as written: Yes/No stay text, blank numbers are NULL, true/false are booleans', async () => {
    const file = join(folder, 'flags', 'customers.csv');
    mkdirSync(join(folder, 'flags'));
    writeFileSync(file, 'id,Partner,paid,total\n1,Yes,true,10.5\n2,No,false, \n3,Yes,true,7\n');
    const source = await openSource(file, { home });
    try {
      const result = await source.query('SELECT Partner, paid, total FROM customers ORDER BY id');
      assert.deepEqual(result.columns.map((column) => column.family), ['text', 'boolean', 'float']);
      assert.deepEqual(result.rows, [['Yes', true, 10.5], ['No', false, null], ['Yes', true, 7]]);
      assert.deepEqual((await source.query("SELECT COUNT(*) FROM customers WHERE Partner = 'Yes'")).rows, [[2]]);
    } finally {
      await source.close();
    }
  });

  test('an Excel workbook becomes one table per sheet', async () => {
    const file = join(folder, 'budget.xlsx');
    writeXlsx(file, {
      plan: [['region', 'amount', 'approved'], ['north', 120.5, true], ['华东', 80, false]],
      notes: [['id', 'note'], [1, 'first'], [2, 'second']],
    });
    const source = await openSource(file, { home });
    try {
      assert.deepEqual((await source.listTables()).map((table) => table.name).sort(), ['budget', 'budget_notes']);
      const plan = await source.query('SELECT region, amount, approved FROM budget ORDER BY amount');
      assert.deepEqual(plan.rows, [['华东', 80, false], ['north', 120.5, true]]);
      assert.deepEqual((await source.query('SELECT note FROM budget_notes ORDER BY id')).rows, [['first'], ['second']]);
    } finally {
      await source.close();
      rmSync(file);
    }
  });

  test('user SQL cannot read files, even ones next to the data', async () => {
    const source = await openSource(join(folder, 'sales.csv'), { home });
    try {
      await expectError(source.query(`SELECT * FROM read_csv('${join(folder, 'people.tsv')}')`), 'sql_refused');
      await expectError(source.query(`SELECT * FROM '${join(folder, 'people.tsv')}'`), 'sql_refused');
      assert.deepEqual((await source.query('SELECT COUNT(*) FROM sales')).rows, [[3]]);
    } finally {
      await source.close();
    }
  });

  test('a changed file is loaded again', async () => {
    const file = join(folder, 'sales.csv');
    const first = await openSource(file, { home });
    assert.deepEqual((await first.query('SELECT COUNT(*) FROM sales')).rows, [[3]]);
    await first.close();
    writeFileSync(file, 'region,amount,day\nnorth,10.5,2024-01-01\n');
    const second = await openSource(file, { home });
    assert.deepEqual((await second.query('SELECT COUNT(*) FROM sales')).rows, [[1]]);
    await second.close();
  });

  test('bad --data values get clear errors', async () => {
    await expectError(openSource(join(folder, 'missing.csv'), { home }), 'not_found');
    await expectError(openSource(join(folder, 'notes.txt'), { home }), 'bad_input');
    const broken = join(folder, 'broken.parquet');
    writeFileSync(broken, 'this is not parquet');
    const error = await expectError(openSource(broken, { home }), 'bad_input');
    assert.match(error.message, /broken\.parquet/);
    rmSync(broken);
    await expectError(openSource('mysql://root@127.0.0.1:3306', { home }), 'bad_input');
    const refused = await expectError(openSource('postgres://nobody:s3cret-pw@127.0.0.1:1/none', { home }), 'connection_failed');
    assert.ok(!refused.message.includes('s3cret-pw'), refused.message);
  });
});
