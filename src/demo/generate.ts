import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { IqueryError, messageOf } from '../errors.js';
import { billInsertSql, snapshotMonth } from './bill-model.js';
import { commentSql, createTableSql, customerInsertSql, demoTableSchemas } from './demo-schema.js';
import type { DemoTable } from './demo-schema.js';
import { randomMacroStatements } from './random-sql.js';
import { customerBatches, customerStagingTable, stagingBatchSql, stagingStatements } from './staging.js';

/**
 * Builds the telecom demo database: a seeded, deterministic copy of the IBM Telco Customer Churn
 * scenario at any size, plus monthly bills. All rows are produced by SQL inside DuckDB, so a few
 * million customers and 100M+ bills take minutes, not hours.
 */

export interface DemoOptions {
  /** output .duckdb file; replaced atomically (write to a temp name, then rename) */
  path: string;
  /** multiple of 7,043 customers, default 1 */
  scale?: number;
  /** default 42 */
  seed?: number;
  /** reports progress lines for a person, e.g. "user_bills: 1,234,567 rows" */
  onProgress?: (message: string) => void;
}

export interface DemoSummary {
  path: string;
  customers: number;
  /** Rows per table. */
  tables: Record<string, number>;
  /** 'YYYY-MM-01': the month every customer's bills end in. */
  snapshotMonth: string;
}

/** Customers at scale 1: the size of the real data set. */
export const customersPerScale = 7_043;

/**
 * Largest accepted scale: about 7M customers, 230M bills and an 8 GB file, twice the size the demo is
 * tuned for; a guard against a mistyped scale filling the disk.
 */
export const maximumScale = 1_000;

/** The five table names, in creation order. */
export const demoTables: readonly string[] = demoTableSchemas.map((table) => table.name);

interface ValidSettings {
  path: string;
  customers: number;
  scale: number;
  seed: number;
}

function validate(options: DemoOptions): ValidSettings {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? 42;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > maximumScale) {
    throw new IqueryError('bad_input', `The demo scale must be a number above 0 and at most ${maximumScale}; got ${String(scale)}.`, {
      hint: 'Use --scale 1 for the size of the real data (7,043 customers), or e.g. 0.1 or 100.',
    });
  }
  const customers = Math.round(scale * customersPerScale);
  if (customers < 1) {
    throw new IqueryError('bad_input', `The demo scale ${scale} gives no customers (${customersPerScale} × ${scale} rounds to 0).`, {
      hint: `Use a scale of at least ${(0.5 / customersPerScale).toPrecision(2)}.`,
    });
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new IqueryError('bad_input', `The demo seed must be a whole number; got ${String(seed)}.`, {
      hint: 'Leave it out for the default seed 42, or pass any integer such as --seed 7.',
    });
  }
  if (typeof options.path !== 'string' || options.path.trim() === '') {
    throw new IqueryError('bad_input', 'The demo database needs an output file path.', {
      hint: 'Pass a path such as ./telco-demo.duckdb.',
    });
  }
  return { path: resolve(options.path), customers, scale, seed };
}

/** Fails with `bad_input` unless the file can be created (or replaced) at `path`. */
function checkWritable(path: string): void {
  const hint = 'Choose a file in a folder you can write to, e.g. ./telco-demo.duckdb.';
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    // Absent: it will be created.
  }
  if (isFolder) throw new IqueryError('bad_input', `The demo database path ${path} is a folder, not a file.`, { hint });
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new IqueryError('bad_input', `Cannot write the demo database into ${folder}: ${messageOf(error)}.`, {
      hint,
      cause: error,
    });
  }
}

/**
 * DuckDB's memory cap: a quarter of the machine, between 512 MB and 2 GB. Generation streams rows and
 * loads in batches, so more memory does not make it faster (measured at scale 450); the cap makes a
 * large scale spill to the temporary folder instead of starving the rest of the machine. The process
 * peaks about 0.7 GB above it (DuckDB's own allocations outside its buffer pool, and Node).
 */
function memoryLimit(): string {
  const quarterMegabytes = Math.floor(totalmem() / 4 / 1024 ** 2);
  return `${Math.min(2048, Math.max(512, quarterMegabytes))}MB`;
}

