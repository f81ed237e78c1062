/**
 * The answer service: after a first `iquery ask`, later ones are answered by a background process that
 * keeps iquery loaded; the answers are the same, the socket is the user's only, other commands are
 * refused, and a dead service is replaced.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../package-root.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-service-home-'));
const run = join(home, 'run');
const environment = { ...process.env, IQUERY_HOME: home, IQUERY_ASK_SERVICE: '1', IQUERY_ASK_SERVICE_IDLE: '60' };

function iquery(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'iquery'), ...args], { encoding: 'utf8', env: environment });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function servicePid(): number | undefined {
  const file = existsSync(run) ? readdirSync(run).find((name) => name.endsWith('.sock.pid')) : undefined;
  return file === undefined ? undefined : Number(readFileSync(join(run, file), 'utf8'));
}

async function waitForService(): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const socket = existsSync(run) ? readdirSync(run).find((name) => name.endsWith('.sock')) : undefined;
    if (socket !== undefined && servicePid() !== undefined) return join(run, socket);
    await sleep(100);
  }
  throw new Error('the answer service did not start');
}

function requests(): string[] {
  const log = join(run, 'ask-service.log');
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
}

before(() => {
  const built = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'iquery'), 'demo', '--json'], { encoding: 'utf8', env: { ...environment, IQUERY_ASK_SERVICE: '0' } });
  assert.equal(built.status, 0, built.stderr);
});

after(() => {
  const pid = servicePid();
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  rmSync(home, { recursive: true, force: true });
});

test('the first ask answers by itself and starts the service; later asks are answered by it, the same way', async () => {
  const first = iquery(['ask', '--json', '各合同类型的流失率']);
  assert.equal(first.status, 0, first.stderr);
  const socket = await waitForService();
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  const before = requests().length;
  const second = iquery(['ask', '--json', '各合同类型的流失率']);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(requests().length, before + 1, 'the service answered');
  const strip = (text: string): unknown => ({ ...(JSON.parse(text) as Record<string, unknown>), planningMs: 0 });
  assert.deepEqual(strip(second.stdout), strip(first.stdout));
  // Errors and exit codes come through too.
  const bad = iquery(['ask', '--today', 'someday', 'churn rate']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --today someday is not a date/);
});

test('the service answers questions only', async () => {
  const socket = await waitForService();
  const answer = await new Promise<string>((resolve, reject) => {
    const client = connect({ path: socket, allowHalfOpen: true });
    let text = '';
    client.on('data', (chunk) => (text += String(chunk)));
    client.on('end', () => resolve(text));
    client.on('error', reject);
    client.end(`${JSON.stringify({ argv: ['sql', 'SELECT 1'], cwd: home, env: {} })}\n`);
  });
  const response = JSON.parse(answer) as { code: number; stderr: string };
  assert.equal(response.code, 2);
  assert.match(response.stderr, /only runs `iquery ask`/);
});

test('a dead service is replaced by the next ask', async () => {
  const pid = servicePid();
  assert.ok(pid !== undefined);
  process.kill(pid, 'SIGKILL');
  await sleep(200);
  const answered = iquery(['ask', '--json', '整体流失率是多少']);
  assert.equal(answered.status, 0, answered.stderr);
  assert.equal((JSON.parse(answered.stdout) as { status: string }).status, 'answered');
  for (let attempt = 0; attempt < 100 && servicePid() === pid; attempt++) await sleep(100);
  assert.notEqual(servicePid(), pid);
});
