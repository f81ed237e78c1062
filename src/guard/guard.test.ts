import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import type { SqlDialect } from '../sources/source.js';
import * as duckdbCases from './cases/duckdb.js';
import * as mysqlCases from './cases/mysql.js';
import * as postgresCases from './cases/postgres.js';
import { assertReadOnlySql, inspectSql, maxSqlBytes } from './guard.js';
import { taggedNodes } from './walk.js';

const corpora: Record<SqlDialect, { hostile: readonly string[]; legitimate: readonly string[] }> = {
  duckdb: duckdbCases,
  mysql: mysqlCases,
  postgres: postgresCases,
};

const queryKinds = ['SELECT', 'UNION', 'INTERSECT', 'EXCEPT', 'VALUES'];

function refusal(sql: string, dialect: SqlDialect): { kind: string; reason: string } {
  const verdict = inspectSql(sql, dialect);
  assert.equal(verdict.allowed, false, `allowed in ${dialect}: ${JSON.stringify(sql)}`);
  return { kind: verdict.kind, reason: verdict.reason ?? '' };
}

function assertAllowed(sql: string, dialect: SqlDialect): void {
  const verdict = inspectSql(sql, dialect);
  assert.equal(verdict.allowed, true, `refused in ${dialect}: ${JSON.stringify(sql)}: ${verdict.reason}`);
  assert.equal(verdict.reason, undefined);
}

for (const [dialect, corpus] of Object.entries(corpora) as [SqlDialect, (typeof corpora)[SqlDialect]][]) {
  describe(`${dialect} corpus`, () => {
    test('is large enough to mean something', () => {
      assert.ok(corpus.hostile.length >= 45, `${corpus.hostile.length} hostile statements`);
      assert.ok(corpus.legitimate.length >= 25, `${corpus.legitimate.length} legitimate queries`);
    });

    test('every hostile statement is refused with a kind and a reason', () => {
      for (const sql of corpus.hostile) {
        const { kind, reason } = refusal(sql, dialect);
        assert.ok(kind.length > 0 && kind === kind.toUpperCase(), `kind ${JSON.stringify(kind)} for ${JSON.stringify(sql)}`);
        assert.ok(reason.length > 20 && reason.endsWith('.'), `reason ${JSON.stringify(reason)} for ${JSON.stringify(sql)}`);
      }
    });

    test('every legitimate query is allowed as a query', () => {
      for (const sql of corpus.legitimate) {
        assertAllowed(sql, dialect);
        assert.ok(queryKinds.includes(inspectSql(sql, dialect).kind), sql);
      }
    });
  });
}

describe('assertReadOnlySql', () => {
  test('throws sql_refused naming the statement kind, with a hint', () => {
    assert.throws(
      () => assertReadOnlySql('DELETE FROM guard_orders', 'postgres'),
      (error: unknown) => {
        assert.ok(error instanceof IqueryError);
        assert.equal(error.code, 'sql_refused');
        assert.equal(error.message, 'Refused DELETE statement: iquery only runs read-only queries (SELECT, WITH … SELECT, VALUES).');
        assert.ok((error.hint ?? '').length > 0);
        assert.deepEqual(error.details, { kind: 'DELETE', dialect: 'postgres' });
        return true;
      },
    );
  });

  test('names other kinds in the message too', () => {
    const cases: [string, SqlDialect, string][] = [
      ['SET search_path = public', 'postgres', 'SET'],
      ["COPY guard_orders TO '/tmp/x.csv'", 'duckdb', 'COPY'],
      ['CREATE TEMP TABLE t AS SELECT 1', 'postgres', 'CREATE TABLE'],
      ['LOCK TABLES guard_orders WRITE', 'mysql', 'LOCK TABLES'],
      ['SELECT 1; DROP TABLE guard_orders', 'mysql', 'MULTIPLE'],
      ["SELECT * FROM guard_orders INTO OUTFILE '/tmp/x'", 'mysql', 'UNPARSEABLE'],
    ];
    for (const [sql, dialect, kind] of cases) {
      assert.throws(() => assertReadOnlySql(sql, dialect), (error: unknown) => {
        assert.ok(error instanceof IqueryError && error.code === 'sql_refused');
        assert.ok(error.message.startsWith(`Refused ${kind} statement: `), error.message);
        return true;
      });
    }
  });

  test('returns quietly for a query', () => {
    assert.doesNotThrow(() => assertReadOnlySql('WITH t AS (SELECT 1 AS a) SELECT a FROM t', 'duckdb'));
  });
});

