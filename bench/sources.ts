/**
 * Benchmark: iquery's data path against DuckDB used directly, measured in the same run.
 *  1. Loading a ~1 GB CSV: `openSource(file)` (which loads it with DuckDB's reader into a cached
 *     database file) against `CREATE TABLE … AS SELECT * FROM read_csv(…)` into a database file.
 *  2. A group-by over 10M rows: `source.query()` (guard, read-only session, streaming, value
 *     conversion) against `runAndReadAll` on the same database.
 * Runs alternate between the two sides and the medians are compared; the figure is the ratio
 * iquery time / DuckDB time (1.00 = no overhead; the target is at most 1.10).
 *
 * Usage: node dist/bench/sources.js [--rows N] [--runs N] [--dir DIR]
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSource } from '../src/sources/open-source.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string', default: join(tmpdir(), 'iquery-bench') },
  },
});
const rows = Number(flags.rows);
const runs = Number(flags.runs);
const folder = flags.dir;
mkdirSync(folder, { recursive: true });

const groupBySql = 'SELECT region, COUNT(*) AS orders, AVG(amount) AS average, SUM(quantity) AS units FROM orders GROUP BY region ORDER BY region';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Writes the benchmark CSV once (kept between runs): ~100 bytes a row. */
async function ensureCsv(path: string): Promise<void> {
  if (existsSync(path)) return;
  process.stderr.write(`writing ${rows.toLocaleString('en-US')} rows to ${path}\n`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`COPY (
    SELECT range AS id,
      'customer-' || lpad(CAST(hash(range) % 1000000 AS VARCHAR), 7, '0') AS customer,
      ['north', 'south', 'east', 'west', 'central'][1 + CAST(hash(range, 'r') % 5 AS INTEGER)] AS region,
      round((hash(range, 'a') % 100000) / 100.0, 2) AS amount,
      CAST(1 + hash(range, 'q') % 9 AS INTEGER) AS quantity,
      DATE '2024-01-01' + CAST(hash(range, 'd') % 365 AS INTEGER) AS day,
      hash(range, 'f') % 2 = 0 AS paid,
      md5(CAST(range AS VARCHAR)) AS reference
    FROM range(${rows})) TO '${path}' (HEADER, DELIMITER ',')`);
  connection.closeSync();
  instance.closeSync();
}

async function loadWithIquery(csv: string, home: string): Promise<void> {
  rmSync(home, { recursive: true, force: true });
  const source = await openSource(csv, { home });
  await source.close();
}

async function loadWithDuckdb(csv: string, database: string): Promise<void> {
  rmSync(database, { force: true });
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE orders AS SELECT * FROM read_csv('${csv}')`);
  await connection.run('CHECKPOINT');
  connection.closeSync();
  instance.closeSync();
}

async function groupByWithIquery(csv: string, home: string): Promise<number> {
  const source = await openSource(csv, { home });
  try {
    return await timed(async () => {
      const result = await source.query(groupBySql);
      if (result.rowCount !== 5) throw new Error(`expected 5 groups, got ${result.rowCount}`);
    });
  } finally {
    await source.close();
  }
}

async function groupByWithDuckdb(database: string): Promise<number> {
  const instance = await DuckDBInstance.create(database, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    return await timed(async () => {
      const reader = await connection.runAndReadAll(groupBySql);
      if (reader.getRowsJS().length !== 5) throw new Error('expected 5 groups');
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function report(name: string, iquerySeconds: number[], duckdbSeconds: number[], rowCount: number): void {
  const iqueryMedian = median(iquerySeconds);
  const duckdbMedian = median(duckdbSeconds);
  const rate = (seconds: number): string => `${Math.round(rowCount / seconds).toLocaleString('en-US')} rows/s`;
  process.stdout.write(
    `${name}: iquery ${rate(iqueryMedian)} (${iqueryMedian.toFixed(2)} s), duckdb direct ${rate(duckdbMedian)} (${duckdbMedian.toFixed(2)} s), ` +
      `iquery/duckdb time ratio ${(iqueryMedian / duckdbMedian).toFixed(3)} (median of ${iquerySeconds.length})\n`,
  );
}

// The table takes the file's stem, so the file is always orders.csv, in a folder per size.
mkdirSync(join(folder, `rows-${rows}`), { recursive: true });
const csv = join(folder, `rows-${rows}`, 'orders.csv');
await ensureCsv(csv);
const gigabytes = statSync(csv).size / 1024 ** 3;
process.stdout.write(`CSV: ${csv}, ${gigabytes.toFixed(2)} GiB, ${rows.toLocaleString('en-US')} rows\n`);

const iqueryHome = join(folder, 'home');
const directDatabase = join(folder, 'direct.duckdb');
const loadIquery: number[] = [];
const loadDuckdb: number[] = [];
for (let run = 0; run < runs; run++) {
  // Alternate which side goes first, so that warm caches favour neither.
  if (run % 2 === 0) {
    loadIquery.push(await timed(() => loadWithIquery(csv, iqueryHome)));
    loadDuckdb.push(await timed(() => loadWithDuckdb(csv, directDatabase)));
  } else {
    loadDuckdb.push(await timed(() => loadWithDuckdb(csv, directDatabase)));
    loadIquery.push(await timed(() => loadWithIquery(csv, iqueryHome)));
  }
}
report('load CSV', loadIquery, loadDuckdb, rows);

const groupIquery: number[] = [];
const groupDuckdb: number[] = [];
for (let run = 0; run < runs * 2 + 1; run++) {
  if (run % 2 === 0) {
    groupIquery.push(await groupByWithIquery(csv, iqueryHome));
    groupDuckdb.push(await groupByWithDuckdb(directDatabase));
  } else {
    groupDuckdb.push(await groupByWithDuckdb(directDatabase));
    groupIquery.push(await groupByWithIquery(csv, iqueryHome));
  }
}
report('group-by', groupIquery, groupDuckdb, rows);
