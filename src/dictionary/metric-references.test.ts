import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyseMetricSql } from './metric-references.js';

test('finds qualified column references in an aggregate expression', () => {
  const analysis = analyseMetricSql("AVG(CASE WHEN user_churn.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) / COUNT(DISTINCT \"user bills\".\"Amount\")");
  assert.deepEqual(analysis, {
    ok: true,
    references: [
      { table: 'user_churn', column: 'Churn' },
      { table: 'user bills', column: 'Amount' },
    ],
    hasAggregate: true,
  });
});

test('a column name inside a string is not a reference', () => {
  const analysis = analyseMetricSql("SUM(CASE WHEN orders.status = 'orders.amount' THEN 1 END)");
  assert.ok(analysis.ok);
  assert.deepEqual(analysis.references, [{ table: 'orders', column: 'status' }]);
});

test('reports unqualified columns and a missing aggregate', () => {
  const analysis = analyseMetricSql('amount * 2');
  assert.deepEqual(analysis, { ok: true, references: [{ table: undefined, column: 'amount' }], hasAggregate: false });
});

test('refuses what is not one expression', () => {
  for (const sql of ['SUM(t.a', 'SUM(t.a) FROM t', 'SUM(t.a), SUM(t.b)', 'SUM(t.a); DROP TABLE t', '(SELECT MAX(x) FROM t)']) {
    const analysis = analyseMetricSql(sql);
    assert.equal(analysis.ok, false, sql);
  }
});