describe('statement kinds', () => {
  test('a query is named by its kind', () => {
    assert.deepEqual(inspectSql('SELECT 1', 'postgres'), { allowed: true, kind: 'SELECT' });
    assert.deepEqual(inspectSql("VALUES (1, 'a')", 'postgres'), { allowed: true, kind: 'VALUES' });
    assert.deepEqual(inspectSql('(SELECT 1 UNION SELECT 2)', 'mysql'), { allowed: true, kind: 'UNION' });
  });

  test('refused statements are named in SQL words', () => {
    assert.equal(refusal('SET memory_limit = \'1GB\'', 'duckdb').kind, 'SET');
    assert.equal(refusal('REPLACE INTO guard_orders VALUES (1)', 'mysql').kind, 'REPLACE');
    assert.equal(refusal('CHECKPOINT', 'duckdb').kind, 'CHECKPOINT');
    assert.equal(refusal('VACUUM guard_orders', 'postgres').kind, 'VACUUM');
    assert.equal(refusal('START TRANSACTION', 'mysql').kind, 'START TRANSACTION');
    assert.equal(refusal("CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')", 'duckdb').kind, 'CREATE SECRET');
    assert.equal(refusal('/* first */ DROP /* then */ TABLE guard_orders', 'postgres').kind, 'DROP TABLE');
  });

  test('several statements are refused as MULTIPLE, naming each', () => {
    const { kind, reason } = refusal('SELECT 1; DROP TABLE guard_orders', 'duckdb');
    assert.equal(kind, 'MULTIPLE');
    assert.match(reason, /SELECT, DROP TABLE/);
  });

  test('one trailing semicolon is still one statement', () => {
    assertAllowed('SELECT 1;', 'postgres');
  });

  test('text the parser cannot read is UNPARSEABLE, with the first words named when they help', () => {
    const { kind, reason } = refusal('LOAD httpfs', 'duckdb');
    assert.equal(kind, 'UNPARSEABLE');
    assert.match(reason, /starts with LOAD/);
    assert.match(refusal("SELECT * FROM guard_orders INTO DUMPFILE '/tmp/x'", 'mysql').reason, /INTO DUMPFILE/);
    assert.equal(refusal('SELEKT 1', 'postgres').kind, 'UNPARSEABLE');
  });

  test('empty text, bare comments and oversized text are refused', () => {
    assert.equal(refusal('', 'mysql').kind, 'EMPTY');
    assert.equal(refusal(' \n\t', 'mysql').kind, 'EMPTY');
    assert.equal(refusal('-- nothing here', 'postgres').kind, 'EMPTY');
    const huge = `SELECT '${'x'.repeat(maxSqlBytes)}'`;
    assert.equal(refusal(huge, 'duckdb').kind, 'TOO_LARGE');
  });
});

