import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { IqueryError, type ErrorCode } from '../../errors.js';
import { openSource } from '../open-source.js';
import type { DataSource, SqlDialect } from '../source.js';
import { createTestDatabase, type TestDatabase } from './test-databases.js';

export interface TestSource {
  database: TestDatabase;
  source: DataSource;
}

/**
 * In the enclosing `describe`: a fresh fixture database of `dialect`, opened through iquery as a
 * source before the tests and closed and dropped after them. Call the returned function in a test.
 */
export function useTestSource(dialect: SqlDialect, home: string): () => TestSource {
  let current: TestSource | undefined;
  before(async () => {
    const database = await createTestDatabase(dialect);
    current = { database, source: await openSource(database.spec, { home }) };
  });
  after(async () => {
    await current?.source.close();
    await current?.database.drop();
  });
  return () => {
    assert.ok(current, 'the test source is opened in before()');
    return current;
  };
}

/** Awaits work that must fail with an IqueryError of the given code, and returns the error. */
export async function expectError(work: Promise<unknown>, code: ErrorCode): Promise<IqueryError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof IqueryError, `expected an IqueryError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected an error with code ${code}`);
}
