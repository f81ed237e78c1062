/**
 * Benchmark: handing a query result to pandas, iquery's frame against CSV, measured in the same run.
 *  - iquery: `writeQueryFrame` (DuckDB vectors → frame files, by the native writer when it is built)
 *    timed in Node, then `frames.read_frame` timed inside Python; the figure is the sum. The same with
 *    the native writer turned off (`native: false`, the JS stream) is printed beside it.
 *  - peer: the same table exported by DuckDB as CSV (COPY, not timed), read with `pandas.read_csv`
 *    (`parse_dates` for the date column) timed inside the same Python.
 * Python is one warm `/usr/bin/python3` process reading commands from stdin, so neither side pays for
 * interpreter start-up or imports. Runs alternate between the sides; medians are compared (the best
 * runs are printed too: the machine is noisy), and the ratio is peer time / iquery time (above 1 =
 * iquery faster).
 *
 * The table: id BIGINT, amount DOUBLE, quantity INTEGER, day DATE, region VARCHAR (5 values), paid
 * BOOLEAN, with a few NULLs in amount, region and paid.
 *
 * Usage: node dist/bench/handoff.js [--rows 1000000,10000000] [--runs N] [--dir DIR]
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/package-root.js';
import { writeQueryFrame } from '../src/sandbox/frames/write-frame.js';
import { openSource } from '../src/sources/open-source.js';

export interface HandoffFigures {
  rows: number;
  columns: number;
  runs: number;
  /** The run with the median total, in seconds; `bestSeconds` is the fastest total. */
  iquery: { writer: string; writeSeconds: number; loadSeconds: number; totalSeconds: number; bestSeconds: number; rowsPerSecond: number; frameBytes: number };
  /** Median total of the handoff with the native writer turned off. */
  streamed: { totalSeconds: number; rowsPerSecond: number };
  /** Median and fastest `read_csv`, in seconds. */
  peer: { loadSeconds: number; bestSeconds: number; rowsPerSecond: number; csvBytes: number };
  /** peer time / iquery total time: how many times faster the handoff is than CSV. */
  ratio: number;
  /** peer time / iquery's Python load alone. */
  loadRatio: number;
}

const python = '/usr/bin/python3';

/** The Python side: one JSON command per line in, one JSON answer per line out. */
const driver = String.raw`
import gc, json, sys, time
import pandas
from iquery_kernel import frames
print(json.dumps({'ready': True}), flush=True)
for line in sys.stdin:
    command = json.loads(line)
    gc.collect()
    start = time.perf_counter()
    if command['op'] == 'frame':
        frame = frames.read_frame(command['manifest'])
    else:
        frame = pandas.read_csv(command['path'], parse_dates=['day'])
    seconds = time.perf_counter() - start
    answer = {'seconds': seconds, 'rows': len(frame), 'dtypes': [str(dtype) for dtype in frame.dtypes],
              'amount': float(frame['amount'].sum()), 'nulls': int(frame.isna().sum().sum())}
    del frame
    print(json.dumps(answer), flush=True)
`;

interface PythonAnswer {
  seconds: number;
  rows: number;
  dtypes: string[];
  amount: number;
  nulls: number;
}

class PythonDriver {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor() {
    this.child = spawn(python, ['-c', driver], {
      env: { ...process.env, PYTHONPATH: join(packageRoot(), 'python'), PYTHONDONTWRITEBYTECODE: '1' },
    });
    this.child.stderr.on('data', (data: Buffer) => process.stderr.write(data));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async ready(): Promise<void> {
    await this.next();
  }

  async ask(command: Record<string, string>): Promise<PythonAnswer> {
    this.child.stdin.write(JSON.stringify(command) + '\n');
    return (await this.next()) as PythonAnswer;
  }

  close(): void {
    this.child.stdin.end();
  }