describe('tricky cases', () => {
  test('DML hidden in a CTE is refused and named', () => {
    const { kind, reason } = refusal('WITH gone AS (DELETE FROM guard_orders RETURNING *) SELECT * FROM gone', 'postgres');
    assert.equal(kind, 'DELETE');
    assert.match(reason, /WITH clause/);
    assert.equal(refusal('WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x', 'duckdb').kind, 'INSERT');
  });

  test('row locks are refused, FOR SHARE included, also in a subquery', () => {
    assert.equal(refusal('SELECT * FROM guard_orders FOR UPDATE', 'postgres').kind, 'SELECT FOR UPDATE');
    assert.equal(refusal('SELECT * FROM guard_orders FOR SHARE', 'postgres').kind, 'SELECT FOR SHARE');
    assert.equal(refusal('SELECT * FROM guard_orders LOCK IN SHARE MODE', 'mysql').kind, 'SELECT FOR SHARE');
    assert.equal(refusal('SELECT * FROM (SELECT * FROM guard_orders FOR UPDATE) AS x', 'postgres').kind, 'SELECT FOR UPDATE');
  });

  test('SELECT … INTO is refused', () => {
    assert.equal(refusal('SELECT * INTO guard_copy FROM guard_orders', 'postgres').kind, 'SELECT INTO');
    assert.equal(refusal('SELECT id INTO @x FROM guard_orders LIMIT 1', 'mysql').kind, 'SELECT INTO');
  });

  test('MySQL executable comments are refused, optimizer hints are not', () => {
    assert.match(refusal('SELECT /*! 1; DROP TABLE guard_orders */ 1', 'mysql').reason, /executable comment/);
    assert.match(refusal('SELECT /*M! 1 */ 1', 'mysql').reason, /executable comment/);
    assertAllowed('SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1', 'mysql');
  });

  test('keywords inside strings and comments are harmless', () => {
    for (const dialect of ['duckdb', 'mysql', 'postgres'] as const) {
      assertAllowed("SELECT 'DROP TABLE t' AS text", dialect);
      assertAllowed('SELECT 1 -- ; DELETE FROM guard_orders', dialect);
      assertAllowed('SELECT 1 /* ; DELETE FROM guard_orders */', dialect);
    }
  });

  test('DuckDB: a string-literal table is a file, a quoted identifier is a table unless it looks like a file', () => {
    assert.match(refusal("SELECT * FROM '/etc/passwd'", 'duckdb').reason, /file or URL/);
    assert.match(refusal("SELECT * FROM 'guard_orders'", 'duckdb').reason, /file or URL/);
    assertAllowed('SELECT * FROM "guard_orders"', 'duckdb');
    assert.match(refusal('SELECT * FROM "data.parquet"', 'duckdb').reason, /file or URL/);
    assert.match(refusal('SELECT * FROM data.csv', 'duckdb').reason, /file or URL/);
    assert.match(refusal('SELECT * FROM "s3://bucket/key"', 'duckdb').reason, /file or URL/);
  });

  test('DuckDB: the GLOB operator is allowed, the glob() table function is not', () => {
    assertAllowed("SELECT 'a' GLOB 'a*'", 'duckdb');
    assertAllowed("SELECT 'a' GLOB ('a*')", 'duckdb');
    assert.match(refusal("SELECT * FROM glob('/etc/*')", 'duckdb').reason, /glob\(\)/);
  });

  test('file, network and admin functions are refused however they are spelled', () => {
    assert.match(refusal("SELECT PG_CATALOG.PG_READ_FILE('PG_VERSION')", 'postgres').reason, /pg_read_file\(\)/i);
    assert.match(refusal("SELECT ('PG_VERSION'::text).pg_read_file", 'postgres').reason, /pg_read_file\(\)/);
    assert.match(refusal('SELECT U&"pg\\005fread_file"(\'PG_VERSION\')', 'postgres').reason, /Unicode-escaped/);
    assert.match(refusal("SELECT `LOAD_FILE`('/etc/passwd')", 'mysql').reason, /LOAD_FILE\(\)/i);
    assert.match(refusal("SELECT * FROM main.read_csv('x.csv')", 'duckdb').reason, /read_csv\(\)/);
    assert.match(refusal("SELECT set_config('default_transaction_read_only', 'off', false)", 'postgres').reason, /set_config\(\)/);
  });

  test('sleep functions are left to the time limit', () => {
    assertAllowed('SELECT SLEEP(0)', 'mysql');
    assertAllowed('SELECT pg_sleep(0)', 'postgres');
  });

  test('credential catalogs are refused', () => {
    assert.match(refusal('SELECT * FROM pg_catalog.pg_authid', 'postgres').reason, /pg_authid/);
    assert.match(refusal('SELECT * FROM `mysql`.`user`', 'mysql').reason, /mysql\.user/);
    assert.match(refusal('SELECT * FROM duckdb_secrets()', 'duckdb').reason, /secrets/);
    assertAllowed('SELECT table_name FROM information_schema.tables', 'mysql');
  });

  test('text the parser and the database would read differently is refused', () => {
    assert.match(refusal('SELECT 1 -- x\r; DELETE FROM guard_orders', 'postgres').reason, /carriage return/);
    assert.match(refusal("SELECT 1 /* /* */ , load_file('/etc/passwd') /* */", 'mysql').reason, /nested/);
    assert.match(refusal("SELECT 1 --1, load_file('/etc/passwd')", 'mysql').reason, /two minus signs/);
    assert.match(refusal(`SELECT """a" , pg_read_file('x'), "b"""`, 'postgres').reason, /quoted/);
    assert.match(refusal("SELECT 'it\\'s'", 'mysql').reason, /backslashes/);
    assert.match(refusal('SELECT `a` FROM t', 'postgres').reason, /does not read as a quote/);
    assert.match(refusal('SELECT\u00a01', 'postgres').reason, /U\+00A0/);
    assertAllowed("SELECT 'C:\\\\temp' AS path", 'mysql');
    assertAllowed("SELECT E'it\\'s' AS escaped", 'postgres');
    assertAllowed('SELECT $tag$ ; DELETE FROM guard_orders; $tag$ AS text', 'postgres');
  });
});

describe('taggedNodes', () => {
  test('visits every tagged node, however deep, in document order', () => {
    const tree = [{ select: { expressions: [{ function: { name: 'a' } }], with: { ctes: [{ this: { delete: {} } }] } } }];
    const kinds = [...taggedNodes(tree)].map((node) => node.kind);
    // single-key plain objects ({name: 'a'}, {ctes: […]}) come out too; the guard ignores kinds it does not list
    assert.deepEqual(kinds, ['select', 'function', 'name', 'ctes', 'this', 'delete']);
  });
});
