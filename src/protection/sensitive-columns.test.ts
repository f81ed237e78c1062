import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ColumnEntry, Sensitivity, TableEntry } from '../dictionary/dictionary.js';
import * as duckdbCases from '../guard/cases/duckdb.js';
import * as mysqlCases from '../guard/cases/mysql.js';
import * as postgresCases from '../guard/cases/postgres.js';
import { parseStatements } from '../guard/parser.js';
import type { DataSource, SqlDialect, SqlValue } from '../sources/source.js';
import { useTestSource } from '../sources/testing/test-source.js';
import { traceQuery } from './query-lineage.js';
import { judgeSensitiveColumns, maskedIndexes, maskRows, maskValue } from './sensitive-columns.js';
import type { SchemaTable, SensitiveColumnVerdict } from './sensitive-columns.js';
import { createSensitivityCatalog } from './sensitivity-catalog.js';

function column(name: string, sensitivity: Sensitivity = 'public'): ColumnEntry {
  return { name, synonyms: [], values: [], sensitivity };
}

function table(name: string, columns: ColumnEntry[]): TableEntry {
  return { name, synonyms: [], primaryKey: [], columns };
}

/** users(id, name, ssn R, salary C, region, email R, "Birth Date" C); orders(id, user_id, amount, card C); archive is only in the dictionary. */
const dictionary = {
  tables: [
    table('users', [
      column('id'), column('name'), column('ssn', 'restricted'), column('salary', 'confidential'),
      column('region', 'internal'), column('email', 'restricted'), column('Birth Date', 'confidential'),
    ]),
    table('orders', [column('id'), column('user_id'), column('amount'), column('card', 'confidential')]),
    table('regions', [column('code'), column('label')]),
    table('archive', [column('id'), column('note', 'confidential')]),
    table('vault', [column('id'), column('secret', 'restricted')]),
  ],
};

const tables: SchemaTable[] = [
  { name: 'users', columns: ['id', 'name', 'ssn', 'salary', 'region', 'email', 'Birth Date'].map((name) => ({ name })) },
  { name: 'orders', columns: ['id', 'user_id', 'amount', 'card'].map((name) => ({ name })) },
  { name: 'regions', columns: ['code', 'label'].map((name) => ({ name })) },
];

const advice = 'COUNT(DISTINCT column)';

function judge(sql: string, dialect: SqlDialect = 'duckdb'): SensitiveColumnVerdict {
  return judgeSensitiveColumns(sql, dialect, dictionary, tables);
}

function allowed(sql: string, dialect: SqlDialect = 'duckdb'): SensitiveColumnVerdict {
  const verdict = judge(sql, dialect);
  assert.equal(verdict.allowed, true, `refused in ${dialect}: ${sql}\n${verdict.reason}`);
  assert.equal(verdict.reason, undefined);
  return verdict;
}

/** Asserts a refusal whose reason names every given `table.column`; returns the reason. */
function refused(sql: string, mentions: readonly string[], dialect: SqlDialect = 'duckdb'): string {
  const verdict = judge(sql, dialect);
  assert.equal(verdict.allowed, false, `allowed in ${dialect}: ${sql}`);
  const reason = verdict.reason ?? '';
  for (const mention of mentions) assert.ok(reason.includes(mention), `reason for ${sql} does not name ${mention}: ${reason}`);
  return reason;
}

/** The masked columns as [index, name, sources]. */
function masks(verdict: SensitiveColumnVerdict): [number, string, string[]][] {
  return verdict.masked.map((masked) => [masked.index, masked.name, masked.sources]);
}

