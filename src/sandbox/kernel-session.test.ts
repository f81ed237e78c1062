/** The Python session end to end: a real kernel in a real bubblewrap sandbox, real DuckDB data. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import { openSource } from '../sources/open-source.js';
import { KernelPool } from './kernel-pool.js';
import { KernelSession } from './kernel-session.js';
import type { CellOutput } from './protocol.js';
import { tableMimeType, type TablePreview } from './protocol.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-kernel-home-'));
// Reachable (not listable) by the sandbox's unprivileged uid, so session workspaces stay in here and go with it.
chmodSync(home, 0o711);
process.env['IQUERY_HOME'] = home;
after(() => rmSync(home, { recursive: true, force: true }));

function text(outputs: readonly CellOutput[], name: 'stdout' | 'stderr' = 'stdout'): string {
  return outputs.map((output) => (output.output_type === 'stream' && output.name === name ? output.text : '')).join('');
}

function result(outputs: readonly CellOutput[]): unknown {
  const found = outputs.find((output) => output.output_type === 'execute_result');
  return found?.output_type === 'execute_result' ? found.data['text/plain'] : undefined;
}

function errorName(outputs: readonly CellOutput[]): string | undefined {
  const found = outputs.find((output) => output.output_type === 'error');
  return found?.output_type === 'error' ? found.ename : undefined;
}

describe('a Python session', () => {
  let session: KernelSession;
  before(async () => {
    session = await KernelSession.create();
  });
  after(async () => {
    await session?.close();
  });

  test('runs under bubblewrap with seccomp and limits', () => {
    const notes = session.confinement.notes.join(' | ');
    assert.match(notes, /bubblewrap/i, notes);
    assert.deepEqual(session.confinement.warnings, []);
  });

  test('keeps state between cells and shows the last expression', async () => {
    const first = await session.execute('x = 20\ny = x + 1');
    assert.equal(first.status, 'ok');
    const second = await session.execute('x * 2 + y');
    assert.equal(second.status, 'ok');
    assert.equal(result(second.outputs), '61');
    assert.equal(second.executionCount, (first.executionCount ?? 0) + 1);
  });

  test('streams output while the cell runs', async () => {
    const arrivals: number[] = [];
    const start = Date.now();
    const cell = await session.execute("import time\nprint('early', flush=True)\ntime.sleep(1.5)\nprint('late')", {
      onOutput: (output) => {
        if (output.output_type === 'stream') arrivals.push(Date.now() - start);
      },
    });
    assert.equal(cell.status, 'ok');
    assert.equal(text(cell.outputs), 'early\nlate\n');
    const finished = Date.now() - start;
    assert.ok((arrivals[0] ?? finished) < finished - 1000, `first output at ${arrivals[0]} ms, cell ended at ${finished} ms`);
  });

  test('C-level writes to fd 1 and 2 arrive as streams and do not corrupt the replies', async () => {
    const cell = await session.execute("import os\nos.write(1, b'{\"not\": \"a reply\"}\\n')\nos.write(2, b'raw err\\n')\n'after'");
    assert.equal(cell.status, 'ok');
    assert.match(text(cell.outputs), /not/);
    assert.match(text(cell.outputs, 'stderr'), /raw err/);
    assert.equal(result(cell.outputs), "'after'");
  });

  test('an error is data: name, value and a traceback naming the line', async () => {
    const cell = await session.execute('a = 1\nb = a / 0');
    assert.equal(cell.status, 'error');
    const error = cell.outputs.find((output) => output.output_type === 'error');
    assert.ok(error?.output_type === 'error');
    assert.equal(error.ename, 'ZeroDivisionError');
    assert.match(error.traceback.join('\n'), /line 2/);
    assert.equal((await session.execute('a')).status, 'ok');
  });

  test('an interrupt stops a cell and keeps the variables', async () => {
    await session.execute('kept = 42');
    const running = session.execute('import time\ntime.sleep(60)');
    setTimeout(() => session.interrupt(), 500);
    const cell = await running;
    assert.equal(cell.status, 'aborted');
    assert.equal(errorName(cell.outputs), 'KeyboardInterrupt');
    assert.equal(result((await session.execute('kept')).outputs), '42');
  });

  test('a cell past its time limit is interrupted, and the session goes on', async () => {
    await session.execute('before_timeout = 7');
    const cell = await session.execute("print('partial', flush=True)\nwhile True: pass", { timeoutMs: 800 });
    assert.equal(cell.status, 'timeout');
    assert.equal(text(cell.outputs), 'partial\n');
    assert.equal(errorName(cell.outputs.slice(-1)), 'TimeoutError');
    assert.equal(result((await session.execute('before_timeout')).outputs), '7');
  });

  test('an AbortSignal cancels a cell', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const cell = await session.execute('import time\ntime.sleep(30)', { signal: controller.signal });
    assert.equal(cell.status, 'aborted');
  });

  test('captures figures as PNG, and SVG on request, with Chinese labels', async () => {
    const cell = await session.execute("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('季度收入')\nplt.show()", { svg: true });
    assert.equal(cell.status, 'ok');
    const figure = cell.outputs.find((output) => output.output_type === 'display_data');
    assert.ok(figure?.output_type === 'display_data');
    const png = Buffer.from(String(figure.data['image/png']), 'base64');
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.match(String(figure.data['image/svg+xml']), /<svg/);
    assert.doesNotMatch(text(cell.outputs, 'stderr'), /Glyph .* missing/);
  });

  test('DataFrames come back with a capped, JSON-safe table preview', async () => {
    const cell = await session.execute("import pandas as pd, numpy as np\npd.DataFrame({'a': range(100), 'b': [np.nan] + [1.5] * 99})");
    const shown = cell.outputs.find((output) => output.output_type === 'execute_result');
    assert.ok(shown?.output_type === 'execute_result');
    const table = shown.data[tableMimeType] as TablePreview;
    assert.deepEqual(table.columns, ['a', 'b']);
    assert.equal(table.row_count, 100);
    assert.equal(table.truncated, true);
    assert.ok(table.rows.length <= 50);
    assert.deepEqual(table.rows[0], [0, null]);
  });

  test('hands a query result to the kernel as a DataFrame and back', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'iquery-frame-data-'));
    writeFileSync(join(folder, 'orders.csv'), 'id,region,amount,day\n1,north,10.5,2024-01-01\n2,south,,2024-01-02\n3,north,7.25,2024-02-01\n');
    const source = await openSource(folder, { home });
    try {
      const summary = await session.putFrame('orders', source, 'SELECT * FROM orders ORDER BY id');
      assert.equal(summary.rows, 3);
      const cell = await session.execute("totals = orders.groupby('region', observed=True)['amount'].sum().reset_index()\n(len(orders), str(orders['day'].dtype), orders['amount'].isna().sum())");
      assert.equal(result(cell.outputs), "(3, 'datetime64[ns]', 1)");
      const back = await session.getFrame('totals');
      assert.equal(back.rowCount, 2);
      assert.deepEqual(back.columns.map((column) => column.name), ['region', 'amount']);
      await assert.rejects(session.putFrame('bad', source, 'DELETE FROM orders'), (error: unknown) => error instanceof IqueryError && error.code === 'sql_refused');
    } finally {
      await source.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('the workspace holds files the code writes; links out of it are refused on the host', async () => {
    await session.execute("open('/workspace/report.txt', 'w').write('hello')");
    assert.ok(session.listFiles().some((file) => file.path === 'report.txt' && file.bytes === 5));
    assert.equal(session.readFile('report.txt').toString(), 'hello');
    symlinkSync('/etc/passwd', join(session.workspace, 'sneaky'));
    assert.throws(() => session.readFile('sneaky'), /symbolic link/);
    assert.throws(() => session.readFile('../../etc/passwd'), /outside/);
    session.writeFile('upload.csv', Buffer.from('a,b\n1,2\n'));
    assert.equal(result((await session.execute("open('/workspace/upload.csv').read()")).outputs), "'a,b\\n1,2\\n'");
  });

  test('reviews code without running it', async () => {
    const findings = await session.review("import subprocess\nsubprocess.run(['ls'])\nopen('/etc/passwd')");
    const kinds = findings.map((finding) => finding.kind);
    assert.ok(kinds.includes('subprocess'), kinds.join(','));
    assert.ok(kinds.includes('open-outside-workspace'), kinds.join(','));
    assert.ok(!existsSync(join(session.workspace, 'never')));
  });

  test('reports the kernel memory', async () => {
    const bytes = await session.memoryBytes();
    assert.ok(bytes > 20 * 2 ** 20 && bytes < 2 * 2 ** 30, `rss ${bytes}`);
  });
});

describe('crashes', () => {
  for (const [name, code] of [
    ['a segfault', 'import ctypes\nctypes.string_at(0)'],
    ['os._exit', 'import os\nos._exit(3)'],
  ] as const) {
    test(`${name} gives a clear error and a fresh kernel, and the session goes on`, async () => {
      const session = await KernelSession.create();
      try {
        await session.execute('lost = 1');
        const cell = await session.execute(code);
        assert.equal(cell.status, 'crashed');
        assert.equal(cell.kernelRestarted, true);
        const error = cell.outputs.find((output) => output.output_type === 'error');
        assert.ok(error?.output_type === 'error');
        assert.match(error.evalue, /fresh kernel/);
        const next = await session.execute("'alive'");
        assert.equal(next.status, 'ok');
        assert.equal(result(next.outputs), "'alive'");
        assert.equal(errorName((await session.execute('lost')).outputs), 'NameError');
      } finally {
        await session.close();
      }
    });
  }

  test('a crash in one session leaves another untouched', async () => {
    const [victim, bystander] = await Promise.all([KernelSession.create(), KernelSession.create()]);
    try {
      await bystander.execute('safe = 5');
      await victim.execute('import os\nos._exit(1)');
      assert.equal(result((await bystander.execute('safe')).outputs), '5');
      assert.equal((await bystander.execute("import os\nos.path.exists('/workspace')")).status, 'ok');
    } finally {
      await Promise.all([victim.close(), bystander.close()]);
    }
  });
});

describe('the kernel pool', () => {
  test('hands out warm kernels, reports their memory and reaps idle ones', async () => {
    const pool = new KernelPool({ size: 1, idleMs: 60_000, home });
    try {
      await pool.warm();
      const idle = await pool.idleKernels();
      assert.equal(idle.length, 1);
      assert.ok((idle[0]?.rssBytes ?? 0) > 20 * 2 ** 20);
      const session = await pool.createSession();
      const cell = await session.execute("import sys\n'pandas' in sys.modules and 'matplotlib' in sys.modules");
      assert.equal(result(cell.outputs), 'True');
      await session.close();
      pool.release(session);
    } finally {
      await pool.close();
    }
    const quick = new KernelPool({ size: 1, idleMs: 1, home });
    try {
      await quick.warm();
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await quick.reap(), 1);
      assert.deepEqual(await quick.idleKernels(), []);
    } finally {
      await quick.close();
    }
  });
});
