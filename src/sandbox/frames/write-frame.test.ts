/**
 * DuckDB → frame → pandas, checked in Python against DuckDB's own values and aggregates.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSource } from '../../sources/open-source.js';
import type { DataSource } from '../../sources/source.js';
import { loadFrameInPython, runPython, type PythonColumn } from './testing/python-frames.js';
import { expectError } from '../../sources/testing/test-source.js';
import { nativeFrames } from '../../sources/duckdb/native-frames.js';
import { writeQueryFrame } from './write-frame.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-frames-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let frameCount = 0;
const newFrameFolder = (): string => join(folder, `frame-${++frameCount}`);

async function createDatabase(path: string, statements: readonly string[]): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    for (const statement of statements) await connection.run(statement);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}


function columnNamed(columns: readonly PythonColumn[], name: string): PythonColumn {
  const column = columns.find((candidate) => candidate.name === name);
  assert.ok(column !== undefined, `no column ${name}`);
  return column;
}

const everyTypeStatements = [
  "CREATE TYPE mood AS ENUM ('sad', 'happy')",
  `CREATE TABLE every_type (
    n INTEGER, t TINYINT, s SMALLINT, i INTEGER, b BIGINT, ut UTINYINT, us USMALLINT, ui UINTEGER, ub UBIGINT,
    h HUGEINT, hw HUGEINT, f FLOAT, d DOUBLE, flag BOOLEAN, day DATE, ts TIMESTAMP, ts_s TIMESTAMP_S,
    ts_ms TIMESTAMP_MS, ts_ns TIMESTAMP_NS, tz TIMESTAMPTZ, d4 DECIMAL(4,1), d9 DECIMAL(9,2), d18 DECIMAL(18,3),
    d38 DECIMAL(38,4), word VARCHAR, tm TIME, iv INTERVAL, list INTEGER[], feeling mood, id UUID)`,
  `INSERT INTO every_type VALUES
    (1, -128, -32768, -2147483648, -9223372036854775808, 0, 0, 0, 0,
     -9223372036854775808, 170141183460469231731687303715884105727, -1.5, -2.25, false, DATE '1677-09-22',
     TIMESTAMP '1900-01-01 00:00:00', TIMESTAMP_S '1970-01-01 00:00:01', TIMESTAMP_MS '1969-12-31 23:59:59.999',
     TIMESTAMP_NS '2024-02-29 12:34:56.789012345', TIMESTAMPTZ '2024-01-02 03:04:05+00', -999.9, -9999999.99,
     -999999999999999.999, -1234567890123456789012345678901234.5678, '北京', TIME '01:02:03', INTERVAL 3 DAY,
     [1, 2], 'sad', '00000000-0000-0000-0000-000000000001'),
    (2, 127, 32767, 2147483647, 9223372036854775807, 255, 65535, 4294967295, 18446744073709551615,
     9223372036854775807, -170141183460469231731687303715884105727, 3.25, 1e300, true, DATE '9999-12-31',
     TIMESTAMP '2262-04-11 23:47:17', TIMESTAMP_S '2024-01-01 10:00:00', TIMESTAMP_MS '2024-01-01 10:00:00.123',
     TIMESTAMP_NS '1970-01-01 00:00:00.000000001', TIMESTAMPTZ '2024-06-30 23:00:00+08', 999.9, 9999999.99,
     999999999999999.999, 0.0001, '😀 party, a string longer than twelve bytes', TIME '23:59:59', INTERVAL 90 MINUTE,
     [], 'happy', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
    (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, DATE '1970-01-01', TIMESTAMP '1970-01-01', TIMESTAMP_S '1970-01-01',
     TIMESTAMP_MS '1970-01-01', TIMESTAMP_NS '1970-01-01', TIMESTAMPTZ '1970-01-01 00:00:00+00', 0, 0, 0, 0, '',
     TIME '00:00:00', INTERVAL 0 SECOND, [0], 'sad', '00000000-0000-0000-0000-000000000000'),
    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0.5, 0.1, true, DATE '2024-02-29', TIMESTAMP '2024-02-29 12:00:00.5',
     TIMESTAMP_S '2024-02-29 12:00:00', TIMESTAMP_MS '2024-02-29 12:00:00', TIMESTAMP_NS '2024-02-29 12:00:00',
     TIMESTAMPTZ '2024-02-29 12:00:00+00', 1.5, 2.25, 3.125, 4.0625, '北京', TIME '12:00:00', INTERVAL 1 MONTH, NULL,
     'happy', NULL)`,
];

/**
 * 300 000 rows, many 2048-row chunks: nulls in every column but id, strings inlined (≤ 12 bytes) and
 * not, repeating (categories) and unique (which turn into plain strings past 100 000 distinct values).
 */