describe('restricted columns', () => {
  test('may be counted, plainly or distinctly', () => {
    for (const sql of [
      'SELECT COUNT(ssn) FROM users',
      'SELECT COUNT(DISTINCT ssn) AS people FROM users',
      'SELECT count(distinct u.ssn) FROM users u',
      'SELECT COUNT((ssn)) FROM users',
      'SELECT COUNT(DISTINCT ssn, email) FROM users',
      'SELECT COUNT(main.users.ssn) FROM main.users',
      'SELECT COUNT(*) FROM users',
      'SELECT region, COUNT(DISTINCT ssn) AS n FROM users GROUP BY region HAVING COUNT(DISTINCT ssn) > 2 ORDER BY n DESC',
      "SELECT COUNT(ssn) FILTER (WHERE region = 'north') FROM users",
      'SELECT region, COUNT(ssn) OVER (PARTITION BY region) FROM users',
      'SELECT name FROM users LIMIT (SELECT COUNT(ssn) FROM users)',
    ]) {
      assert.deepEqual(allowed(sql).masked, [], sql);
    }
  });

  test('may be tested with IS NULL and IS NOT NULL, anywhere', () => {
    allowed('SELECT name FROM users WHERE ssn IS NULL');
    allowed('SELECT name FROM users WHERE ssn IS NOT NULL AND (email) IS NULL');
    allowed('SELECT ssn IS NULL AS missing, COUNT(*) FROM users GROUP BY 1');
    allowed('SELECT CASE WHEN ssn IS NULL THEN 0 ELSE 1 END AS known FROM users');
    allowed('SELECT COUNT(*) FILTER (WHERE ssn IS NULL) FROM users');
    allowed('SELECT name FROM users WHERE NOT ssn IS NULL');
    allowed('SELECT name FROM users WHERE ssn NOTNULL', 'postgres');
    allowed('SELECT COUNT(*) FROM users u JOIN orders o ON o.user_id = u.id AND u.ssn IS NOT NULL');
  });

  test('are refused in the select list, however written', () => {
    refused('SELECT ssn FROM users', ['users.ssn', advice]);
    refused('SELECT name, ssn AS number FROM users', ['users.ssn']);
    refused('SELECT u.ssn FROM users AS u', ['users.ssn']);
    refused('SELECT main.users.ssn FROM main.users', ['users.ssn']);
    refused('SELECT lower(ssn) FROM users', ['users.ssn']);
    refused("SELECT ssn || '' FROM users", ['users.ssn']);
    refused('SELECT CAST(ssn AS VARCHAR) FROM users', ['users.ssn']);
    refused('SELECT ssn::text FROM users', ['users.ssn'], 'postgres');
    refused("SELECT CASE WHEN region = 'x' THEN ssn END FROM users", ['users.ssn']);
    refused('SELECT substr(ssn, 1, 3) AS prefix, COUNT(*) FROM users GROUP BY 1', ['users.ssn']);
    refused('SELECT (SELECT ssn FROM users LIMIT 1) AS one', ['users.ssn']);
    refused('SELECT MIN(ssn) FROM users', ['users.ssn']);
    refused('SELECT string_agg(email, \',\') FROM users', ['users.email']);
    refused('SELECT ssn IS NOT DISTINCT FROM NULL FROM users', ['users.ssn'], 'postgres');
    refused("SELECT (ssn = '1') IS NULL FROM users", ['users.ssn']);
  });

  test('are refused as a whole row, which carries every column', () => {
    refused('SELECT u FROM users u', ['users.ssn', 'users.email']);
    refused('SELECT users FROM users', ['users.ssn']);
    refused('SELECT row_to_json(u) FROM users u', ['users.ssn'], 'postgres');
    refused('SELECT (u).ssn FROM users u', ['users.ssn'], 'postgres');
  });

  test('are refused when named by DuckDB position, #n', () => {
    refused('SELECT #3 FROM users', ['users.ssn']);
    refused('SELECT COUNT(*) FROM (SELECT name, ssn FROM users ORDER BY #2 LIMIT 1)', ['users.ssn', 'ORDER BY']);
    allowed('SELECT COUNT(#3) FROM users');
    assert.deepEqual(masks(allowed('SELECT #4 FROM users')), [[0, 'salary', ['users.salary']]]);
  });

  test('are refused in WHERE: a comparison answers a guess, so repeated ones find the value', () => {
    refused("SELECT name FROM users WHERE ssn = '123-45-6789'", ['users.ssn', 'WHERE']);
    refused("SELECT COUNT(*) FROM users WHERE ssn < '5'", ['users.ssn', 'WHERE']);
    refused("SELECT name FROM users WHERE ssn LIKE '1%'", ['users.ssn']);
    refused("SELECT name FROM users WHERE ssn IN ('1', '2')", ['users.ssn']);
    refused("SELECT name FROM users WHERE ssn BETWEEN '1' AND '2'", ['users.ssn']);
    refused("SELECT name FROM users WHERE ssn IN (SELECT '1')", ['users.ssn']);
    refused('SELECT name FROM users WHERE id IN (SELECT ssn FROM users)', ['users.ssn']);
    refused("SELECT name FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND u.ssn = '1')", ['users.ssn']);
    refused("SELECT COUNT(*) FROM users WHERE coalesce(ssn, '') = ''", ['users.ssn']);
    refused('SELECT COUNT(ssn) FILTER (WHERE ssn > 5) FROM users', ['users.ssn']);
  });

  test('are refused in GROUP BY, ORDER BY, HAVING, QUALIFY, DISTINCT ON and windows', () => {
    refused('SELECT COUNT(*) FROM users GROUP BY ssn', ['users.ssn', 'GROUP BY']);
    refused('SELECT COUNT(*) FROM (SELECT ssn, COUNT(*) FROM users GROUP BY 1)', ['users.ssn', 'GROUP BY']);
    refused('SELECT COUNT(*) FROM (SELECT ssn, COUNT(*) FROM users GROUP BY ALL)', ['users.ssn', 'GROUP BY']);
    refused('SELECT name FROM users ORDER BY ssn', ['users.ssn', 'ORDER BY']);
    refused('SELECT COUNT(*) FROM (SELECT ssn FROM users ORDER BY 1 LIMIT 1)', ['users.ssn', 'ORDER BY']);
    refused('SELECT COUNT(*) FROM (SELECT ssn FROM users ORDER BY ALL LIMIT 1)', ['users.ssn', 'ORDER BY']);
    refused("SELECT region FROM users GROUP BY region HAVING MAX(ssn) > '5'", ['users.ssn', 'HAVING']);
    refused('SELECT name FROM users QUALIFY row_number() OVER (ORDER BY ssn) = 1', ['users.ssn']);
    refused('SELECT DISTINCT ON (ssn) name FROM users', ['users.ssn', 'DISTINCT ON'], 'postgres');
    refused('SELECT name, rank() OVER (PARTITION BY ssn ORDER BY id) FROM users', ['users.ssn']);
    refused('SELECT name, COUNT(ssn) OVER (ORDER BY ssn) FROM users', ['users.ssn']);
    refused('SELECT COUNT(ssn || email) FROM users', ['users.ssn', 'users.email']);
  });

  test('are refused in joins: ON, USING and NATURAL all compare values', () => {
    refused('SELECT COUNT(*) FROM users a JOIN users b ON a.ssn = b.ssn', ['users.ssn', 'JOIN … ON']);
    refused("SELECT COUNT(*) FROM users u JOIN (SELECT '1' AS k) v ON u.ssn = v.k", ['users.ssn']);
    refused("SELECT COUNT(*) FROM users JOIN (SELECT '1' AS ssn) v USING (ssn)", ['users.ssn', 'USING']);
    refused('SELECT a.name FROM users a NATURAL JOIN users b', ['users.ssn', 'NATURAL JOIN']);
  });

  test('are refused in set operations that compare rows or mix them with other values', () => {
    refused('SELECT name FROM users UNION SELECT ssn FROM users', ['users.ssn', 'UNION']);
    refused("SELECT COUNT(*) FROM (SELECT ssn FROM users INTERSECT SELECT '123-45-6789')", ['users.ssn', 'INTERSECT']);
    refused('SELECT COUNT(*) FROM (SELECT ssn FROM users EXCEPT SELECT email FROM users)', ['users.ssn', 'EXCEPT']);
    refused("SELECT COUNT(DISTINCT x) FROM (SELECT ssn AS x FROM users UNION ALL SELECT '123-45-6789')", ['users.ssn', 'UNION ALL']);
    refused("SELECT COUNT(DISTINCT x) FROM (VALUES ((SELECT ssn FROM users LIMIT 1)), ('1')) v(x)", ['users.ssn', 'VALUES']);
    // Only restricted values at a position, and no comparison: the count reveals nothing new.
    allowed('SELECT COUNT(DISTINCT x) FROM (SELECT ssn AS x FROM users UNION ALL SELECT email FROM users)');
  });

  test('flow unchanged through CTEs, derived tables and renames, and are judged where used', () => {
    allowed('WITH u AS (SELECT ssn FROM users) SELECT COUNT(DISTINCT ssn) FROM u');
    allowed('SELECT COUNT(k) FROM (SELECT ssn FROM users) AS d(k)');
    allowed('SELECT COUNT(x) FROM (SELECT x FROM (SELECT ssn AS x FROM users) a) b WHERE x IS NOT NULL');
    refused('WITH u AS (SELECT ssn FROM users) SELECT ssn FROM u', ['users.ssn']);
    refused('WITH c(x) AS (SELECT ssn FROM users) SELECT x FROM c', ['users.ssn']);
    refused('SELECT k FROM (SELECT ssn FROM users) AS d(k)', ['users.ssn']);
    refused('SELECT y FROM (SELECT x AS y FROM (SELECT ssn AS x FROM users) a) b', ['users.ssn']);
    refused("WITH u AS (SELECT ssn AS x FROM users) SELECT COUNT(*) FROM u WHERE x > '5'", ['users.ssn', 'WHERE']);
    refused('SELECT d.x FROM (SELECT name AS x FROM users UNION ALL SELECT ssn FROM users) d', ['users.ssn']);
    refused('SELECT COUNT(*) FROM users u, LATERAL (SELECT 1 AS k WHERE u.ssn = \'1\') x', ['users.ssn']);
  });

  test('flow through recursive CTEs until their lineage settles', () => {
    const recursive = 'WITH RECURSIVE r(n, s) AS (SELECT 1, ssn FROM users UNION ALL SELECT n + 1, s FROM r WHERE n < 3)';
    allowed(`${recursive} SELECT COUNT(s) FROM r`, 'postgres');
    refused(`${recursive} SELECT s FROM r`, ['users.ssn'], 'postgres');
    const anchor = 'WITH RECURSIVE r(n, s) AS (SELECT 1, ssn FROM users UNION ALL';
    refused(`${anchor} SELECT n + 1, 'x' FROM r WHERE n < 3) SELECT COUNT(s) FROM r`, ['users.ssn'], 'postgres');
    refused(`${anchor} SELECT n + 1, s FROM r WHERE s > '1') SELECT COUNT(s) FROM r`, ['users.ssn', 'WHERE'], 'postgres');
  });

  test('a select-list alias used in a clause is still the restricted column', () => {
    refused("SELECT COUNT(*) FROM (SELECT ssn AS x FROM users WHERE x = '1')", ['users.ssn', 'WHERE']);
    refused('SELECT COUNT(*) FROM (SELECT ssn AS x FROM users ORDER BY x LIMIT 3)', ['users.ssn', 'ORDER BY']);
  });

  test('may be read inside EXISTS, whose select list never comes out', () => {
    allowed('SELECT name FROM users WHERE EXISTS (SELECT * FROM users)');
    allowed('SELECT name, EXISTS (SELECT ssn FROM users u2 WHERE u2.id = users.id) AS has_row FROM users');
  });

  test('names are matched ignoring case and quotes, in every dialect', () => {
    refused('SELECT SSN FROM USERS', ['users.ssn']);
    refused('SELECT "SSN" FROM "Users"', ['users.ssn'], 'postgres');
    refused('SELECT u."Ssn" FROM public.users AS u', ['users.ssn'], 'postgres');
    refused('SELECT `SSN` FROM `users`', ['users.ssn'], 'mysql');
    refused('SELECT `u`.`Email` FROM `users` AS `u`', ['users.email'], 'mysql');
    allowed('SELECT COUNT(`ssn`) FROM `users`', 'mysql');
  });

  test('an unresolvable name counts as every sensitive column of that name in the query', () => {
    refused('SELECT x.ssn FROM mystery x JOIN users u ON u.id = x.id', ['users.ssn']);
    refused('SELECT ssn FROM mystery, users', ['users.ssn']);
    // No table the query names has an `ssn`: nothing sensitive can be reached.
    allowed('SELECT ssn FROM mystery');
  });

  test('a star over anything exposing a restricted column is refused, naming what to select instead', () => {
    const reason = refused('SELECT * FROM users', ['users.ssn', 'users.email']);
    assert.ok(reason.includes('id, name, salary, region, Birth Date'), reason);
    refused('SELECT u.* FROM users u', ['u.*', 'users.ssn']);
    refused('SELECT t.* FROM users t', ['users.ssn'], 'mysql');
    refused('SELECT * FROM users u JOIN orders o ON o.user_id = u.id', ['users.ssn']);
    refused('WITH u AS (SELECT * FROM users) SELECT * FROM u', ['users.ssn', 'users.email']);
    refused('SELECT d.* FROM (SELECT id, ssn FROM users) d', ['users.ssn']);
    refused('SELECT * FROM users UNION ALL SELECT * FROM users', ['users.ssn']);
    refused('SELECT * FROM vault', ['vault.secret']);
    refused('SELECT * FROM (FROM users)', ['users.ssn']);
    refused('FROM users', ['users.ssn']);
    refused('SELECT * FROM users AS u(a, b, c)', ['users.ssn']);
    refused('SELECT * FROM users UNION BY NAME SELECT * FROM users', ['users.ssn']);
  });

  test('a star that leaves the restricted columns out, or stays inside the database, is allowed', () => {
    allowed('SELECT * EXCLUDE (ssn, email) FROM users');
    allowed('SELECT COUNT(*) FROM (SELECT * FROM users)');
    allowed('WITH u AS (SELECT * FROM users) SELECT COUNT(DISTINCT email) FROM u');
    allowed('SELECT * FROM orders');
  });

  test('DuckDB REPLACE and RENAME on a star are followed', () => {
    refused("SELECT * EXCLUDE (email) REPLACE (lower(ssn) AS ssn) FROM users", ['users.ssn']);
    allowed("SELECT * EXCLUDE (ssn, email) RENAME (name AS full_name) FROM users");
  });
});

