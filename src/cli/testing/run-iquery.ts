/** For the tests: the real `bin/iquery` in a child process, with its own IQUERY_HOME. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.js';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A stack trace line: errors must not show one without --debug. */
export const stackLine = /^\s+at .+\(.+:\d+:\d+\)$/m;

export function runIquery(home: string, args: readonly string[], options: { environment?: Record<string, string>; input?: string } = {}): Run {
  const result = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'iquery'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, IQUERY_HOME: home, ...options.environment },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The same, without blocking the test's event loop: needed when the test itself serves something
 * the child talks to (the scripted model server).
 */
export function runIqueryAsync(home: string, args: readonly string[], options: { environment?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'iquery'), ...args], {
      env: { ...process.env, IQUERY_HOME: home, ...options.environment },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
