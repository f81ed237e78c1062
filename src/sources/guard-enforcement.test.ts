/**
 * Every statement of the guard's corpora, run through a real source: hostile ones are refused before
 * they reach the database and leave every table as it was; legitimate ones run on the real engine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import * as duckdbCases from '../guard/cases/duckdb.js';
import * as mysqlCases from '../guard/cases/mysql.js';
import * as postgresCases from '../guard/cases/postgres.js';
import type { DataSource, SqlDialect } from './source.js';
import { useTestSource } from './testing/test-source.js';
import type { TestDatabase } from './testing/test-databases.js';

const corpora: Record<SqlDialect, { hostile: readonly string[]; legitimate: readonly string[] }> = {
  duckdb: duckdbCases,
  mysql: mysqlCases,
  postgres: postgresCases,
};

const home = mkdtempSync(join(tmpdir(), 'iquery-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

for (const dialect of ['duckdb', 'mysql', 'postgres'] as const) {
  describe(`guard on a real ${dialect} database`, () => {
    const current = useTestSource(dialect, home);
    let database: TestDatabase;
    let source: DataSource;
    before(() => ({ database, source } = current()));

    test(`refuses all ${corpora[dialect].hostile.length} hostile statements and the data stays the same`, async () => {
      assert.ok(corpora[dialect].hostile.length >= 40);
      const before = await database.fingerprint();
      for (const sql of corpora[dialect].hostile) {
        try {
          await source.query(sql, { timeoutMs: 5000 });
          assert.fail(`ran a hostile statement: ${sql}`);
        } catch (error) {
          assert.ok(error instanceof IqueryError && error.code === 'sql_refused', `not refused by the guard (${String(error)}): ${sql}`);
          assert.ok(error.message.startsWith('Refused'), error.message);
        }
      }
      assert.equal(await database.fingerprint(), before);
    });

    test(`runs all ${corpora[dialect].legitimate.length} legitimate analytic queries`, async () => {
      assert.ok(corpora[dialect].legitimate.length >= 20);
      for (const sql of corpora[dialect].legitimate) {
        try {
          const result = await source.query(sql, { timeoutMs: 10_000 });
          assert.ok(result.columns.length > 0, `no columns: ${sql}`);
        } catch (error) {
          assert.fail(`legitimate query failed (${error instanceof Error ? error.message : String(error)}): ${sql}`);
        }
      }
    });
  });
}