const bigStatements = [
  `CREATE TABLE big AS SELECT
     range AS id,
     CASE WHEN range % 7 = 0 THEN NULL ELSE range * 0.5 END::DOUBLE AS x,
     CASE WHEN range % 11 = 0 THEN NULL ELSE ['北京', '上海', '😀', '', 'a city name longer than twelve bytes'][1 + range % 5] END AS city,
     'k' || range AS short_key,
     CASE WHEN range % 17 = 0 THEN NULL ELSE 'a key longer than inlined ' || range END AS long_key,
     CASE WHEN range % 19 = 0 THEN NULL ELSE DATE '2000-01-01' + CAST(range % 10000 AS INTEGER) END AS day,
     CASE WHEN range % 13 = 0 THEN NULL ELSE range % 3 = 0 END AS flag,
     CASE WHEN range % 23 = 0 THEN NULL ELSE CAST((range % 100000) / 100 AS DECIMAL(18,2)) END AS amount
   FROM range(300000)`,
];

const writers = [
  { name: 'written natively', native: true, writer: 'native' },
  { name: 'streamed through JS', native: false, writer: 'stream' },
] as const;

for (const { name: writerName, native, writer } of writers) describe(`writeQueryFrame from DuckDB (raw vectors), ${writerName}`, () => {
  let source: DataSource;
  before(async () => {
    const database = join(folder, `types-${writer}.duckdb`);
    await createDatabase(database, [...everyTypeStatements, ...bigStatements]);
    source = await openSource(database);
  });
  after(async () => {
    await source?.close();
  });

  test('the source offers the columnar fast path and the native writer, which the set-up built', () => {
    assert.equal(typeof source.streamColumnar, 'function');
    assert.equal(typeof source.writeFrameFiles, 'function');
    assert.equal(nativeFrames().reason, undefined);
  });

  test('every type, with a NULL in each, arrives in pandas as documented', async () => {
    const summary = await writeQueryFrame(source, 'SELECT * FROM every_type ORDER BY n', newFrameFolder(), { native });
    assert.equal(summary.rows, 5);
    assert.equal(summary.truncated, false);
    assert.ok(summary.manifest.endsWith('manifest.json') && summary.manifest.startsWith('/'), summary.manifest);
    assert.ok(summary.bytes > 0);
    const kinds = Object.fromEntries(summary.columns.map((column) => [column.name, column.kind]));
    assert.deepEqual(kinds, {
      n: 'int32', t: 'int8', s: 'int16', i: 'int32', b: 'int64', ut: 'uint8', us: 'uint16', ui: 'uint32', ub: 'uint64',
      h: 'int128', hw: 'int128', f: 'float32', d: 'float64', flag: 'bool', day: 'date32', ts: 'timestamp[us]',
      ts_s: 'timestamp[s]', ts_ms: 'timestamp[ms]', ts_ns: 'timestamp[ns]', tz: 'timestamp[us, UTC]',
      d4: 'decimal(int16, 1)', d9: 'decimal(int32, 2)', d18: 'decimal(int64, 3)', d38: 'decimal(int128, 4)',
      word: 'category', tm: 'category', iv: 'category', list: 'category', feeling: 'category', id: 'category',
    });

    const { rows, columns } = loadFrameInPython(summary.manifest);
    assert.equal(rows, 5);
    const expect = (name: string, dtype: string, values: unknown[]): void => {
      const column = columnNamed(columns, name);
      assert.equal(column.dtype, dtype, `dtype of ${name}`);
      assert.deepEqual(column.values, values, `values of ${name}`);
    };
    expect('t', 'Int8', [-128, 127, 0, null, 5]);
    expect('s', 'Int16', [-32768, 32767, 0, null, 5]);
    expect('i', 'Int32', [-2147483648, 2147483647, 0, null, 5]);
    expect('b', 'Int64', ['-9223372036854775808', '9223372036854775807', 0, null, 5]);
    expect('ut', 'UInt8', [0, 255, 0, null, 5]);
    expect('us', 'UInt16', [0, 65535, 0, null, 5]);
    expect('ui', 'UInt32', [0, 4294967295, 0, null, 5]);
    expect('ub', 'UInt64', [0, '18446744073709551615', 0, null, 5]);
    expect('h', 'Int64', ['-9223372036854775808', '9223372036854775807', 0, null, 5]);
    expect('hw', 'float64', [1.7014118346046923e38, -1.7014118346046923e38, 0, null, 5]);
    expect('f', 'float32', [-1.5, 3.25, 0, null, 0.5]);
    expect('d', 'float64', [-2.25, 1e300, 0, null, 0.1]);
    expect('flag', 'boolean', [false, true, false, null, true]);
    // 9999-12-31 is beyond pandas' nanoseconds: NaT, as documented.
    expect('day', 'datetime64[ns]', ['1677-09-22T00:00:00', null, '1970-01-01T00:00:00', null, '2024-02-29T00:00:00']);
    expect('ts', 'datetime64[ns]', ['1900-01-01T00:00:00', null, '1970-01-01T00:00:00', null, '2024-02-29T12:00:00.500000']);
    expect('ts_s', 'datetime64[ns]', ['1970-01-01T00:00:01', '2024-01-01T10:00:00', '1970-01-01T00:00:00', null, '2024-02-29T12:00:00']);
    expect('ts_ms', 'datetime64[ns]', ['1969-12-31T23:59:59.999000', '2024-01-01T10:00:00.123000', '1970-01-01T00:00:00', null, '2024-02-29T12:00:00']);
    expect('ts_ns', 'datetime64[ns]', ['2024-02-29T12:34:56.789012345', '1970-01-01T00:00:00.000000001', '1970-01-01T00:00:00', null, '2024-02-29T12:00:00']);
    expect('tz', 'datetime64[ns, UTC]', ['2024-01-02T03:04:05+00:00', '2024-06-30T15:00:00+00:00', '1970-01-01T00:00:00+00:00', null, '2024-02-29T12:00:00+00:00']);
    expect('d4', 'float64', [-999.9, 999.9, 0, null, 1.5]);
    expect('d9', 'float64', [-9999999.99, 9999999.99, 0, null, 2.25]);
    expect('d18', 'float64', [-999999999999999.999, 999999999999999.999, 0, null, 3.125]);
    expect('d38', 'float64', [-1.2345678901234568e33, 0.0001, 0, null, 4.0625]);
    expect('word', 'category', ['北京', '😀 party, a string longer than twelve bytes', '', null, '北京']);
    expect('tm', 'category', ['01:02:03', '23:59:59', '00:00:00', null, '12:00:00']);
    expect('list', 'category', ['[1,2]', '[]', '[0]', null, null]);
    expect('feeling', 'category', ['sad', 'happy', 'sad', null, 'happy']);
    expect('id', 'category', ['00000000-0000-0000-0000-000000000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-000000000000', null, null]);
    assert.equal(columnNamed(columns, 'iv').values[3], null);
  });

  test('300 000 rows across many chunks match DuckDB’s own aggregates exactly', async () => {
    const summary = await writeQueryFrame(source, 'SELECT * FROM big ORDER BY id', newFrameFolder(), { native });
    assert.equal(summary.rows, 300_000);
    const kinds = Object.fromEntries(summary.columns.map((column) => [column.name, column.kind]));
    assert.deepEqual(kinds, {
      id: 'int64', x: 'float64', city: 'category', short_key: 'string', long_key: 'string', day: 'date32', flag: 'bool', amount: 'decimal(int64, 2)',
    });
    const [expected] = (
      await source.query(`SELECT
        COUNT(*), SUM(id), SUM(x), COUNT(x), COUNT(city), COUNT(day), SUM(day - DATE '1970-01-01'),
        COUNT(flag), SUM(CAST(flag AS INTEGER)), COUNT(amount), SUM(CAST(amount * 100 AS BIGINT)),
        md5(string_agg(coalesce(city, '<null>'), chr(10) ORDER BY id)),
        md5(string_agg(short_key, chr(10) ORDER BY id)),
        md5(string_agg(coalesce(long_key, '<null>'), chr(10) ORDER BY id)),
        md5(string_agg(coalesce(CAST(x AS VARCHAR), '<null>'), chr(10) ORDER BY id))
      FROM big`)
    ).rows;
    const actual = runPython(
      String.raw`
frame = frames.read_frame(sys.argv[1])
def digest(series):
    return hashlib.md5('\n'.join('<null>' if value is None else value for value in column_values(series)).encode('utf-8')).hexdigest()
x_text = frame['x'].map(lambda value: None if math.isnan(value) else repr(value))
print(json.dumps([
    len(frame), int(frame['id'].sum()), float(frame['x'].sum()), int(frame['x'].notna().sum()),
    int(frame['city'].notna().sum()), int(frame['day'].notna().sum()),
    int(((frame['day'] - pandas.Timestamp('1970-01-01')).dt.days).sum()),
    int(frame['flag'].notna().sum()), int(frame['flag'].sum()), int(frame['amount'].notna().sum()),
    int(numpy.rint(frame['amount'] * 100).sum()),
    digest(frame['city'].astype(object)), digest(frame['short_key']), digest(frame['long_key']), digest(x_text),
    [str(dtype) for dtype in frame.dtypes],
]))
`,
      [summary.manifest],
    ) as unknown[];
    assert.deepEqual(actual.slice(0, 15), expected);
    assert.deepEqual(actual[15], ['int64', 'float64', 'category', 'object', 'object', 'datetime64[ns]', 'boolean', 'float64']);
  });

  test('maxRows cuts the result mid-chunk and reports truncation', async () => {
    const summary = await writeQueryFrame(source, 'SELECT id, city, flag, x FROM big ORDER BY id', newFrameFolder(), { native, maxRows: 5003 });
    assert.equal(summary.rows, 5003);
    assert.equal(summary.truncated, true);
    assert.equal(summary.writer, writer);
    const { rows, columns } = loadFrameInPython(summary.manifest);
    assert.equal(rows, 5003);
    const expected = await source.query('SELECT id, city, flag, x FROM big ORDER BY id LIMIT 5003', { maxRows: 6000 });
    for (const [index, name] of ['id', 'city', 'flag', 'x'].entries()) {
      assert.deepEqual(columnNamed(columns, name).values, expected.rows.map((row) => row[index]), `values of ${name}`);
    }
    const exact = await writeQueryFrame(source, 'SELECT id FROM big WHERE id < 4096', newFrameFolder(), { native, maxRows: 4096 });
    assert.equal(exact.rows, 4096);
    assert.equal(exact.truncated, false);
  });

  test('an empty result is a frame with its columns and no rows', async () => {
    const summary = await writeQueryFrame(source, 'SELECT * FROM big WHERE id < 0', newFrameFolder(), { native });
    assert.equal(summary.rows, 0);
    const { rows, columns } = loadFrameInPython(summary.manifest);
    assert.equal(rows, 0);
    assert.deepEqual(columns.map((column) => column.name), ['id', 'x', 'city', 'short_key', 'long_key', 'day', 'flag', 'amount']);
  });

  test('the guard still refuses writes, and nothing is left behind', async () => {
    for (const sql of ['DELETE FROM big', 'SELECT 1; DROP TABLE big', "COPY big TO '/tmp/out.csv'"]) {
      const target = newFrameFolder();
      await expectError(writeQueryFrame(source, sql, target, { native }), 'sql_refused');
      assert.deepEqual(existsSync(target) ? readdirSync(target) : [], [], sql);
    }
    const [count] = (await source.query('SELECT COUNT(*) FROM big')).rows;
    assert.deepEqual(count, [300_000]);
  });

  test('a cancelled handoff stops and removes its files', async () => {
    const control = new AbortController();
    control.abort();
    const target = newFrameFolder();
    await expectError(writeQueryFrame(source, 'SELECT * FROM big', target, { native, signal: control.signal }), 'query_cancelled');
    assert.deepEqual(readdirSync(target), []);
  });

  test('constant columns (DuckDB constant vectors) arrive flattened in every chunk', async () => {
    const summary = await writeQueryFrame(source, "SELECT 42 AS answer, 'x' AS letter, NULL::INTEGER AS nothing, range AS n FROM range(5000)", newFrameFolder(), { native });
    const frame = runPython(
      String.raw`
frame = frames.read_frame(sys.argv[1])
print(json.dumps([len(frame), sorted(set(column_values(frame['answer']))), sorted(set(column_values(frame['letter']))),
    int(frame['nothing'].isna().sum()), int(frame['n'].sum())]))
`,
      [summary.manifest],
    );
    assert.deepEqual(frame, [5000, [42], ['x'], 5000, (4999 * 5000) / 2]);
  });

  test('a handoff cancelled half-way stops the query and removes its files', async () => {
    const control = new AbortController();
    const target = newFrameFolder();
    setTimeout(() => control.abort(), 100);
    await expectError(writeQueryFrame(source, 'SELECT range AS n, range * 2 AS m FROM range(500000000)', target, { native, signal: control.signal }), 'query_cancelled');
    assert.deepEqual(readdirSync(target), []);
    const [again] = (await source.query('SELECT COUNT(*) FROM big')).rows;
    assert.deepEqual(again, [300_000]);
  });

  test('a folder that already holds files is refused', async () => {
    const target = newFrameFolder();
    await writeQueryFrame(source, 'SELECT 1 AS one', target, { native });
    await expectError(writeQueryFrame(source, 'SELECT 1 AS one', target, { native }), 'bad_input');
  });

  test('a first null deep in the result marks every earlier row valid', async () => {
    const summary = await writeQueryFrame(
      source,
      `SELECT CASE WHEN range = 250001 THEN NULL ELSE range END AS late,
              CASE WHEN range = 299999 THEN NULL ELSE 'v' || (range % 3) END AS late_text,
              CASE WHEN range = 123457 THEN NULL ELSE 'a unique value number ' || range END AS late_unique
       FROM range(300000) ORDER BY range`,
      newFrameFolder(),
      { native },
    );
    assert.equal(summary.writer, writer);
    assert.deepEqual(Object.fromEntries(summary.columns.map((column) => [column.name, column.kind])), { late: 'int64', late_text: 'category', late_unique: 'string' });
    const found = runPython(
      String.raw`
frame = frames.read_frame(sys.argv[1])
print(json.dumps([[int(index) for index in numpy.flatnonzero(frame[name].isna().to_numpy())] for name in ['late', 'late_text', 'late_unique']]
    + [int(frame['late'].sum()), column_values(frame['late_unique'].iloc[[0, 123456, 299999]])]))
`,
      [summary.manifest],
    );
    assert.deepEqual(found, [[250001], [299999], [123457], (299999 * 300000) / 2 - 250001, ['a unique value number 0', 'a unique value number 123456', 'a unique value number 299999']]);
  });

  test('two handoffs at once from one source each get their own rows', async () => {
    const [odd, even] = await Promise.all([
      writeQueryFrame(source, 'SELECT id, city FROM big WHERE id % 2 = 1 ORDER BY id', newFrameFolder(), { native }),
      writeQueryFrame(source, 'SELECT id, city FROM big WHERE id % 2 = 0 ORDER BY id', newFrameFolder(), { native }),
    ]);
    const sums = [odd, even].map((summary) => runPython("frame = frames.read_frame(sys.argv[1])\nprint(json.dumps([len(frame), int(frame['id'].sum())]))", [summary.manifest]));
    assert.deepEqual(sums, [
      [150_000, 150_000 * 150_000],
      [150_000, 150_000 * 149_999],
    ]);
  });

  test('a handoff past its time limit stops with query_timeout and leaves nothing', async () => {
    const target = newFrameFolder();
    await expectError(writeQueryFrame(source, 'SELECT range AS n, range * 2 AS m FROM range(500000000)', target, { native, timeoutMs: 150 }), 'query_timeout');
    assert.deepEqual(readdirSync(target), []);
  });
});