describe('confidential columns', () => {
  test('are masked where they come out, by position, name and source', () => {
    assert.deepEqual(masks(allowed('SELECT name, salary FROM users')), [[1, 'salary', ['users.salary']]]);
    assert.deepEqual(masks(allowed('SELECT salary AS pay, name FROM users')), [[0, 'pay', ['users.salary']]]);
    assert.deepEqual(masks(allowed('SELECT u.name, o.card FROM users u JOIN orders o ON o.user_id = u.id')), [[1, 'card', ['orders.card']]]);
    assert.deepEqual(masks(allowed('SELECT salary * 12 AS yearly, salary + o.amount AS mixed FROM users, orders o')), [
      [0, 'yearly', ['users.salary']],
      [1, 'mixed', ['users.salary']],
    ]);
  });

  test('aggregates other than COUNT are still derived values, and are masked', () => {
    const verdict = allowed(
      "SELECT region, MIN(salary) AS a, MAX(salary) AS b, AVG(salary) AS c, SUM(salary) AS d, any_value(card) AS e, string_agg(card, ',') AS f "
        + 'FROM users, orders GROUP BY region',
    );
    assert.deepEqual(verdict.masked.map((masked) => masked.index), [1, 2, 3, 4, 5, 6]);
  });

  test('counts and null tests of them are not masked', () => {
    assert.deepEqual(allowed('SELECT COUNT(salary), COUNT(DISTINCT salary), COUNT(CASE WHEN salary > 10 THEN 1 END) FROM users').masked, []);
    // Decision: IS NULL reveals presence only, which restricted columns may already show.
    assert.deepEqual(allowed('SELECT salary IS NULL AS unpaid, COUNT(*) FROM users GROUP BY 1').masked, []);
  });

  test('filtering, grouping and sorting on them is allowed and masks nothing: the value does not come out', () => {
    assert.deepEqual(allowed('SELECT name FROM users WHERE salary > 100000').masked, []);
    assert.deepEqual(allowed('SELECT name FROM users ORDER BY salary DESC LIMIT 3').masked, []);
    assert.deepEqual(allowed('SELECT COUNT(*) AS n FROM users GROUP BY salary').masked, []);
    assert.deepEqual(allowed('SELECT name FROM users u JOIN orders o ON o.card = u.name').masked, []);
    assert.deepEqual(allowed("SELECT name FROM users WHERE id IN (SELECT user_id FROM orders WHERE card LIKE '4%')").masked, []);
  });

  test('any reference inside an expression masks it: CASE, CAST, windows, subqueries', () => {
    assert.deepEqual(masks(allowed("SELECT CASE WHEN salary > 10 THEN 'high' ELSE 'low' END AS band FROM users")), [[0, 'band', ['users.salary']]]);
    assert.deepEqual(masks(allowed('SELECT CAST(salary AS VARCHAR) FROM users')), [[0, 'salary', ['users.salary']]]);
    assert.deepEqual(masks(allowed('SELECT name, rank() OVER (ORDER BY salary) AS position FROM users')), [[1, 'position', ['users.salary']]]);
    const scalar = 'SELECT name, (SELECT MAX(card) FROM orders o WHERE o.user_id = u.id) AS top_card FROM users u';
    assert.deepEqual(masks(allowed(scalar)), [[1, 'top_card', ['orders.card']]]);
  });

  test('propagate through CTEs, derived tables, column aliases and nesting', () => {
    assert.deepEqual(masks(allowed('SELECT s FROM (SELECT salary AS s FROM users) d')), [[0, 's', ['users.salary']]]);
    assert.deepEqual(masks(allowed('WITH t(pay) AS (SELECT salary FROM users) SELECT pay FROM t')), [[0, 'pay', ['users.salary']]]);
    const chained = 'WITH a AS (SELECT id, salary FROM users), b AS (SELECT id, salary * 2 AS doubled FROM a) SELECT b.* FROM b';
    assert.deepEqual(masks(allowed(chained)), [[1, 'doubled', ['users.salary']]]);
    assert.deepEqual(masks(allowed('SELECT x.k FROM (SELECT y.v AS k FROM (SELECT card AS v FROM orders) y) x')), [[0, 'k', ['orders.card']]]);
  });

  test('in a set operation, a position is masked when any branch is confidential there', () => {
    assert.deepEqual(masks(allowed('SELECT amount FROM orders UNION ALL SELECT salary FROM users')), [[0, 'amount', ['users.salary']]]);
    assert.deepEqual(masks(allowed('SELECT id, name FROM users UNION SELECT id, card FROM orders ORDER BY 2')), [[1, 'name', ['orders.card']]]);
  });

  test('stars expand to the columns in order, masking the confidential ones', () => {
    assert.deepEqual(masks(allowed('SELECT * FROM orders')), [[3, 'card', ['orders.card']]]);
    assert.deepEqual(masks(allowed('SELECT o.*, u.salary FROM orders o JOIN users u ON u.id = o.user_id')), [
      [3, 'card', ['orders.card']],
      [4, 'salary', ['users.salary']],
    ]);
    assert.deepEqual(masks(allowed('SELECT * EXCLUDE (ssn, email) FROM users')).map(([index, name]) => [index, name]), [[2, 'salary'], [4, 'Birth Date']]);
  });

  test('USING merges the join columns: first in PostgreSQL and MySQL, in place in DuckDB', () => {
    const sql = 'SELECT * FROM (SELECT name, salary, id FROM users) u JOIN (SELECT user_id AS id, card FROM orders) o USING (id)';
    assert.deepEqual(masks(allowed(sql, 'postgres')).map(([index, name]) => [index, name]), [[2, 'salary'], [3, 'card']]);
    assert.deepEqual(masks(allowed(sql, 'mysql')).map(([index, name]) => [index, name]), [[2, 'salary'], [3, 'card']]);
    assert.deepEqual(masks(allowed(sql, 'duckdb')).map(([index, name]) => [index, name]), [[1, 'salary'], [3, 'card']]);
  });

  test('names follow each dialect: quoted identifiers, folding and DuckDB lateral aliases', () => {
    assert.deepEqual(masks(allowed('SELECT "Birth Date", SALARY FROM users', 'postgres')), [
      [0, 'Birth Date', ['users.Birth Date']],
      [1, 'salary', ['users.salary']],
    ]);
    assert.deepEqual(masks(allowed('SELECT `Birth Date`, SALARY FROM users', 'mysql')).map(([, name]) => name), ['Birth Date', 'SALARY']);
    assert.deepEqual(masks(allowed('SELECT SALARY FROM users')).map(([, name]) => name), ['salary']);
    assert.deepEqual(masks(allowed('SELECT salary AS s, s * 2 AS doubled FROM users')).map(([index]) => index), [0, 1]);
  });

  test('when a star of unknown width comes first, everything from it on is masked', () => {
    const after = allowed('SELECT m.*, salary FROM users, mystery m');
    assert.equal(after.maskFrom, 0);
    assert.deepEqual(maskedIndexes(after, 4), [0, 1, 2, 3]);
    const before = allowed('SELECT salary, m.* FROM users, mystery m');
    assert.equal(before.maskFrom, undefined);
    assert.deepEqual(maskedIndexes(before, 4), [0]);
    // A table only the dictionary knows: its star has unknown width.
    assert.equal(allowed('SELECT id, * FROM archive').maskFrom, 1);
    assert.deepEqual(allowed('SELECT id, note FROM archive').masked.map((masked) => masked.index), [1]);
  });
});

