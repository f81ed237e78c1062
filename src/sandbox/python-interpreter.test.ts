/** Which Python the kernel runs with, including the virtual-environment fallback, on a real sandbox. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import { KernelSession } from './kernel-session.js';
import { resolvePythonInterpreter, systemPython } from './python-interpreter.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-python-'));
// Reachable by the sandbox's unprivileged uid, which must read the virtual environment and reach the workspaces.
chmodSync(folder, 0o755);
after(() => rmSync(folder, { recursive: true, force: true }));

describe('the Python interpreter', () => {
  test('is the system python3 unless told otherwise', () => {
    const chosen = resolvePythonInterpreter({});
    assert.equal(chosen.path, systemPython);
    assert.deepEqual(chosen.mounts, []);
  });

  test('a missing or unusable interpreter is a clear error', () => {
    assert.throws(() => resolvePythonInterpreter({ IQUERY_PYTHON: join(folder, 'nope', 'python3') }), (error: unknown) => error instanceof IqueryError && error.code === 'bad_input' && /No Python interpreter/.test(error.message));
    const foreign = join(folder, 'foreign-venv');
    mkdirSync(join(foreign, 'bin'), { recursive: true });
    symlinkSync(systemPython, join(foreign, 'bin', 'python3'));
    writeFileSync(join(foreign, 'pyvenv.cfg'), 'home = /root/.pyenv/versions/3.11.7/bin\n');
    assert.throws(() => resolvePythonInterpreter({ IQUERY_PYTHON: join(foreign, 'bin', 'python3') }), /cannot see/);
  });

  test('a virtual environment made from /usr/bin/python3 runs the kernel in the sandbox', async () => {
    const environment = join(folder, 'venv');
    const made = spawnSync(systemPython, ['-m', 'venv', '--without-pip', '--system-site-packages', environment], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const chosen = resolvePythonInterpreter({ IQUERY_PYTHON: join(environment, 'bin', 'python3') });
    assert.equal(chosen.path, '/opt/iquery/venv/bin/python3');
    assert.deepEqual(chosen.mounts, [{ host: environment, sandbox: '/opt/iquery/venv' }]);
    process.env['IQUERY_PYTHON'] = join(environment, 'bin', 'python3');
    const sessions = join(folder, 'sessions');
    mkdirSync(sessions, { mode: 0o711 });
    const session = await KernelSession.create({ workspace: join(sessions, 'one', 'workspace') });
    try {
      const cell = await session.execute('import sys, pandas\n(sys.prefix, pandas.__name__)');
      const shown = cell.outputs.find((output) => output.output_type === 'execute_result');
      assert.ok(shown?.output_type === 'execute_result', JSON.stringify(cell.outputs));
      assert.equal(shown.data['text/plain'], "('/opt/iquery/venv', 'pandas')");
    } finally {
      delete process.env['IQUERY_PYTHON'];
      await session.close();
    }
  });
});