  private async next(): Promise<unknown> {
    const line = await this.lines.next();
    if (line.done === true) throw new Error('the Python driver ended early (see its stderr above)');
    return JSON.parse(line.value);
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Builds the benchmark table and its CSV export under `directory` (neither is timed). */
async function buildData(rows: number, directory: string): Promise<{ database: string; csv: string }> {
  const database = join(directory, `handoff-${rows}.duckdb`);
  const csv = join(directory, `handoff-${rows}.csv`);
  rmSync(database, { force: true });
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE orders AS SELECT
        range AS id,
        CASE WHEN range % 997 = 0 THEN NULL ELSE round((hash(range, 'a') % 100000) / 100.0, 2) END::DOUBLE AS amount,
        CAST(1 + hash(range, 'q') % 9 AS INTEGER) AS quantity,
        DATE '2020-01-01' + CAST(hash(range, 'd') % 1500 AS INTEGER) AS day,
        CASE WHEN range % 4999 = 0 THEN NULL ELSE ['north', 'south', 'east', 'west', 'central'][1 + CAST(hash(range, 'r') % 5 AS INTEGER)] END AS region,
        CASE WHEN range % 3001 = 0 THEN NULL ELSE hash(range, 'f') % 2 = 0 END AS paid
      FROM range(${rows})`);
    await connection.run(`COPY orders TO '${csv}' (HEADER, DELIMITER ',')`);
    await connection.run('CHECKPOINT');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { database, csv };
}

/**
 * Measures one size: builds the data, then alternates iquery handoffs and CSV reads in one warm Python
 * process (`runs` each after one untimed warm-up of each; default 5 up to 2M rows, 3 above) and
 * returns the medians.
 */
export async function runHandoffBenchmark(options: { rows: number; directory: string; runs?: number }): Promise<HandoffFigures> {
  const runs = options.runs ?? (options.rows <= 2_000_000 ? 5 : 3);
  mkdirSync(options.directory, { recursive: true });
  const { database, csv } = await buildData(options.rows, options.directory);
  const source = await openSource(database);
  const driver = new PythonDriver();
  const handoffs: { write: number; load: number; total: number }[] = [];
  const streamed: number[] = [];
  const peers: number[] = [];
  let frameBytes = 0;
  let writer = '';
  try {
    await driver.ready();
    for (let run = -1; run < runs; run++) {
      const folder = join(options.directory, `frame-${run}`);
      const handoff = async (native: boolean): Promise<{ write: number; load: number; loaded: PythonAnswer }> => {
        rmSync(folder, { recursive: true, force: true });
        const start = process.hrtime.bigint();
        const summary = await writeQueryFrame(source, 'SELECT * FROM orders', folder, { native });
        const write = Number(process.hrtime.bigint() - start) / 1e9;
        const loaded = await driver.ask({ op: 'frame', manifest: summary.manifest });
        if (loaded.rows !== options.rows) throw new Error(`the frame loaded ${loaded.rows} rows, not ${options.rows}`);
        frameBytes = summary.bytes;
        if (native) writer = summary.writer;
        rmSync(folder, { recursive: true, force: true });
        return { write, load: loaded.seconds, loaded };
      };
      const { write, load, loaded } = await handoff(true);
      if (run >= 0) handoffs.push({ write, load, total: write + load });
      const slow = await handoff(false);
      if (run >= 0) streamed.push(slow.write + slow.load);

      const peer = await driver.ask({ op: 'csv', path: csv });
      if (peer.rows !== options.rows) throw new Error(`read_csv loaded ${peer.rows} rows, not ${options.rows}`);
      if (Math.abs(peer.amount - loaded.amount) > 1e-6 * Math.abs(peer.amount) || peer.nulls !== loaded.nulls) {
        throw new Error(`the two sides disagree: ${JSON.stringify({ frame: loaded, csv: peer })}`);
      }
      if (run >= 0) peers.push(peer.seconds);
    }
  } finally {
    driver.close();
    await source.close();
  }
  handoffs.sort((a, b) => a.total - b.total);
  const middle = handoffs[Math.floor(handoffs.length / 2)] ?? { write: Number.NaN, load: Number.NaN, total: Number.NaN };
  const peer = median(peers);
  return {
    rows: options.rows,
    columns: 6,
    runs,
    iquery: {
      writer,
      writeSeconds: middle.write,
      loadSeconds: middle.load,
      totalSeconds: middle.total,
      bestSeconds: handoffs[0]?.total ?? Number.NaN,
      rowsPerSecond: options.rows / middle.total,
      frameBytes,
    },
    streamed: { totalSeconds: median(streamed), rowsPerSecond: options.rows / median(streamed) },
    peer: { loadSeconds: peer, bestSeconds: Math.min(...peers), rowsPerSecond: options.rows / peer, csvBytes: statSync(csv).size },
    ratio: peer / middle.total,
    loadRatio: peer / median(handoffs.map((handoff) => handoff.load)),
  };
}

function millions(rowsPerSecond: number): string {
  return `${(rowsPerSecond / 1e6).toFixed(1)}M rows/s`;
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000,10000000' },
      runs: { type: 'string' },
      dir: { type: 'string' },
    },
  });
  const directory = flags.dir ?? mkdtempSync(join(tmpdir(), 'iquery-bench-handoff-'));
  try {
    for (const rows of flags.rows.split(',').map(Number)) {
      const figures = await runHandoffBenchmark({ rows, directory, ...(flags.runs === undefined ? {} : { runs: Number(flags.runs) }) });
      const { iquery, peer } = figures;
      process.stdout.write(
        [
          `${rows.toLocaleString('en-US')} rows × 6 columns (median of ${figures.runs}):`,
          `  iquery handoff (${iquery.writer} writer)  ${iquery.totalSeconds.toFixed(3)} s = write ${iquery.writeSeconds.toFixed(3)} s + pandas load ${iquery.loadSeconds.toFixed(3)} s  ${millions(iquery.rowsPerSecond)}  (best ${millions(rows / iquery.bestSeconds)}; frame ${(iquery.frameBytes / 2 ** 20).toFixed(0)} MiB)`,
          `  iquery handoff without the native writer  ${figures.streamed.totalSeconds.toFixed(3)} s  ${millions(figures.streamed.rowsPerSecond)}`,
          `  pandas.read_csv ${peer.loadSeconds.toFixed(3)} s  ${millions(peer.rowsPerSecond)}  (best ${millions(rows / peer.bestSeconds)}; CSV ${(peer.csvBytes / 2 ** 20).toFixed(0)} MiB)`,
          `  ratio read_csv / handoff: ${figures.ratio.toFixed(1)}× (load alone: ${figures.loadRatio.toFixed(1)}×)`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    if (flags.dir === undefined) rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