describe('what the check cannot read', () => {
  test('text the parser cannot read is refused', () => {
    const reason = refused('SELECT ssn FROM users WHERE', []);
    assert.ok(reason.includes('parser could not read'), reason);
    refused('SELEKT * FROM users', ['parser']);
  });

  test('several statements are refused', () => {
    refused('SELECT COUNT(ssn) FROM users; SELECT 1', ['one statement']);
  });

  test('a statement that is not a query is refused, whatever tables it names', () => {
    refused("UPDATE users SET name = 'x'", ['not a query']);
    refused('DELETE FROM regions', ['not a query']);
    refused('SUMMARIZE users', ['not a query']);
    refused('TABLE users', ['not a query'], 'postgres');
  });

  test('a query naming no sensitive table is allowed at once', () => {
    assert.deepEqual(judge('SELECT * FROM regions'), { allowed: true, masked: [] });
    assert.deepEqual(judge('SELECT label, COUNT(*) FROM regions GROUP BY 1'), { allowed: true, masked: [] });
  });

  test('a query nested too deeply is refused, not allowed', () => {
    const depth = 3000;
    assert.equal(judge(`SELECT ${'('.repeat(depth)}salary${')'.repeat(depth)} FROM users`).allowed, false);
    assert.equal(judge(`SELECT COUNT(*) FROM ${'(SELECT * FROM '.repeat(depth)}users${') x'.repeat(depth)}`).allowed, false);
  });

  test('a long chain of conditions is followed to its end', () => {
    const conditions = Array.from({ length: 2000 }, (_, index) => `id = ${index}`).join(' OR ');
    refused(`SELECT name FROM users WHERE ${conditions} OR ssn = '1'`, ['users.ssn', 'WHERE']);
  });

  test('every legitimate query of the guard corpora is checked without a refusal when nothing is restricted', () => {
    const guardDictionary = {
      tables: [
        table('guard_customers', [column('id'), column('name', 'confidential'), column('region'), column('signup'), column('vip')]),
        table('guard_orders', [column('id'), column('customer_id'), column('amount', 'confidential'), column('ordered_at'), column('status')]),
      ],
    };
    const guardTables: SchemaTable[] = [
      { name: 'guard_customers', columns: ['id', 'name', 'region', 'signup', 'vip'].map((name) => ({ name })) },
      { name: 'guard_orders', columns: ['id', 'customer_id', 'amount', 'ordered_at', 'status'].map((name) => ({ name })) },
    ];
    const corpora = { duckdb: duckdbCases.legitimate, mysql: mysqlCases.legitimate, postgres: postgresCases.legitimate };
    for (const [dialect, queries] of Object.entries(corpora) as [SqlDialect, readonly string[]][]) {
      for (const sql of queries) {
        const verdict = judgeSensitiveColumns(sql, dialect, guardDictionary, guardTables);
        assert.equal(verdict.allowed, true, `${dialect}: ${sql}: ${verdict.reason}`);
      }
    }
  });
});

