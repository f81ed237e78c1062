/**
 * The guard is the first wall; these tests go around it on purpose, straight to each engine, to show
 * that the database session itself refuses to write.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseServerUrl } from './connection-url.js';
import { openDuckdbEngine } from './duckdb/duckdb-engine.js';
import type { Engine } from './engine.js';
import { openMysqlEngine } from './mysql/mysql-engine.js';
import { openPostgresEngine } from './postgres/postgres-engine.js';
import type { SqlDialect } from './source.js';
import { createTestDatabase, type TestDatabase } from './testing/test-databases.js';

async function openEngine(database: TestDatabase): Promise<Engine> {
  switch (database.dialect) {
    case 'duckdb':
      return openDuckdbEngine({ path: database.spec });
    case 'mysql':
      return openMysqlEngine(parseServerUrl(database.spec));
    case 'postgres':
      return openPostgresEngine(parseServerUrl(database.spec));
  }
}

/** Runs SQL through the engine's user path with the guard skipped, reading every row. */
async function runUnguarded(engine: Engine, sql: string): Promise<void> {
  const cursor = await engine.openCursor({ sql, params: [], rowLimit: 10, batchRows: 10, timeoutMs: 5000, signal: new AbortController().signal });
  try {
    while ((await cursor.next()) !== null);
  } finally {
    await cursor.close();
  }
}

const writes: Record<SqlDialect, string[]> = {
  duckdb: ['DELETE FROM guard_orders', 'DROP TABLE guard_orders', "UPDATE guard_customers SET name = 'x'", 'CREATE TABLE planted AS SELECT 1 AS a'],
  mysql: ['DELETE FROM guard_orders', 'DROP TABLE guard_orders', "UPDATE guard_customers SET name = 'x'", 'CREATE TABLE planted (a INT)', 'TRUNCATE TABLE guard_orders'],
  postgres: ['DELETE FROM guard_orders', 'DROP TABLE guard_orders', "UPDATE guard_customers SET name = 'x'", 'CREATE TABLE planted (a INT)', 'TRUNCATE guard_orders'],
};

for (const dialect of ['duckdb', 'mysql', 'postgres'] as const) {
  describe(`${dialect} read-only session without the guard`, () => {
    let database: TestDatabase;
    let engine: Engine;
    before(async () => {
      database = await createTestDatabase(dialect);
      engine = await openEngine(database);
    });
    after(async () => {
      await engine?.close();
      await database?.drop();
    });

    test('the database refuses every write on the user path', async () => {
      const before = await database.fingerprint();
      for (const sql of writes[dialect]) {
        await assert.rejects(runUnguarded(engine, sql), `the database accepted: ${sql}`);
      }
      assert.equal(await database.fingerprint(), before);
    });

    if (dialect !== 'duckdb') {
      test('the database\'s own time limit stops a statement, and iquery reads it as a timeout', async () => {
        const sleep = dialect === 'mysql' ? 'SELECT SLEEP(5)' : 'SELECT pg_sleep(5)';
        // No client timer here: only the server-side limit the engine sets for the statement can stop it.
        const stopped = (async () => {
          const cursor = await engine.openCursor({ sql: sleep, params: [], rowLimit: 10, batchRows: 10, timeoutMs: 200, signal: new AbortController().signal });
          try {
            while ((await cursor.next()) !== null);
          } finally {
            await cursor.close();
          }
        })();
        const error = await stopped.then(() => undefined, (failure: unknown) => failure);
        assert.ok(error !== undefined, 'the server let the statement run past its limit');
        assert.equal(engine.isServerTimeout?.(error), true, String(error));
        assert.equal(engine.isServerTimeout?.(new Error('syntax error')), false);
      });
    }

    if (dialect === 'postgres') {
      test('turning the session default off does not help: each query opens its own read-only transaction', async () => {
        const before = await database.fingerprint();
        // set_config is itself a SELECT, so only the guard stops it; the explicit BEGIN READ ONLY still holds.
        for (let attempt = 0; attempt < 4; attempt++) {
          await runUnguarded(engine, "SELECT set_config('default_transaction_read_only', 'off', false)");
        }
        for (const sql of writes.postgres) await assert.rejects(runUnguarded(engine, sql), `the database accepted: ${sql}`);
        assert.equal(await database.fingerprint(), before);
      });
    }

    if (dialect === 'duckdb') {
      test('the database file is read-only even on the internal path, and files are out of reach', async () => {
        await assert.rejects(engine.runInternal('DELETE FROM guard_orders'), /read-only/i);
        await assert.rejects(engine.runInternal("SELECT * FROM read_csv('/etc/passwd')"), /disabled by configuration|Permission/i);
        await assert.rejects(engine.runInternal('SET enable_external_access = true'), /lock|configuration/i);
        await assert.rejects(engine.runInternal("ATTACH '/tmp/iquery-attached.duckdb' AS planted"), /disabled|read-only|Permission/i);
      });
    }
  });
}
