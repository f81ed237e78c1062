import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { IqueryError } from '../errors.js';
import { packageRoot } from '../package-root.js';

export interface PythonInterpreter {
  /** The interpreter's path inside the sandbox. */
  path: string;
  /** Read-only mounts it needs beyond /usr: a virtual environment's folder, at /opt/iquery/venv. */
  mounts: { host: string; sandbox: string }[];
  /** Where the choice came from, for notes and errors. */
  origin: 'IQUERY_PYTHON' | 'set-up' | 'system';
}

/** Where a virtual environment appears in the sandbox; Python finds it from the executable's path. */
const sandboxEnvironmentFolder = '/opt/iquery/venv';

/** The system interpreter with Debian's python3-pandas and friends: the default. */
export const systemPython = '/usr/bin/python3';

/** Written by the set-up when it had to make a virtual environment: `{interpreter}`. */
export function recordedInterpreterFile(): string {
  return join(packageRoot(), '.cache', 'python.json');
}

/** The folder of a virtual environment holding this interpreter (the one with pyvenv.cfg), if any. */
function virtualEnvironmentOf(interpreter: string): string | undefined {
  const prefix = dirname(dirname(interpreter));
  return existsSync(join(prefix, 'pyvenv.cfg')) ? prefix : undefined;
}

/**
 * The Python the kernel runs with: `IQUERY_PYTHON` when set, else the virtual environment the set-up
 * made (the fallback where Debian's packages cannot be installed), else /usr/bin/python3. A virtual
 * environment is mounted read-only at its own path; its base interpreter must be under /usr, which
 * the sandbox always mounts.
 */
export function resolvePythonInterpreter(environment: NodeJS.ProcessEnv = process.env): PythonInterpreter {
  let path = systemPython;
  let origin: PythonInterpreter['origin'] = 'system';
  const configured = environment['IQUERY_PYTHON'];
  if (configured !== undefined && configured !== '') {
    path = resolve(configured);
    origin = 'IQUERY_PYTHON';
  } else if (existsSync(recordedInterpreterFile())) {
    const recorded = JSON.parse(readFileSync(recordedInterpreterFile(), 'utf8')) as { interpreter?: string };
    if (typeof recorded.interpreter === 'string') {
      path = recorded.interpreter;
      origin = 'set-up';
    }
  }
  if (!existsSync(path)) {
    throw new IqueryError('bad_input', `No Python interpreter at ${path} (from ${origin}).`, {
      hint: 'Run `npm run setup` to install the Python environment, or point IQUERY_PYTHON at a python3 that has pandas.',
    });
  }
  const environmentFolder = virtualEnvironmentOf(path);
  if (environmentFolder === undefined || environmentFolder.startsWith('/usr/')) {
    if (!path.startsWith('/usr/')) {
      throw new IqueryError('bad_input', `The Python interpreter ${path} is outside /usr and not in a virtual environment, so the sandbox cannot see its libraries.`, {
        hint: 'Use /usr/bin/python3, or a virtual environment made from it (python3 -m venv).',
      });
    }
    return { path, mounts: [], origin };
  }
  const base = readFileSync(join(environmentFolder, 'pyvenv.cfg'), 'utf8')
    .split('\n')
    .map((line) => line.split('='))
    .find(([key]) => key?.trim() === 'home')?.[1]
    ?.trim();
  if (base === undefined || !base.startsWith('/usr/')) {
    throw new IqueryError('bad_input', `The virtual environment ${environmentFolder} is based on ${base ?? 'an unknown interpreter'}, which the sandbox cannot see (only /usr is mounted).`, {
      hint: 'Make the virtual environment from /usr/bin/python3 (e.g. /usr/bin/python3 -m venv DIR).',
    });
  }
  const relativeInterpreter = path.slice(environmentFolder.length);
  return { path: sandboxEnvironmentFolder + relativeInterpreter, mounts: [{ host: environmentFolder, sandbox: sandboxEnvironmentFolder }], origin };
}
