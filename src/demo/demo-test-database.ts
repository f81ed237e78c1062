/**
 * Test helpers for the demo generator: read-only queries on a generated file, a content hash per
 * table, and where to find the real IBM Telco CSV the tests compare against (it is never part of
 * the repository).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { packageRoot } from '../package-root.js';

export type Row = Record<string, string | number | boolean | null>;

/** JSON-friendly values: BIGINT as number (counts here are far below 2^53), dates as 'YYYY-MM-DD'. */
function plain(value: unknown): string | number | boolean | null {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

/** Runs queries against a DuckDB file (or ':memory:'), closing it afterwards. */
export async function withDatabase<T>(path: string, work: (query: (sql: string) => Promise<Row[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path, path === ':memory:' ? {} : { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    return await work(async (sql) => {
      const reader = await connection.runAndReadAll(sql);
      return reader
        .getRowObjectsJS()
        .map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, plain(value)])));
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The real data set, from IQUERY_TELCO_CSV or the shared folder beside the repository; undefined when absent. */
export function realTelcoCsv(): string | undefined {
  const path =
    process.env['IQUERY_TELCO_CSV'] ?? join(packageRoot(), '..', 'shared', 'data', 'telco', 'WA_Fn-UseC_-Telco-Customer-Churn.csv');
  return existsSync(path) ? path : undefined;
}

/** SQL reading the real CSV with every column as text, so value sets compare exactly ('0'/'1', 'Yes'/'No'). */
export function realTelcoSql(csvPath: string): string {
  return `read_csv('${csvPath.replaceAll("'", "''")}', all_varchar = true, header = true)`;
}

/** An md5 over every row of a table in primary-key order: equal hashes mean identical content. */
export function tableHashSql(table: string, keyColumns: readonly string[]): string {
  const order = keyColumns.map((column) => `"${column}"`).join(', ');
  return `SELECT md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY ${order})) AS hash FROM "${table}" AS t`;
}

/**
 * A checksum of a table's rows together with their positions: equal when the physical row order is
 * equal too, so even a scan without ORDER BY repeats. Summing keeps it independent of thread order.
 */
export function tableLayoutHashSql(table: string): string {
  return `SELECT sum(hash(rowid, t)::HUGEINT)::VARCHAR AS hash FROM "${table}" AS t`;
}
