import assert from 'node:assert/strict';
import { test } from 'node:test';
import { highlightPython, highlightSql } from './highlight.js';

const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');

test('SQL: keywords, strings, numbers and calls coloured; the text itself unchanged', () => {
  const sql = "SELECT plan, COUNT(*) AS n -- per plan\nFROM t WHERE city = '北京' AND fee > 80.5 GROUP BY 1";
  const coloured = highlightSql(sql, 'duckdb');
  assert.equal(plain(coloured), sql);
  assert.match(coloured, /\x1b\[1;34mSELECT\x1b\[0m/);
  assert.match(coloured, /\x1b\[32m'北京'\x1b\[0m/);
  assert.match(coloured, /\x1b\[33m80\.5\x1b\[0m/);
  assert.match(coloured, /\x1b\[36mCOUNT\x1b\[0m/);
  assert.match(coloured, /\x1b\[2m -- per plan\n\x1b\[0m/);
  assert.doesNotMatch(coloured, /\x1b\[[0-9;]*mplan\x1b/);
});

test('SQL the lexer cannot read comes back as it is', () => {
  assert.equal(highlightSql("SELECT 'unterminated", 'duckdb'), "SELECT 'unterminated");
});

test('Python: keywords, strings (prefixed and triple-quoted), comments, numbers and calls', () => {
  const code = 'import pandas as pd  # data\ndf = pd.read_csv(f"x_{1}.csv")\ntext = """a\n"b" c"""\nif df.shape[0] > 10_000:\n    print(\'big\')';
  const coloured = highlightPython(code);
  assert.equal(plain(coloured), code);
  assert.match(coloured, /\x1b\[1;34mimport\x1b\[0m/);
  assert.match(coloured, /\x1b\[2m# data\x1b\[0m/);
  assert.match(coloured, /\x1b\[32mf"x_\{1\}\.csv"\x1b\[0m/);
  assert.match(coloured, /\x1b\[32m"""a\n"b" c"""\x1b\[0m/);
  assert.match(coloured, /\x1b\[33m10_000\x1b\[0m/);
  assert.match(coloured, /\x1b\[36mprint\x1b\[0m/);
});