describe('the native writer and the JS stream give the same frame', () => {
  let source: DataSource;
  before(async () => {
    const database = join(folder, 'same.duckdb');
    await createDatabase(database, [...everyTypeStatements, ...bigStatements]);
    source = await openSource(database);
  });
  after(async () => {
    await source?.close();
  });

  const loadBoth = async (sql: string): Promise<unknown[]> => {
    const native = await writeQueryFrame(source, sql, newFrameFolder());
    const streamed = await writeQueryFrame(source, sql, newFrameFolder(), { native: false });
    assert.deepEqual([native.writer, streamed.writer], ['native', 'stream']);
    assert.deepEqual(native.columns, streamed.columns);
    return [loadFrameInPython(native.manifest), loadFrameInPython(streamed.manifest)];
  };

  test('for every type with a raw form, nulls included', async () => {
    const [native, streamed] = await loadBoth(
      'SELECT n, t, s, i, b, ut, us, ui, ub, h, hw, f, d, flag, day, ts, ts_s, ts_ms, ts_ns, tz, d4, d9, d18, d38, word FROM every_type ORDER BY n',
    );
    assert.deepEqual(native, streamed);
  });

  test('for 300 000 rows of categories, plain strings and nulls', async () => {
    const [native, streamed] = await loadBoth('SELECT * FROM big ORDER BY id');
    assert.deepEqual(native, streamed);
  });

  test('a result with a type that has no raw form falls back to the stream', async () => {
    const summary = await writeQueryFrame(source, 'SELECT n, iv FROM every_type ORDER BY n', newFrameFolder());
    assert.equal(summary.writer, 'stream');
    assert.equal(loadFrameInPython(summary.manifest).rows, 5);
  });
});
