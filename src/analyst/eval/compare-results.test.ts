import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameResult } from './compare-results.js';

const table = (columns: string[], rows: unknown[][]) => ({ columns, rows: rows as never });

test('the same rows in another column order and row order are the same result', () => {
  const expected = table(['contract', 'rate'], [['Month-to-month', 0.4433], ['One year', 0.1082]]);
  const actual = table(['rate', 'contract'], [[0.1082, 'One year'], [0.4433, 'Month-to-month']]);
  assert.equal(sameResult(expected, actual, false), true);
});

test('row order counts when the question orders', () => {
  const expected = table(['m', 'v'], [['a', 2], ['b', 1]]);
  const swapped = table(['m', 'v'], [['b', 1], ['a', 2]]);
  assert.equal(sameResult(expected, swapped, true), false);
  assert.equal(sameResult(expected, swapped, false), true);
});

test('numbers match to 1e-6 relative, and numbers written as text are numbers', () => {
  assert.equal(sameResult(table(['x'], [[1000000]]), table(['x'], [[1000000.5]]), false), true);
  assert.equal(sameResult(table(['x'], [[100]]), table(['x'], [[100.01]]), false), false);
  assert.equal(sameResult(table(['x'], [['9223372036854775807']]), table(['x'], [[9223372036854775807]]), false), true);
  assert.equal(sameResult(table(['x'], [[0]]), table(['x'], [[1e-12]]), false), true);
});

test('an extra column, a missing row or a different value is a different result', () => {
  const expected = table(['g', 'n'], [['a', 1], ['b', 2]]);
  assert.equal(sameResult(expected, table(['g', 'n', 'share'], [['a', 1, 0.3], ['b', 2, 0.7]]), false), false);
  assert.equal(sameResult(expected, table(['g', 'n'], [['a', 1]]), false), false);
  assert.equal(sameResult(expected, table(['g', 'n'], [['a', 1], ['b', 3]]), false), false);
  assert.equal(sameResult(expected, table(['g', 'n'], [['a', 1], ['c', 2]]), false), false);
});

test('nulls match nulls only, and dates compare as text', () => {
  assert.equal(sameResult(table(['d', 'v'], [['2026-01-01', null]]), table(['d', 'v'], [['2026-01-01', null]]), false), true);
  assert.equal(sameResult(table(['v'], [[null]]), table(['v'], [[0]]), false), false);
  assert.equal(sameResult(table(['d'], [['2026-01-01']]), table(['d'], [['2026-02-01']]), false), false);
});

test('two columns with the same values still have to line up row by row', () => {
  const expected = table(['a', 'b'], [[1, 2], [2, 1]]);
  assert.equal(sameResult(expected, table(['b', 'a'], [[2, 1], [1, 2]]), false), true);
  assert.equal(sameResult(expected, table(['a', 'b'], [[1, 1], [2, 2]]), false), false);
});
