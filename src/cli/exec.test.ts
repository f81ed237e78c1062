/** `iquery exec` through the real bin/iquery: files as cells of one fresh sandboxed session. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { packageRoot } from '../package-root.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-exec-home-'));
// Reachable (not listable) by the sandbox's unprivileged uid, so session workspaces stay in here and go with it.
chmodSync(home, 0o711);
const folder = mkdtempSync(join(tmpdir(), 'iquery-exec-files-'));
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

function file(name: string, code: string): string {
  const path = join(folder, name);
  writeFileSync(path, code);
  return path;
}

function iquery(args: readonly string[], input?: string) {
  const result = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'iquery'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, IQUERY_HOME: home, IQUERY_EXEC_SECRET: 'do-not-leak' },
    ...(input === undefined ? {} : { input }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Cells {
  status: string;
  cells: { file: string; status: string; outputs: { output_type: string; text?: string; data?: Record<string, unknown>; ename?: string }[] }[];
}

describe('iquery exec', () => {
  test('later files see earlier files\' variables', () => {
    const run = iquery(['exec', file('one.py', 'total = 40\n'), file('two.py', 'print(total + 2)\n')]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '42\n');
  });

  test('separate invocations never share state', () => {
    iquery(['exec', file('set.py', 'shared = 1\n')]);
    const run = iquery(['exec', '--json', file('get.py', 'shared\n')]);
    assert.equal(run.status, 1);
    const output = JSON.parse(run.stdout) as Cells;
    assert.equal(output.cells[0]?.outputs.find((item) => item.output_type === 'error')?.ename, 'NameError');
  });

  test('--json prints Jupyter-shaped outputs', () => {
    const run = iquery(['exec', '--json', file('shapes.py', "print('hi')\n{'a': 1}\n")]);
    assert.equal(run.status, 0, run.stderr);
    const output = JSON.parse(run.stdout) as Cells;
    assert.equal(output.status, 'ok');
    assert.deepEqual(output.cells[0]?.outputs.map((item) => item.output_type), ['stream', 'execute_result']);
    assert.equal(output.cells[0]?.outputs[1]?.data?.['text/plain'], "{'a': 1}");
  });

  test('reads a cell from standard input', () => {
    const run = iquery(['exec', '-'], 'print(6 * 7)\n');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '42\n');
  });

  test('on a timeout, the output produced so far is printed with the error', () => {
    const run = iquery(['exec', '--json', '--timeout', '1', file('slow.py', "print('started', flush=True)\nwhile True: pass\n"), file('after.py', 'print(1)\n')]);
    assert.equal(run.status, 1);
    const output = JSON.parse(run.stdout) as Cells;
    assert.equal(output.cells[0]?.status, 'timeout');
    assert.equal(output.cells[0]?.outputs[0]?.text, 'started\n');
    assert.ok(output.cells[0]?.outputs.some((item) => item.ename === 'TimeoutError'));
    assert.equal(output.cells[1]?.status, 'skipped');
    const plain = iquery(['exec', '--timeout', '1', file('slow2.py', "print('started', flush=True)\nwhile True: pass\n")]);
    assert.equal(plain.status, 1);
    assert.match(plain.stdout, /started/);
    assert.match(plain.stderr, /TimeoutError/);
  });

  test('the code cannot see the host environment', () => {
    const run = iquery(['exec', file('env.py', "import os\nprint(sorted(k for k in os.environ if 'SECRET' in k or 'IQUERY_EXEC' in k))\n")]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '[]\n');
  });

  test('--no-sandbox runs, with a warning every time', () => {
    const run = iquery(['exec', '--no-sandbox', file('plain.py', 'print(1)\n')]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^warning: .*WITHOUT the sandbox/m);
  });

  test('a missing file is a clear error', () => {
    const run = iquery(['exec', join(folder, 'nope.py')]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /nope\.py/);
  });
});
