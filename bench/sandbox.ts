/**
 * Benchmark: iquery's sandboxed Python kernel against Jupyter's ipykernel driven by jupyter_client
 * (bench/ipykernel_peer.py), side by side in one run:
 *  - a trivial cell's round trip, p50 and p95;
 *  - time to the first result in a new session (iquery with its pool of warm kernels, and cold);
 *  - a plot cell (a line chart with a Chinese title, PNG back);
 *  - handoff of 1M and 10M rows × 6 columns against pandas.read_csv of the same data.
 * Every figure is printed with its ratio to the peer.
 *
 * Usage: node dist/bench/sandbox.js [--cells N] [--handoff-rows 1000000,10000000]
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/package-root.js';
import { KernelPool } from '../src/sandbox/kernel-pool.js';
import { KernelSession } from '../src/sandbox/kernel-session.js';
import { runHandoffBenchmark } from './handoff.js';

const { values: flags } = parseArgs({
  options: {
    cells: { type: 'string', default: '200' },
    'handoff-rows': { type: 'string', default: '1000000,10000000' },
  },
});
const cells = Number(flags.cells);
const plotCell = "import matplotlib.pyplot as plt\nplt.plot(range(10))\nplt.title('季度收入')\nplt.show()";

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

async function milliseconds(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function line(name: string, iquery: number, peer: number, unit = 'ms'): void {
  const faster = peer / iquery;
  process.stdout.write(`${name}: iquery ${iquery.toFixed(2)} ${unit}, ipykernel ${peer.toFixed(2)} ${unit}, iquery is ${faster.toFixed(1)}× ${faster >= 1 ? 'faster' : 'slower'}\n`);
}

const home = mkdtempSync(join(tmpdir(), 'iquery-bench-sandbox-'));
// Reachable by the sandbox's unprivileged uid, so session workspaces stay in here and are removed with it.
chmodSync(home, 0o711);
process.env['IQUERY_HOME'] = home;
try {
  const peerRun = spawnSync('/usr/bin/python3', [join(packageRoot(), 'bench', 'ipykernel_peer.py'), String(cells)], { encoding: 'utf8' });
  if (peerRun.status !== 0) throw new Error(`the ipykernel peer failed: ${peerRun.stderr}`);
  const peer = JSON.parse(peerRun.stdout) as { first_result_ms: number; round_trip_ms: number[]; plot_ms: number[] };

  const pool = new KernelPool({ size: 1, home });
  await pool.warm();
  let session: KernelSession | undefined;
  const firstWithPool = await milliseconds(async () => {
    session = await pool.createSession();
    await session.execute('1 + 1');
  });
  const cold = await milliseconds(async () => {
    const fresh = await KernelSession.create({});
    await fresh.execute('1 + 1');
    await fresh.close();
  });
  if (session === undefined) throw new Error('no session');
  const roundTrips: number[] = [];
  for (let cell = 0; cell < cells; cell++) {
    const active = session;
    roundTrips.push(await milliseconds(() => active.execute('1 + 1')));
  }
  const plots: number[] = [];
  await session.execute(plotCell);
  for (let run = 0; run < 5; run++) {
    const active = session;
    plots.push(await milliseconds(async () => {
      const result = await active.execute(plotCell);
      if (!result.outputs.some((output) => output.output_type === 'display_data' && typeof output.data['image/png'] === 'string')) throw new Error('no image');
    }));
  }
  const idle = await pool.idleKernels();
  await session.close();
  await pool.close();

  process.stdout.write(`trivial cell, ${cells} round trips:\n`);
  line('  p50', percentile(roundTrips, 0.5), percentile(peer.round_trip_ms, 0.5));
  line('  p95', percentile(roundTrips, 0.95), percentile(peer.round_trip_ms, 0.95));
  line('first result in a new session (iquery with its warm pool; ipykernel started for it)', firstWithPool, peer.first_result_ms);
  line('first result in a new session (iquery cold, no pool)', cold, peer.first_result_ms);
  line('plot cell (PNG), median of 5', percentile(plots, 0.5), percentile(peer.plot_ms, 0.5));
  for (const report of idle) process.stdout.write(`idle warm kernel: ${(report.rssBytes / 2 ** 20).toFixed(0)} MiB resident\n`);

  for (const rows of flags['handoff-rows'].split(',').map(Number)) {
    const directory = mkdtempSync(join(tmpdir(), 'iquery-bench-handoff-'));
    try {
      const figures = await runHandoffBenchmark({ rows, directory });
      process.stdout.write(`handoff ${rows.toLocaleString('en-US')} rows × 6 columns: ${JSON.stringify(figures)}\n`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
