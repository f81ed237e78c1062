/**
 * Execution accuracy: two results are the same answer when, for some pairing of their columns, they
 * hold the same rows: as multisets, or in order when the question asks for an order. Numbers match to
 * 1e-6 relative (or 1e-9 absolute near zero); numbers written as text (big integers, decimals) count
 * as numbers; dates and timestamps compare as text.
 */
import type { SqlValue } from '../../sources/source.js';

export interface ResultTable {
  columns: readonly string[];
  rows: readonly (readonly SqlValue[])[];
}

type Cell = { kind: 'null' } | { kind: 'number'; value: number } | { kind: 'text'; value: string };

function cell(value: SqlValue | undefined): Cell {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'number', value: value ? 1 : 0 };
  if (typeof value === 'string' && /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(value.trim())) return { kind: 'number', value: Number(value) };
  if (typeof value === 'string') return { kind: 'text', value: value.replace(/T00:00:00(\.000)?Z?$/, '') };
  return { kind: 'text', value: JSON.stringify(value) };
}

function same(left: Cell, right: Cell): boolean {
  if (left.kind !== right.kind) return false;
  if (left.kind === 'null') return true;
  if (left.kind === 'number' && right.kind === 'number') {
    const difference = Math.abs(left.value - right.value);
    return difference <= 1e-9 || difference <= 1e-6 * Math.max(Math.abs(left.value), Math.abs(right.value));
  }
  return left.kind === 'text' && right.kind === 'text' && left.value === right.value;
}

/** A sort key that puts equal cells together (numbers rounded to 6 significant digits). */
function key(value: Cell): string {
  if (value.kind === 'null') return '0';
  if (value.kind === 'number') return `1${value.value === 0 ? '0' : value.value.toPrecision(6)}`;
  return `2${value.value}`;
}

function rowsMatch(expected: Cell[][], actual: Cell[][], ordered: boolean): boolean {
  if (expected.length !== actual.length) return false;
  const sort = (rows: Cell[][]): Cell[][] => (ordered ? rows : [...rows].sort((a, b) => (a.map(key).join('\u0001') < b.map(key).join('\u0001') ? -1 : 1)));
  const left = sort(expected);
  const right = sort(actual);
  return left.every((row, index) => row.every((value, column) => same(value, (right[index] as Cell[])[column] as Cell)));
}

/** Column pairs whose values could match (same multiset when unordered), to prune the permutations. */
function columnCompatible(expected: Cell[][], actual: Cell[][], left: number, right: number): boolean {
  const a = expected.map((row) => row[left] as Cell).sort((x, y) => (key(x) < key(y) ? -1 : 1));
  const b = actual.map((row) => row[right] as Cell).sort((x, y) => (key(x) < key(y) ? -1 : 1));
  return a.every((value, index) => same(value, b[index] as Cell));
}

export function sameResult(expected: ResultTable, actual: ResultTable, ordered: boolean): boolean {
  const width = expected.columns.length;
  if (actual.columns.length !== width || expected.rows.length !== actual.rows.length) return false;
  const left = expected.rows.map((row) => Array.from({ length: width }, (_, index) => cell(row[index])));
  const right = actual.rows.map((row) => Array.from({ length: width }, (_, index) => cell(row[index])));
  if (width === 0) return true;
  const candidates = Array.from({ length: width }, (_, column) => Array.from({ length: width }, (_, other) => columnCompatible(left, right, column, other)));
  const search = (column: number, taken: Set<number>, mapping: number[]): boolean => {
    if (column === width) return rowsMatch(left, right.map((row) => mapping.map((index) => row[index] as Cell)), ordered);
    for (let other = 0; other < width; other++) {
      if (taken.has(other) || !(candidates[column]?.[other] ?? false)) continue;
      taken.add(other);
      mapping.push(other);
      if (search(column + 1, taken, mapping)) return true;
      mapping.pop();
      taken.delete(other);
    }
    return false;
  };
  return search(0, new Set(), []);
}