interface WorkFiles {
  database: string;
  writeAheadLog: string;
  spillFolder: string;
}

/** Files in the target's folder (so the final rename stays on one file system), hidden by a dot. */
function workFilesFor(path: string): WorkFiles {
  const database = join(dirname(path), `.${basename(path)}.${process.pid}-${randomUUID().slice(0, 8)}.partial`);
  return { database, writeAheadLog: `${database}.wal`, spillFolder: `${database}.spill` };
}

function removeWorkFiles(files: WorkFiles): void {
  rmSync(files.database, { force: true });
  rmSync(files.writeAheadLog, { force: true });
  rmSync(files.spillFolder, { recursive: true, force: true });
}

async function readNumber(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  return Number(reader.getRowsJS()[0]?.[0] ?? 0);
}

function countRows(connection: DuckDBConnection, table: DemoTable): Promise<number> {
  return readNumber(connection, `SELECT count(*)::BIGINT FROM "${table.name}"`);
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/**
 * Creates the five tables and fills them batch by batch from the staging table. Each batch commits on
 * its own, which is what lets DuckDB write the primary-key index out instead of holding the index of
 * 100M+ bills in memory at once.
 */
async function fillDatabase(
  connection: DuckDBConnection,
  settings: ValidSettings,
  report: (message: string) => void,
): Promise<Record<string, number>> {
  for (const statement of randomMacroStatements(settings.seed)) await connection.run(statement);
  for (const statement of stagingStatements(settings.seed, settings.customers)) await connection.run(statement);
  const expectedBills = await readNumber(connection, `SELECT coalesce(sum(tenure), 0)::BIGINT FROM ${customerStagingTable}`);
  report(`customers modelled: ${formatCount(settings.customers)}, with ${formatCount(expectedBills)} monthly bills to write`);
  const batches = customerBatches(settings.customers);
  const tables: Record<string, number> = {};
  for (const table of demoTableSchemas) {
    const isBills = table.name === 'user_bills';
    await connection.run(createTableSql(table));
    for (const statement of commentSql(table)) await connection.run(statement);
    let inserted = 0;
    for (const batch of batches) {
      const source = stagingBatchSql(batch);
      const result = await connection.run(isBills ? billInsertSql(source) : customerInsertSql(table, source));
      inserted += result.rowsChanged;
      if (isBills && batches.length > 1) report(`user_bills: ${formatCount(inserted)} of ${formatCount(expectedBills)} rows`);
    }
    const rows = await countRows(connection, table);
    tables[table.name] = rows;
    report(`${table.name}: ${formatCount(rows)} rows`);
  }
  return tables;
}

/**
 * Generates the demo database at `options.path`, replacing any file there only once the new one is
 * complete. Same seed and scale give identical contents; tenure-0 customers have no bills and a NULL
 * TotalCharges, as in the real data.
 */
export async function generateDemoDatabase(options: DemoOptions): Promise<DemoSummary> {
  const settings = validate(options);
  checkWritable(settings.path);
  const report = options.onProgress ?? ((): void => {});
  const files = workFilesFor(settings.path);
  report(
    `generating ${formatCount(settings.customers)} customers (scale ${settings.scale}, seed ${settings.seed}) into ${settings.path}`,
  );
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  try {
    instance = await DuckDBInstance.create(files.database, {
      memory_limit: memoryLimit(),
      temp_directory: files.spillFolder,
    });
    connection = await instance.connect();
    const tables = await fillDatabase(connection, settings, report);
    await connection.run('CHECKPOINT');
    connection.closeSync();
    connection = undefined;
    instance.closeSync();
    instance = undefined;
    // A write-ahead log left by an older file at the target would be replayed onto the new one.
    rmSync(`${settings.path}.wal`, { force: true });
    renameSync(files.database, settings.path);
    return { path: settings.path, customers: settings.customers, tables, snapshotMonth };
  } catch (error) {
    if (error instanceof IqueryError) throw error;
    throw new IqueryError('internal', `Generating the demo database failed: ${messageOf(error)}`, {
      hint: `Check the free disk space in ${dirname(settings.path)}, or try a smaller --scale.`,
      cause: error,
    });
  } finally {
    connection?.closeSync();
    instance?.closeSync();
    removeWorkFiles(files);
  }
}
