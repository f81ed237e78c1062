/** The writer's building blocks: validity bitmaps across unaligned appends, the string dictionary, value parsing. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ColumnMeta, SqlValue } from '../../sources/source.js';
import { FrameWriter } from './frame-writer.js';
import { StringDictionary } from './string-dictionary.js';
import { ValidityBuilder, countValid } from './validity-builder.js';
import { loadFrameInPython } from './testing/python-frames.js';
import { valuesToVector } from './values-to-vector.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-frame-parts-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function bitmapOf(valid: readonly boolean[]): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(valid.length / 8));
  valid.forEach((ok, row) => {
    if (ok) bitmap[row >> 3] = (bitmap[row >> 3] ?? 0) | (1 << (row & 7));
  });
  return bitmap;
}

describe('ValidityBuilder', () => {
  test('appends of any length and alignment give the right bits, and no file without nulls', async () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const lengths = [3, 8, 13, 1, 2048, 5, 0, 64, 7, 100];
    const path = join(folder, 'validity');
    const builder = new ValidityBuilder(path, 1 << 10);
    const expected: boolean[] = [];
    // All-valid batches first: the file must start with ones for them.
    builder.append(null, 21);
    expected.push(...new Array<boolean>(21).fill(true));
    for (const length of lengths) {
      const valid = Array.from({ length }, () => random() > 0.3);
      // A bitmap with garbage beyond `length` must not leak in.
      const bitmap = bitmapOf(valid);
      if (length % 8 !== 0) bitmap[bitmap.length - 1] = (bitmap[bitmap.length - 1] ?? 0) | (0xff << (length % 8));
      builder.append(bitmap, length);
      expected.push(...valid);
      builder.append(null, 3);
      expected.push(true, true, true);
    }
    await builder.close();
    const bytes = new Uint8Array(readFileSync(path));
    assert.equal(bytes.length, Math.ceil(expected.length / 8));
    const actual = expected.map((_, row) => ((bytes[row >> 3] ?? 0) & (1 << (row & 7))) !== 0);
    assert.deepEqual(actual, expected);
    assert.equal(builder.nulls, expected.filter((ok) => !ok).length);
    assert.equal(countValid(bytes, expected.length), expected.filter((ok) => ok).length);

    const clean = new ValidityBuilder(join(folder, 'clean'), 1 << 10);
    clean.append(null, 100);
    clean.append(bitmapOf(new Array<boolean>(9).fill(true)), 9);
    await clean.close();
    assert.equal(clean.filePath, undefined);
    assert.equal(clean.nulls, 0);
  });
});

describe('StringDictionary', () => {
  test('gives one code per distinct byte string, in order of first sight, across rehashes', () => {
    const dictionary = new StringDictionary();
    const encoder = new TextEncoder();
    const words = ['', 'a', '北京', 'a', '😀', ...Array.from({ length: 5000 }, (_, index) => `w${index % 3000}`)];
    const codes = words.map((word) => {
      const bytes = encoder.encode(`xx${word}yy`);
      return dictionary.encode(bytes, 2, bytes.length - 2);
    });
    const distinct = [...new Set(words)];
    assert.equal(dictionary.count, distinct.length);
    assert.deepEqual(codes, words.map((word) => distinct.indexOf(word)));
    const decoder = new TextDecoder();
    assert.deepEqual(distinct.map((_, code) => decoder.decode(dictionary.stringBytes(code))), distinct);
  });
});

describe('valuesToVector (the generic path)', () => {
  const meta = (family: ColumnMeta['family'], nativeType = 'x'): ColumnMeta => ({ name: 'c', nativeType, family });
  const int64s = (vector: ReturnType<typeof valuesToVector>): bigint[] => {
    assert.equal(vector.layout, 'fixed');
    return vector.layout === 'fixed' ? [...new BigInt64Array(vector.data.slice().buffer)] : [];
  };

  test('timestamps in the drivers’ text forms, with and without offsets', () => {
    const values: SqlValue[] = [
      '2024-01-02 03:04:05',
      '2024-01-02T03:04:05.5Z',
      '2024-01-02 03:04:05.123456+08',
      '2024-01-02 03:04:05-05:30',
      '1969-12-31 23:59:59.999999',
      'infinity',
      null,
      '0044-03-15 12:00:00 BC',
    ];
    const vector = valuesToVector(meta('timestamp', 'timestamptz'), values);
    assert.ok(vector.layout === 'fixed' && vector.utc === true);
    const micros = int64s(vector);
    const base = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n;
    assert.deepEqual(micros.slice(0, 5), [base, base + 500_000n, base + 123_456n - 8n * 3_600_000_000n, base + 330n * 60_000_000n, -1n]);
    assert.ok(vector.layout === 'fixed' && vector.validity !== null);
    if (vector.layout === 'fixed' && vector.validity !== null) {
      assert.equal(countValid(vector.validity, values.length), 5);
    }
  });

  test('dates, integers beyond doubles, booleans', () => {
    const dates = valuesToVector(meta('date'), ['1970-01-02', '1969-12-31', '2024-02-30', '0000-00-00', null]);
    assert.ok(dates.layout === 'fixed' && dates.kind === 'date32');
    if (dates.layout === 'fixed') {
      assert.deepEqual([...new Int32Array(dates.data.slice().buffer)].slice(0, 2), [1, -1]);
      assert.equal(countValid(dates.validity ?? new Uint8Array([0xff]), 5), 2);
    }
    assert.deepEqual(int64s(valuesToVector(meta('integer'), [1, '9007199254740993', -5, true])), [1n, 9007199254740993n, -5n, 1n]);
    assert.throws(() => valuesToVector(meta('integer'), ['18446744073709551615']), /beyond 64-bit/);
    const flags = valuesToVector(meta('boolean'), [true, false, 1, 0, null]);
    assert.ok(flags.layout === 'fixed');
    if (flags.layout === 'fixed') assert.deepEqual([...flags.data], [1, 0, 1, 0, 0]);
  });
});

describe('FrameWriter', () => {
  test('a text column of driver values turns from category into plain strings past 100 000 distinct values', async () => {
    const target = join(folder, 'generic-strings');
    mkdirSync(target);
    const writer = new FrameWriter(target);
    const columns: ColumnMeta[] = [
      { name: 'key', nativeType: 'text', family: 'text' },
      { name: 'region', nativeType: 'text', family: 'text' },
    ];
    const expected: SqlValue[] = [];
    for (let start = 0; start < 250_000; start += 8192) {
      const keys: SqlValue[] = [];
      const regions: SqlValue[] = [];
      for (let row = start; row < Math.min(start + 8192, 250_000); row++) {
        keys.push(row % 1000 === 0 ? null : `键-${row}`);
        regions.push(['north', 'south', null][row % 3] ?? null);
      }
      expected.push(...keys);
      await writer.append({ columns, vectors: [{ layout: 'values', values: keys }, { layout: 'values', values: regions }], rowCount: keys.length });
    }
    const written = await writer.finish();
    assert.deepEqual(written.manifest.columns.map((column) => column.kind), ['string', 'category']);
    assert.equal(written.manifest.columns[0]?.nulls, 250);
    const loaded = loadFrameInPython(written.manifestPath);
    assert.equal(loaded.rows, 250_000);
    assert.deepEqual(loaded.columns[0]?.values, expected);
    assert.equal(loaded.columns[1]?.dtype, 'category');
  });
});