describe('maskValue and maskRows', () => {
  test('a pseudonym is stable for a value and salt, and differs with the salt', () => {
    const first = maskValue('Alice', 'salt-a');
    assert.equal(first, maskValue('Alice', 'salt-a'));
    assert.notEqual(first, maskValue('Alice', 'salt-b'));
    assert.notEqual(first, maskValue('Bob', 'salt-a'));
    assert.match(String(first), /^‹masked:[0-9a-f]{12}›$/);
  });

  test('null stays null, and the type of a value counts', () => {
    assert.equal(maskValue(null, 'salt'), null);
    assert.notEqual(maskValue(1, 'salt'), maskValue('1', 'salt'));
    assert.notEqual(maskValue(true, 'salt'), maskValue('true', 'salt'));
    assert.equal(maskValue(2.5, 'salt'), maskValue(2.5, 'salt'));
  });

  test('maskRows masks only the given positions, keeps groups groupable and leaves its input alone', () => {
    const rows: SqlValue[][] = [
      [1, 'Alice', 5000],
      [2, 'Bob', null],
      [3, 'Alice', 7000],
    ];
    const masked = maskRows(rows, [1, 2, 9], 'salt');
    assert.deepEqual(rows[0], [1, 'Alice', 5000]);
    assert.deepEqual(masked.map((row) => row[0]), [1, 2, 3]);
    assert.equal(masked[0]?.[1], masked[2]?.[1]);
    assert.notEqual(masked[0]?.[1], masked[1]?.[1]);
    assert.equal(masked[1]?.[2], null);
    assert.equal(masked[0]?.[1], maskValue('Alice', 'salt'));
    assert.equal(maskRows(rows, [], 'salt'), rows);
  });

  test('maskedIndexes folds maskFrom in and stays within the result', () => {
    assert.deepEqual(maskedIndexes({ masked: [{ index: 1, name: 'a', sources: [] }, { index: 7, name: 'b', sources: [] }] }, 3), [1]);
    assert.deepEqual(maskedIndexes({ masked: [{ index: 0, name: 'a', sources: [] }], maskFrom: 2 }, 4), [0, 2, 3]);
  });
});

