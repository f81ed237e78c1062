/**
 * Frames back to the host: pandas → `frames.write_frame` → `readFrame`, and DuckDB → frame → `readFrame`,
 * plus frames that try to read outside their folder or claim more than they hold.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { expectError } from '../../sources/testing/test-source.js';
import { openSource } from '../../sources/open-source.js';
import type { DataSource } from '../../sources/source.js';
import { readFrame } from './read-frame.js';
import { runPython } from './testing/python-frames.js';
import { writeQueryFrame } from './write-frame.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-frames-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let frameCount = 0;
const newFrameFolder = (): string => join(folder, `frame-${++frameCount}`);


describe('readFrame of a DataFrame the kernel wrote', () => {
  let manifest: string;
  before(() => {
    manifest = runPython(
      String.raw`
import datetime, decimal
frame = pandas.DataFrame({
    'id': numpy.array([1, 2, 3, 4], dtype=numpy.int64),
    'big': numpy.array([2**62, -1, 0, 7], dtype=numpy.int64),
    'maybe': pandas.array([1, None, 3, None], dtype='Int32'),
    'unsigned': numpy.array([0, 1, 2**64 - 1, 5], dtype=numpy.uint64),
    'ratio': [0.5, numpy.nan, float('inf'), -2.0],
    'flag': pandas.array([True, None, False, True], dtype='boolean'),
    'when': pandas.to_datetime(['2024-02-29 12:34:56.5', None, '1970-01-01', '1969-12-31 23:59:59']),
    'zoned': pandas.to_datetime(['2024-01-01 08:00', None, None, None]).tz_localize('Asia/Shanghai'),
    'span': pandas.to_timedelta(['1 days 02:00:00', None, '-3 s', '0 s']),
    'day': [datetime.date(2024, 1, 31), None, datetime.date(1900, 1, 1), datetime.date(2000, 2, 29)],
    'price': [decimal.Decimal('12.34'), None, decimal.Decimal('-0.5'), decimal.Decimal('0')],
    'city': ['北京', None, '😀', ''],
    'city_category': pandas.Categorical(['east', None, 'west', 'east']),
}).set_index('id')
print(json.dumps(frames.write_frame(frame, sys.argv[1])))
`,
      [newFrameFolder()],
    ) as string;
  });

  test('reads every column with JSON-safe values', async () => {
    const frame = await readFrame(manifest);
    assert.equal(frame.rowCount, 4);
    assert.equal(frame.truncated, false);
    assert.deepEqual(
      frame.columns.map((column) => [column.name, column.family]),
      [
        ['id', 'integer'],
        ['big', 'integer'],
        ['maybe', 'integer'],
        ['unsigned', 'integer'],
        ['ratio', 'float'],
        ['flag', 'boolean'],
        ['when', 'timestamp'],
        ['zoned', 'timestamp'],
        ['span', 'other'],
        ['day', 'date'],
        ['price', 'decimal'],
        ['city', 'text'],
        ['city_category', 'text'],
      ],
    );
    assert.equal(frame.columns[2]?.nativeType, 'Int32');
    const byName = Object.fromEntries(frame.columns.map((column, index) => [column.name, frame.values[index]]));
    assert.deepEqual(byName, {
      id: [1, 2, 3, 4],
      big: [String(2n ** 62n), -1, 0, 7],
      maybe: [1, null, 3, null],
      unsigned: [0, 1, '18446744073709551615', 5],
      ratio: [0.5, null, null, -2],
      flag: [true, null, false, true],
      when: ['2024-02-29 12:34:56.5', null, '1970-01-01 00:00:00', '1969-12-31 23:59:59'],
      zoned: ['2024-01-01 00:00:00+00', null, null, null],
      span: ['1 days 02:00:00', null, '-00:00:03', '00:00:00'],
      day: ['2024-01-31', null, '1900-01-01', '2000-02-29'],
      price: [12.34, null, -0.5, 0],
      city: ['北京', null, '😀', ''],
      city_category: ['east', null, 'west', 'east'],
    });
  });

  test('maxRows caps the rows read', async () => {
    const frame = await readFrame(manifest, { maxRows: 2 });
    assert.equal(frame.rowCount, 2);
    assert.equal(frame.truncated, true);
    assert.ok(frame.values.every((column) => column.length === 2));
    const none = await readFrame(manifest, { maxRows: 0 });
    assert.equal(none.rowCount, 0);
    assert.equal(none.columns.length, 13);
  });

  test('plain (high-cardinality) strings and zero-column frames', async () => {
    const wide = runPython(
      String.raw`
frame = pandas.DataFrame({'key': ['k%d-北' % number if number % 10 else None for number in range(120000)]})
print(json.dumps([frames.write_frame(frame, sys.argv[1]), frames.write_frame(pandas.DataFrame(index=range(3)), sys.argv[2])]))
`,
      [newFrameFolder(), newFrameFolder()],
    ) as [string, string];
    const strings = await readFrame(wide[0], { maxRows: 12 });
    assert.deepEqual(strings.values[0], [null, 'k1-北', 'k2-北', 'k3-北', 'k4-北', 'k5-北', 'k6-北', 'k7-北', 'k8-北', 'k9-北', null, 'k11-北']);
    assert.equal(strings.truncated, true);
    const empty = await readFrame(wide[1]);
    assert.deepEqual(empty, { columns: [], values: [], rowCount: 3, truncated: false });
  });
});

describe('readFrame of a frame written from DuckDB', () => {
  let source: DataSource;
  before(async () => {
    const path = join(folder, 'read.duckdb');
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE t AS SELECT range AS id, range % 3 = 0 AS flag, DATE '2024-01-01' + CAST(range AS INTEGER) AS day,
      TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (range) SECOND AS at, CAST(range / 8 AS DECIMAL(10,3)) AS amount,
      CASE WHEN range % 4 = 0 THEN NULL ELSE 'w' || (range % 5) END AS word, CAST(range * 1000 AS HUGEINT) AS huge,
      TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (range) MINUTE AS zoned
      FROM range(3000)`);
    connection.closeSync();
    instance.closeSync();
    source = await openSource(path);
  });
  after(async () => {
    await source?.close();
  });

  test('gives the values source.query gives', async () => {
    const sql = 'SELECT * FROM t ORDER BY id';
    const summary = await writeQueryFrame(source, sql, newFrameFolder());
    const frame = await readFrame(summary.manifest, { maxRows: 2500 });
    const expected = await source.query(sql, { maxRows: 2500 });
    assert.equal(frame.rowCount, 2500);
    assert.equal(frame.truncated, true);
    assert.deepEqual(frame.columns.map((column) => column.name), expected.columns.map((column) => column.name));
    assert.deepEqual(frame.columns.map((column) => column.family), expected.columns.map((column) => column.family));
    for (const [index, column] of expected.columns.entries()) {
      assert.deepEqual(frame.values[index], expected.rows.map((row) => row[index]), `values of ${column.name}`);
    }
  });
});

describe('readFrame refuses frames that lie', () => {
  function writeFrame(manifest: unknown, files: Record<string, Uint8Array> = {}): string {
    const target = newFrameFolder();
    mkdirSync(target, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(target, name), bytes);
    writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifest));
    return join(target, 'manifest.json');
  }
  const column = { name: 'n', kind: 'int32', data: 'n.data', nulls: 0 };

  test('file names that leave the folder', async () => {
    for (const data of ['../n.data', '/etc/passwd', '.hidden', 'a/b']) {
      const path = writeFrame({ format: 'iquery-frame', version: 1, rows: 1, columns: [{ ...column, data }] });
      await expectError(readFrame(path), 'bad_input');
    }
  });

  test('files shorter than the manifest says', async () => {
    const path = writeFrame({ format: 'iquery-frame', version: 1, rows: 10, columns: [column] }, { 'n.data': new Uint8Array(8) });
    await expectError(readFrame(path, { maxRows: 1 }), 'bad_input');
  });

  test('malformed manifests and missing ones', async () => {
    await expectError(readFrame(writeFrame({ format: 'iquery-frame', version: 2, rows: 0, columns: [] })), 'bad_input');
    await expectError(readFrame(writeFrame({ format: 'iquery-frame', version: 1, rows: -1, columns: [] })), 'bad_input');
    await expectError(readFrame(writeFrame({ format: 'iquery-frame', version: 1, rows: 1, columns: [{ ...column, kind: 'int7' }] })), 'bad_input');
    await expectError(readFrame(join(folder, 'nowhere', 'manifest.json')), 'not_found');
  });

  test('category codes beyond the dictionary', async () => {
    const path = writeFrame(
      {
        format: 'iquery-frame',
        version: 1,
        rows: 1,
        columns: [{ name: 'c', kind: 'category', codes: 'c', categories: 1, dictionary_offsets: 'o', dictionary: 'd', nulls: 0 }],
      },
      { c: new Uint8Array(new Int32Array([5]).buffer), o: new Uint8Array(new BigInt64Array([0n, 1n]).buffer), d: new Uint8Array([65]) },
    );
    await expectError(readFrame(path), 'bad_input');
  });
});
