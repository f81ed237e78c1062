/**
 * MySQL and PostgreSQL → frame → pandas: the generic path (driver values converted batch by batch),
 * against real databases, compared with what `source.query` returns for the same SQL.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IqueryError } from '../../errors.js';
import type { DataSource, SqlValue } from '../../sources/source.js';
import type { TestDatabase } from '../../sources/testing/test-databases.js';
import { loadFrameInPython, type PythonColumn } from './testing/python-frames.js';
import { useTestSource } from '../../sources/testing/test-source.js';
import { writeQueryFrame } from './write-frame.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-home-'));
const folder = mkdtempSync(join(tmpdir(), 'iquery-frames-'));
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});
let frameCount = 0;
const newFrameFolder = (): string => join(folder, `frame-${++frameCount}`);

function columnNamed(columns: readonly PythonColumn[], name: string): PythonColumn {
  const column = columns.find((candidate) => candidate.name === name);
  assert.ok(column !== undefined, `no column ${name}`);
  return column;
}

/** pandas prints timestamps as ISO (`T`, no zone); the drivers give `YYYY-MM-DD HH:MM:SS` text. */
function asPandasTimestamp(value: SqlValue): SqlValue {
  if (typeof value !== 'string') return value;
  return value.length === 10 ? `${value}T00:00:00` : value.replace(' ', 'T');
}

const joined = `SELECT o.id, o.customer_id, o.amount, o.ordered_at, o.status, c.name, c.signup, c.vip
  FROM guard_orders o JOIN guard_customers c ON c.id = o.customer_id ORDER BY o.id`;

const withNulls = `SELECT id,
    CASE WHEN id % 3 = 0 THEN NULL ELSE amount END AS maybe_amount,
    CASE WHEN id % 4 = 0 THEN NULL ELSE status END AS maybe_status,
    CASE WHEN id % 5 = 0 THEN NULL ELSE ordered_at END AS maybe_time,
    CASE WHEN id % 6 = 0 THEN NULL ELSE customer_id END AS maybe_customer
  FROM guard_orders ORDER BY id`;

for (const dialect of ['mysql', 'postgres'] as const) {
  describe(`writeQueryFrame from ${dialect} (driver values)`, () => {
    const current = useTestSource(dialect, home);
    let database: TestDatabase;
    let source: DataSource;
    before(() => ({ database, source } = current()));

    test('has no columnar fast path', () => {
      assert.equal(source.streamColumnar, undefined);
    });

    test('a join of the fixture tables arrives in pandas with the values the source gives', async () => {
      const summary = await writeQueryFrame(source, joined, newFrameFolder());
      assert.equal(summary.rows, 400);
      assert.equal(summary.truncated, false);
      const kinds = Object.fromEntries(summary.columns.map((column) => [column.name, column.kind]));
      assert.deepEqual(kinds, {
        id: 'int64',
        customer_id: 'int64',
        amount: 'decimal(float64)',
        ordered_at: 'timestamp[us]',
        status: 'category',
        name: 'category',
        signup: 'date32',
        // MySQL's BOOLEAN is tinyint(1), which its driver reports as an integer.
        vip: dialect === 'mysql' ? 'int64' : 'bool',
      });
      const expected = await source.query(joined, { maxRows: 1000 });
      const { rows, columns } = loadFrameInPython(summary.manifest);
      assert.equal(rows, 400);
      for (const [index, meta] of expected.columns.entries()) {
        const values = expected.rows.map((row) => row[index] ?? null);
        const wanted = meta.family === 'date' || meta.family === 'timestamp' ? values.map(asPandasTimestamp) : values;
        assert.deepEqual(columnNamed(columns, meta.name).values, wanted, `values of ${meta.name}`);
      }
      assert.equal(columnNamed(columns, 'signup').dtype, 'datetime64[ns]');
      assert.equal(columnNamed(columns, 'status').dtype, 'category');
    });

    test('NULLs arrive as pandas missing values in every type', async () => {
      const summary = await writeQueryFrame(source, withNulls, newFrameFolder());
      const expected = await source.query(withNulls, { maxRows: 1000 });
      const { columns } = loadFrameInPython(summary.manifest);
      for (const [index, meta] of expected.columns.entries()) {
        const values = expected.rows.map((row) => row[index] ?? null);
        const wanted = meta.family === 'timestamp' ? values.map(asPandasTimestamp) : values;
        assert.deepEqual(columnNamed(columns, meta.name).values, wanted, `values of ${meta.name}`);
      }
      assert.deepEqual(
        columns.map((column) => column.dtype),
        ['int64', 'float64', 'category', 'datetime64[ns]', 'Int64'],
      );
    });

    test('maxRows truncates', async () => {
      const summary = await writeQueryFrame(source, joined, newFrameFolder(), { maxRows: 150 });
      assert.equal(summary.rows, 150);
      assert.equal(summary.truncated, true);
      assert.equal(loadFrameInPython(summary.manifest).rows, 150);
    });

    test('the guard refuses writes and the database is unchanged', async () => {
      const before = await database.fingerprint();
      for (const sql of ['DELETE FROM guard_orders', 'UPDATE guard_customers SET vip = true', 'SELECT 1; DROP TABLE guard_orders']) {
        const target = newFrameFolder();
        await assert.rejects(writeQueryFrame(source, sql, target), (error: unknown) => error instanceof IqueryError && error.code === 'sql_refused');
        assert.deepEqual(existsSync(target) ? readdirSync(target) : [], [], sql);
      }
      assert.equal(await database.fingerprint(), before);
    });
  });
}
