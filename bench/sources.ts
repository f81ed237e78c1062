/**
 * Benchmark: iquery's data path against DuckDB used directly, measured in the same run.
 *  1. Loading a ~1 GB CSV: `openSource(file)` (which loads it with DuckDB's reader into a cached
 *     database file) against `CREATE TABLE … AS SELECT * FROM read_csv(…)` into a database file.
 *  2. A group-by over 10M rows: `source.query()` (guard, read-only session, streaming, value
 *     conversion) against `runAndReadAll` on DuckDB's own copy, both already open, as in a session.
 * Runs alternate between the two sides and the medians are compared; the figure is the ratio
 * iquery time / DuckDB time (1.00 = no overhead; the target is at most 1.10).
 *
 * Usage: node dist/bench/sources.js [--rows N] [--runs N] [--group-runs N] [--dir DIR]
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSource } from '../src/sources/open-source.js';
import type { DataSource } from '../src/sources/source.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '3' },
    'group-runs': { type: 'string', default: '31' },
    dir: { type: 'string', default: join(tmpdir(), 'iquery-bench') },
  },
});
const rows = Number(flags.rows);
const runs = Number(flags.runs);
const groupRuns = Number(flags['group-runs']);
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

/** Writes the benchmark CSV once (kept between runs): ~107 bytes a row, so 10M rows make ~1 GB. */
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
      md5(CAST(range AS VARCHAR)) AS reference,
      'campaign-' || lpad(CAST(hash(range, 'c') % 100000 AS VARCHAR), 6, '0') AS campaign
    FROM range(${rows})) TO '${path}' (HEADER, DELIMITER ',')`);
  connection.closeSync();
  instance.closeSync();
}

async function loadWithIquery(csv: string, home: string): Promise<void> {
  const source = await openSource(csv, { home });
  await source.close();
}

async function loadWithDuckdb(csv: string, database: string): Promise<void> {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE orders AS SELECT * FROM read_csv('${csv}')`);
  await connection.run('CHECKPOINT');
  connection.closeSync();
  instance.closeSync();
}

/**
 * Each run's SQL carries its own comment, so that iquery's guard judges a new text every time (nothing
 * can be reused between runs) while DuckDB does exactly the same work on both sides.
 */
function groupBySqlFor(run: number): string {
  return `/* run ${run} */ ${groupBySql}`;
}

async function groupByWithIquery(source: DataSource, run: number): Promise<number> {
  return timed(async () => {
    const result = await source.query(groupBySqlFor(run));
    if (result.rowCount !== 5) throw new Error(`expected 5 groups, got ${result.rowCount}`);
  });
}

async function groupByWithDuckdb(connection: DuckDBConnection, run: number): Promise<number> {
  return timed(async () => {
    const reader = await connection.runAndReadAll(groupBySqlFor(run));
    if (reader.getRowsJS().length !== 5) throw new Error('expected 5 groups');
  });
}

/**
 * Prints throughput and two ratios of iquery's time to DuckDB's: of the medians, and the median of
 * the ratios of adjacent runs (each pair ran back to back, so slow drift on a busy machine cancels).
 */
function report(name: string, iquerySeconds: number[], duckdbSeconds: number[], rowCount: number): void {
  const iqueryMedian = median(iquerySeconds);
  const duckdbMedian = median(duckdbSeconds);
  const paired = median(iquerySeconds.map((seconds, index) => seconds / (duckdbSeconds[index] ?? Number.NaN)));
  const rate = (seconds: number): string => `${Math.round(rowCount / seconds).toLocaleString('en-US')} rows/s`;
  process.stdout.write(
    `${name}: iquery ${rate(iqueryMedian)} (${(iqueryMedian * 1000).toFixed(1)} ms), duckdb direct ${rate(duckdbMedian)} (${(duckdbMedian * 1000).toFixed(1)} ms); ` +
      `iquery/duckdb time: ratio of medians ${(iqueryMedian / duckdbMedian).toFixed(3)}, median of paired ratios ${paired.toFixed(3)} (${iquerySeconds.length} pairs)\n`,
  );
}

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
  // Each side starts from nothing, and removing the last run's files is not timed.
  const measureIquery = async (): Promise<void> => {
    rmSync(iqueryHome, { recursive: true, force: true });
    loadIquery.push(await timed(() => loadWithIquery(csv, iqueryHome)));
  };
  const measureDuckdb = async (): Promise<void> => {
    rmSync(directDatabase, { force: true });
    loadDuckdb.push(await timed(() => loadWithDuckdb(csv, directDatabase)));
  };
  if (run % 2 === 0) {
    await measureIquery();
    await measureDuckdb();
  } else {
    await measureDuckdb();
    await measureIquery();
  }
}
report('load CSV', loadIquery, loadDuckdb, rows);

// The group-by runs as in a session: one open source against one open DuckDB connection, each side
// on its own copy of the loaded data, runs interleaved.
const source = await openSource(csv, { home: iqueryHome });
const directInstance = await DuckDBInstance.create(directDatabase, { access_mode: 'READ_ONLY' });
const directConnection = await directInstance.connect();
await groupByWithIquery(source, -1);
await groupByWithDuckdb(directConnection, -1);
const groupIquery: number[] = [];
const groupDuckdb: number[] = [];
for (let run = 0; run < groupRuns; run++) {
  if (run % 2 === 0) {
    groupIquery.push(await groupByWithIquery(source, run));
    groupDuckdb.push(await groupByWithDuckdb(directConnection, run));
  } else {
    groupDuckdb.push(await groupByWithDuckdb(directConnection, run));
    groupIquery.push(await groupByWithIquery(source, run));
  }
}
await source.close();
directConnection.closeSync();
directInstance.closeSync();
report('group-by', groupIquery, groupDuckdb, rows);
