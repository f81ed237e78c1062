/** For the tests: the real `bin/iquery` in a child process, with its own IQUERY_HOME. */
import { spawnSync } from 'node:child_process';
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