// ---- Against real databases: the traced names and masked positions line up with real results ----

const home = mkdtempSync(join(tmpdir(), 'iquery-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** The guard fixture: customers' names and order amounts confidential, the VIP flag restricted. */
const fixtureDictionary = {
  tables: [
    table('guard_customers', [column('id'), column('name', 'confidential'), column('region'), column('signup'), column('vip', 'restricted')]),
    table('guard_orders', [column('id'), column('customer_id'), column('amount', 'confidential'), column('ordered_at'), column('status')]),
  ],
};

interface RealCase {
  sql: string;
  /** Names of the result columns to be masked, in order. */
  masked: string[];
}

const realCases: RealCase[] = [
  { sql: 'SELECT * FROM guard_orders ORDER BY id', masked: ['amount'] },
  { sql: 'SELECT o.*, c.name FROM guard_orders o JOIN guard_customers c ON c.id = o.customer_id ORDER BY o.id', masked: ['amount', 'name'] },
  {
    sql: 'SELECT * FROM (SELECT name, region, id FROM guard_customers) c JOIN (SELECT amount, customer_id AS id FROM guard_orders) o USING (id) ORDER BY 1, 2',
    masked: ['name', 'amount'],
  },
  {
    sql: 'SELECT * FROM (SELECT name, id FROM guard_customers) c NATURAL JOIN (SELECT customer_id AS id, amount FROM guard_orders) o ORDER BY 1, 2',
    masked: ['name', 'amount'],
  },
  {
    sql: 'WITH t AS (SELECT customer_id, SUM(amount) AS total FROM guard_orders GROUP BY customer_id) '
      + 'SELECT c.region, t.* FROM t JOIN guard_customers c ON c.id = t.customer_id ORDER BY 2',
    masked: ['total'],
  },
  { sql: 'SELECT region AS label, id FROM guard_customers UNION ALL SELECT name, id FROM guard_customers ORDER BY 2, 1', masked: ['label'] },
  {
    sql: 'SELECT region, MAX(name) AS last_name, COUNT(DISTINCT name) AS names, COUNT(vip) AS known_vip '
      + 'FROM guard_customers WHERE vip IS NOT NULL GROUP BY region ORDER BY region',
    masked: ['last_name'],
  },
];

for (const dialect of ['duckdb', 'mysql', 'postgres'] as const) {
  describe(`${dialect}: masking lines up with real results`, () => {
    const current = useTestSource(dialect, home);
    let source: DataSource;
    let schema: SchemaTable[];
    before(async () => {
      source = current().source;
      schema = await source.listTables();
    });

    test('the traced output names are the names the database gives', async () => {
      for (const { sql } of realCases) {
        const parsed = parseStatements(sql, dialect);
        assert.ok(parsed.ok, sql);
        const statement = parsed.statements[0];
        const trace = traceQuery(statement, dialect, createSensitivityCatalog(statement, fixtureDictionary, schema));
        const result = await source.query(sql);
        assert.deepEqual(trace.outputs.map((output) => output.name), result.columns.map((resultColumn) => resultColumn.name), sql);
      }
    });

    test('exactly the confidential result columns are masked, and masked values are pseudonyms', async () => {
      for (const { sql, masked } of realCases) {
        const verdict = judgeSensitiveColumns(sql, dialect, fixtureDictionary, schema);
        assert.equal(verdict.allowed, true, `${sql}: ${verdict.reason}`);
        const result = await source.query(sql);
        const indexes = maskedIndexes(verdict, result.columns.length);
        assert.deepEqual(indexes.map((index) => result.columns[index]?.name), masked, sql);
        for (const row of maskRows(result.rows, indexes, 'test-salt')) {
          for (const index of indexes) {
            const value = row[index];
            assert.ok(value === null || (typeof value === 'string' && value.startsWith('‹masked:')), `${sql}: ${String(value)}`);
          }
        }
      }
    });

    test('selecting the restricted column is refused before it runs', () => {
      refusedWith('SELECT * FROM guard_customers', 'guard_customers.vip');
      refusedWith('SELECT name FROM guard_customers WHERE vip = true', 'guard_customers.vip');
    });

    function refusedWith(sql: string, mention: string): void {
      const verdict = judgeSensitiveColumns(sql, dialect, fixtureDictionary, schema);
      assert.equal(verdict.allowed, false, sql);
      assert.ok(verdict.reason?.includes(mention), verdict.reason);
    }
  });
}
