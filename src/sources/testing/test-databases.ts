/**
 * Real databases for tests: each call creates a fresh, uniquely named database on the local MariaDB,
 * PostgreSQL or a DuckDB file, fills the guard fixture tables, and can fingerprint everything in it so a
 * test can prove that nothing changed. Connections here are administrative and bypass iquery on purpose.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { SqlDialect } from '../source.js';

export const mysqlAdminUrl = process.env['IQUERY_TEST_MYSQL'] ?? 'mysql://root@127.0.0.1:3306/test';
export const postgresAdminUrl = process.env['IQUERY_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  dialect: SqlDialect;
  /** What to pass to `openSource` / `--data`. */
  spec: string;
  /** A fingerprint of every table's name and full content. */
  fingerprint(): Promise<string>;
  drop(): Promise<void>;
}

const regions = ['north', 'south', 'east', 'west'] as const;
const statuses = ['paid', 'shipped', 'refunded'] as const;

/** 40 customers and 400 orders, the same on every engine. */
function fixtureRows() {
  const customers = Array.from({ length: 40 }, (_, index) => {
    const id = index + 1;
    const day = String((id % 28) + 1).padStart(2, '0');
    return { id, name: `customer ${id}`, region: regions[id % 4] ?? 'north', signup: `2024-${String((id % 12) + 1).padStart(2, '0')}-${day}`, vip: id % 5 === 0 };
  });
  const orders = Array.from({ length: 400 }, (_, index) => {
    const id = index + 1;
    return {
      id,
      customerId: (id % 40) + 1,
      amount: ((id * 37) % 1000) / 10 + 5,
      orderedAt: `2024-${String((id % 12) + 1).padStart(2, '0')}-${String((id % 28) + 1).padStart(2, '0')} ${String(id % 24).padStart(2, '0')}:15:00`,
      status: statuses[id % 3] ?? 'paid',
    };
  });
  return { customers, orders };
}

function literal(value: string | number | boolean): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replaceAll("'", "''")}'`;
}

/** Portable DDL and inserts for the fixture (identifiers are plain, so no quoting differs). */
function fixtureStatements(): string[] {
  const { customers, orders } = fixtureRows();
  return [
    'CREATE TABLE guard_customers (id INTEGER PRIMARY KEY, name VARCHAR(100), region VARCHAR(20), signup DATE, vip BOOLEAN)',
    'CREATE TABLE guard_orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES guard_customers (id), amount DECIMAL(10,2), ordered_at TIMESTAMP NULL, status VARCHAR(20))',
    `INSERT INTO guard_customers VALUES ${customers.map((row) => `(${[row.id, row.name, row.region, row.signup, row.vip].map(literal).join(', ')})`).join(', ')}`,
    `INSERT INTO guard_orders VALUES ${orders.map((row) => `(${[row.id, row.customerId, row.amount, row.orderedAt, row.status].map(literal).join(', ')})`).join(', ')}`,
  ];
}

function uniqueName(): string {
  return `iquery_t_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function createMysqlTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName();
  const admin = await mysql.createConnection({ uri: mysqlAdminUrl, dateStrings: true });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.query(`USE ${name}`);
  for (const statement of fixtureStatements()) await admin.query(statement);
  const url = new URL(mysqlAdminUrl);
  url.pathname = `/${name}`;
  return {
    dialect: 'mysql',
    spec: url.toString(),
    async fingerprint() {
      const [tables] = await admin.query(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, [name]);
      const names = (tables as { TABLE_NAME: string }[]).map((row) => row.TABLE_NAME);
      const contents = [];
      for (const table of names) contents.push([table, (await admin.query(`SELECT * FROM \`${name}\`.\`${table}\` ORDER BY 1`))[0]]);
      return JSON.stringify(contents);
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

export async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName();
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  const owner = new pg.Client({ connectionString: url.toString() });
  await owner.connect();
  for (const statement of fixtureStatements()) await owner.query(statement);
  return {
    dialect: 'postgres',
    spec: url.toString(),
    async fingerprint() {
      const tables = await owner.query(`SELECT schemaname || '.' || tablename AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`);
      const contents = [];
      for (const row of tables.rows as { name: string }[]) contents.push([row.name, (await owner.query(`SELECT * FROM ${row.name} ORDER BY 1`)).rows]);
      const settings = await owner.query(`SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only'`);
      return JSON.stringify({ contents, settings: settings.rows });
    },
    async drop() {
      await owner.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export async function createDuckdbTestDatabase(): Promise<TestDatabase> {
  const folder = mkdtempSync(join(tmpdir(), 'iquery-duckdb-test-'));
  const path = join(folder, 'fixture.duckdb');
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  for (const statement of fixtureStatements()) await connection.run(statement);
  connection.closeSync();
  instance.closeSync();
  return {
    dialect: 'duckdb',
    spec: path,
    async fingerprint() {
      const reader = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
      const inspect = await reader.connect();
      try {
        const tables = (await inspect.runAndReadAll(`SELECT table_name FROM duckdb_tables() ORDER BY 1`)).getRowsJson().map((row) => String(row[0]));
        const contents = [];
        for (const table of tables) contents.push([table, (await inspect.runAndReadAll(`SELECT * FROM "${table}" ORDER BY 1`)).getRowsJson()]);
        return JSON.stringify(contents);
      } finally {
        inspect.closeSync();
        reader.closeSync();
      }
    },
    async drop() {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export function createTestDatabase(dialect: SqlDialect): Promise<TestDatabase> {
  switch (dialect) {
    case 'duckdb':
      return createDuckdbTestDatabase();
    case 'mysql':
      return createMysqlTestDatabase();
    case 'postgres':
      return createPostgresTestDatabase();
  }
}

/** An empty database for a test to fill: `run` executes administrative SQL in it. */
export interface ScratchDatabase {
  dialect: 'mysql' | 'postgres';
  spec: string;
  run(sql: string): Promise<void>;
  drop(): Promise<void>;
}

export async function createScratchDatabase(dialect: 'mysql' | 'postgres'): Promise<ScratchDatabase> {
  const name = uniqueName();
  if (dialect === 'mysql') {
    const admin = await mysql.createConnection({ uri: mysqlAdminUrl, multipleStatements: false });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.query(`USE ${name}`);
    const url = new URL(mysqlAdminUrl);
    url.pathname = `/${name}`;
    return {
      dialect,
      spec: url.toString(),
      async run(sql) {
        await admin.query(sql);
      },
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
        await admin.end();
      },
    };
  }
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  const owner = new pg.Client({ connectionString: url.toString() });
  await owner.connect();
  return {
    dialect,
    spec: url.toString(),
    async run(sql) {
      await owner.query(sql);
    },
    async drop() {
      await owner.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
