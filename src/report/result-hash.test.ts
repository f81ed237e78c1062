/** Content hashes: the canonical form by itself, and over real DuckDB sources loaded from CSV files. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { canonicalNumber, hashQuery, hashResult, hashTable } from './result-hash.js';

describe('hashResult', () => {
  test('is sha256 hex', () => {
    assert.match(hashResult(['a'], [[1]]), /^[0-9a-f]{64}$/);
  });

  test('treats numbers by value, not by how the engine computed them', () => {
    assert.equal(hashResult(['x'], [[1]]), hashResult(['x'], [[1.0]]));
    assert.equal(hashResult(['x'], [[0.1 + 0.2]]), hashResult(['x'], [[0.3]]));
    assert.equal(hashResult(['x'], [[2.9999999999999996]]), hashResult(['x'], [[3]]));
    assert.equal(hashResult(['x'], [[-0]]), hashResult(['x'], [[0]]));
    assert.equal(hashResult(['x'], [[0.42710000000000004]]), hashResult(['x'], [[0.4271]]));
  });

  test('still tells different numbers apart', () => {
    assert.notEqual(hashResult(['x'], [[0.4271]]), hashResult(['x'], [[0.4272]]));
    assert.notEqual(hashResult(['x'], [[1234567.89012]]), hashResult(['x'], [[1234567.89013]]));
    // Large integers are kept exactly, not rounded to 12 digits.
    assert.notEqual(hashResult(['x'], [[9007199254740991]]), hashResult(['x'], [[9007199254740990]]));
  });

  test('keeps types, column names and order apart', () => {
    assert.notEqual(hashResult(['x'], [[null]]), hashResult(['x'], [['null']]));
    assert.notEqual(hashResult(['x'], [[1]]), hashResult(['x'], [['1']]));
    assert.notEqual(hashResult(['x'], [[true]]), hashResult(['x'], [['true']]));
    assert.notEqual(hashResult(['x'], [[1]]), hashResult(['y'], [[1]]));
    assert.notEqual(hashResult(['x'], [[1], [2]]), hashResult(['x'], [[2], [1]]));
    assert.notEqual(hashResult(['x'], []), hashResult(['x'], [[null]]));
    assert.notEqual(hashResult(['a', 'b'], [['x,y']]), hashResult(['a', 'b'], [['x', 'y']]));
  });

  test('accepts any iterable of rows', () => {
    function* rows() {
      yield [1, 'a'];
      yield [2, 'b'];
    }
    assert.equal(hashResult(['n', 's'], rows()), hashResult(['n', 's'], [[1, 'a'], [2, 'b']]));
  });

  test('canonical numbers', () => {
    assert.equal(canonicalNumber(1), '1');
    assert.equal(canonicalNumber(1.5), '1.5');
    assert.equal(canonicalNumber(1 / 3), '0.333333333333');
    assert.equal(canonicalNumber(1e-20), '1e-20');
    assert.equal(canonicalNumber(Number.NaN), 'NaN');
    assert.equal(canonicalNumber(-Infinity), '-Infinity');
  });
});

describe('hashQuery and hashTable on a real source', () => {
  const folder = mkdtempSync(join(tmpdir(), 'iquery-hash-'));
  const home = join(folder, 'home');
  let source: DataSource;
  let shuffled: DataSource;

  before(async () => {
    mkdirSync(home);
    const lines = ['id,region,amount'];
    for (let id = 1; id <= 5000; id++) lines.push(`${id},${['north', 'south', 'east'][id % 3]},${(id * 1.25).toFixed(2)}`);
    mkdirSync(join(folder, 'a'));
    writeFileSync(join(folder, 'a', 'sales.csv'), lines.join('\n') + '\n');
    // The same rows in another order, in another file.
    mkdirSync(join(folder, 'b'));
    writeFileSync(join(folder, 'b', 'sales.csv'), [lines[0], ...lines.slice(1).reverse()].join('\n') + '\n');
    source = await openSource(join(folder, 'a', 'sales.csv'), { home });
    shuffled = await openSource(join(folder, 'b', 'sales.csv'), { home });
  });
  after(async () => {
    await source?.close();
    await shuffled?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('fingerprints every row across batches and keeps the first 50', async () => {
    const sql = 'SELECT id, region, amount FROM sales ORDER BY id';
    const fingerprint = await hashQuery(source, sql);
    const whole = await source.query(sql, { maxRows: 10_000 });
    assert.deepEqual(fingerprint.columns, ['id', 'region', 'amount']);
    assert.equal(fingerprint.rowCount, 5000);
    assert.equal(fingerprint.truncated, false);
    assert.equal(fingerprint.rows.length, 50);
    assert.deepEqual(fingerprint.rows, whole.rows.slice(0, 50));
    assert.equal(fingerprint.hash, hashResult(['id', 'region', 'amount'], whole.rows));
  });

  test('marks a result cut at its row cap', async () => {
    const fingerprint = await hashQuery(source, 'SELECT id FROM sales ORDER BY id', { maxRows: 100, keepRows: 3 });
    assert.equal(fingerprint.rowCount, 100);
    assert.equal(fingerprint.truncated, true);
    assert.deepEqual(fingerprint.rows, [[1], [2], [3]]);
  });

  test('hashes an empty result by its columns', async () => {
    const fingerprint = await hashQuery(source, 'SELECT id, region FROM sales WHERE id < 0');
    assert.equal(fingerprint.rowCount, 0);
    assert.deepEqual(fingerprint.columns, ['id', 'region']);
    assert.equal(fingerprint.hash, hashResult(['id', 'region'], []));
  });

  test('the same aggregate hashes alike on two loads of the data', async () => {
    const sql = 'SELECT region, AVG(amount) AS mean FROM sales GROUP BY region ORDER BY region';
    assert.equal((await hashQuery(source, sql)).hash, (await hashQuery(shuffled, sql)).hash);
  });

  test('goes through the guard', async () => {
    await assert.rejects(hashQuery(source, 'DELETE FROM sales'), (error: Error & { code?: string }) => error.code === 'sql_refused');
  });

  test('a table hashes by content, not by the order rows are stored in', async () => {
    const first = await hashTable(source, 'sales');
    const second = await hashTable(shuffled, 'sales');
    assert.equal(first.rows, 5000);
    assert.equal(first.exact, true);
    assert.match(first.hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(first.hash, second.hash);
  });

  test('a table larger than maxRows is counted, not hashed', async () => {
    const counted = await hashTable(source, 'sales', { maxRows: 10 });
    assert.equal(counted.rows, 5000);
    assert.equal(counted.exact, true);
    assert.equal('hash' in counted, false);
  });
});
