import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAggregateQuery } from './aggregate-query.js';

describe('isAggregateQuery: what the privacy setting may share', () => {
  const aggregates = [
    'SELECT COUNT(*) FROM t',
    'SELECT plan, AVG(fee) AS fee FROM t GROUP BY plan',
    'SELECT plan AS p, ROUND(100.0 * SUM(churned) / COUNT(*), 1) FROM t GROUP BY 1',
    'SELECT p, COUNT(DISTINCT id) FROM t GROUP BY p ORDER BY 2 DESC',
    'SELECT city, plan, MEDIAN(fee), STDDEV(fee) FROM t GROUP BY city, plan',
    'WITH x AS (SELECT * FROM t) SELECT COUNT(*) FROM x',
    'SELECT COUNT(*) FROM t UNION ALL SELECT COUNT(*) FROM u',
    'SELECT quantile_cont(fee, 0.5) FROM t',
  ];
  for (const sql of aggregates) test(`aggregate: ${sql}`, () => assert.equal(isAggregateQuery(sql, 'duckdb'), true));

  const rows = [
    'SELECT * FROM t',
    'SELECT city, fee FROM t',
    'SELECT fee, COUNT(*) FROM t',
    'SELECT plan, fee FROM t GROUP BY plan',
    'SELECT STRING_AGG(name, \',\') FROM t',
    'SELECT ARRAY_AGG(name) FROM t GROUP BY city',
    'SELECT SUM(fee) OVER () FROM t',
    'SELECT COUNT(*) FROM t UNION ALL SELECT name FROM t',
    'SELECT (SELECT name FROM t LIMIT 1), COUNT(*) FROM t',
    'not sql at all',
    'SELECT 1; SELECT 2',
  ];
  for (const sql of rows) test(`rows: ${sql}`, () => assert.equal(isAggregateQuery(sql, 'duckdb'), false));

  test('MySQL and PostgreSQL quoting', () => {
    assert.equal(isAggregateQuery('SELECT `plan`, COUNT(*) FROM `t` GROUP BY `plan`', 'mysql'), true);
    assert.equal(isAggregateQuery('SELECT "plan", AVG("fee") FROM "t" GROUP BY "plan"', 'postgres'), true);
    assert.equal(isAggregateQuery('SELECT "name" FROM "t"', 'postgres'), false);
  });
});
