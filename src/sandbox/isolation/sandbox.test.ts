/** The sandbox itself: its command line, its start-up, its limits as the host sees them, and kill(). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IqueryError } from '../../errors.js';
import { bubblewrapArguments, findBubblewrap, probeBubblewrap, type Bubblewrap, type HostLayout } from './bubblewrap.js';
import { checkSandbox, defaultSandboxLimits, noSandboxWarning, sandboxUnavailableError, spawnSandboxed, type SandboxedProcess } from './sandbox.js';
import { childPids, processesOfUser, runningAsRoot } from './sandbox-user.js';
import { newWorkspace, pythonPackage, runConfined } from './testing/run-confined.js';
import { measureFolder } from './workspace-watch.js';

const sandbox = checkSandbox();
const noSandbox = sandbox.available ? false : `no sandbox here: ${sandbox.reason ?? ''}`;
const notRoot = runningAsRoot() ? false : 'needs root: only then do sandboxes get their own host uid';

function uidOf(notes: readonly string[]): number | undefined {
  const note = notes.find((text) => /^uid \d+$/.test(text));
  return note === undefined ? undefined : Number(note.slice(4));
}

/** Every process below `pid` on the host. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  for (const child of childPids(pid)) found.push(child, ...descendants(child));
  return found;
}

function statusOf(pid: number): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const [name, ...value] = line.split(':');
    if (name !== undefined) fields[name] = value.join(':').trim();
  }
  return fields;
}

/** Groups this test process created that still exist anywhere under /sys/fs/cgroup. */
function leftoverGroups(folder = '/sys/fs/cgroup', depth = 0): string[] {
  if (depth > 5) return [];
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(folder, entry.name);
    if (entry.name.startsWith(`iquery-${process.pid}-`)) found.push(path);
    else found.push(...leftoverGroups(path, depth + 1));
  }
  return found;
}

/** Starts Python with confine applied, which prints `ready` and then runs `code`. */
async function startPython(code: string, options: { limits?: Partial<typeof defaultSandboxLimits>; sandbox?: boolean } = {}): Promise<SandboxedProcess> {
  const program = `import sys\nfrom iquery_kernel import confine\nconfine.apply_from_environment()\nprint('ready', flush=True)\n${code}`;
  return spawnSandboxed({
    workspace: newWorkspace(),
    command: ['/usr/bin/python3', '-c', program],
    readOnlyMounts: [{ host: pythonPackage(), sandbox: '/opt/iquery/python' }],
    environment: { PYTHONPATH: '/opt/iquery/python' },
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
  });
}

function firstLine(process: SandboxedProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0] ?? '');
    });
    process.child.once('exit', () => reject(new Error(`exited before a line; stdout: ${text}`)));
  });
}

after(() => {
  assert.deepEqual(leftoverGroups(), [], 'cgroups left behind');
});

describe('the bubblewrap command line', () => {
  const bubblewrap: Bubblewrap = { path: '/usr/bin/bwrap', version: '0.8.0', tmpfsSize: true, disableUserNamespaces: true };
  const host: HostLayout = { usrSymlinks: [{ name: 'bin', target: 'usr/bin' }], systemFolders: [], etcEntries: ['/etc/ld.so.cache', '/etc/alternatives'] };
  const argv = bubblewrapArguments(
    bubblewrap,
    {
      workspace: '/srv/iquery/session-1',
      readOnlyMounts: [{ host: '/usr/lib/iquery/python', sandbox: '/opt/iquery/python' }],
      environment: { PYTHONPATH: '/opt/iquery/python' },
      tmpBytes: 1000,
      sharedMemoryBytes: 500,
      passwdFile: '/tmp/etc/passwd',
      groupFile: '/tmp/etc/group',
      command: ['/usr/bin/python3', '-m', 'iquery_kernel'],
    },
    host,
  );
  const line = argv.join(' ');

  test('unshares every namespace, keeps no network, drops every capability', () => {
    for (const option of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--cap-drop ALL', '--clearenv', '--hostname sandbox']) {
      assert.ok(line.includes(option), option);
    }
    assert.ok(!line.includes('--share-net'));
  });

  test('mounts only the system, the workspace and what it is given', () => {
    const sources: string[] = [];
    argv.forEach((argument, index) => {
      if (['--bind', '--ro-bind', '--ro-bind-try', '--dev-bind'].includes(argument)) sources.push(argv[index + 1] ?? '');
    });
    assert.deepEqual(sources, ['/usr', '/etc/ld.so.cache', '/etc/alternatives', '/tmp/etc/passwd', '/tmp/etc/group', '/srv/iquery/session-1', '/usr/lib/iquery/python']);
    assert.ok(line.includes('--bind /srv/iquery/session-1 /workspace'));
    assert.ok(line.includes('--size 1000 --tmpfs /tmp'));
    assert.ok(line.includes('--size 500 --tmpfs /dev/shm'));
  });

  test('makes the root read-only after the last mount, then runs the command in /workspace', () => {
    const separator = argv.indexOf('--');
    assert.deepEqual(argv.slice(separator - 4), ['--remount-ro', '/', '--chdir', '/workspace', '--', '/usr/bin/python3', '-m', 'iquery_kernel']);
    const lastMount = Math.max(...argv.map((argument, index) => (/^--(ro-)?bind|^--tmpfs|^--symlink/.test(argument) ? index : -1)));
    assert.ok(lastMount < argv.indexOf('--remount-ro', argv.indexOf('/workspace')));
  });

  test('leaves --size and --disable-userns out for an older bubblewrap', () => {
    const older = bubblewrapArguments({ ...bubblewrap, tmpfsSize: false, disableUserNamespaces: false }, {
      workspace: '/w', readOnlyMounts: [], environment: {}, tmpBytes: 1, sharedMemoryBytes: 1, passwdFile: '/p', groupFile: '/g', command: ['true'],
    }, host);
    assert.ok(!older.includes('--size') && !older.includes('--disable-userns'));
  });
});

describe('finding bubblewrap', () => {
  test('without bwrap, Python is refused with the install command', () => {
    const probe = probeBubblewrap(undefined, findBubblewrap('', []));
    assert.ok(!probe.available);
    assert.equal(probe.installHint, 'sudo apt-get install bubblewrap');
    const error = sandboxUnavailableError({ available: false, reason: probe.reason, installHint: probe.installHint });
    assert.equal(error.code, 'bad_input');
    assert.equal(error.hint, 'sudo apt-get install bubblewrap');
    assert.match(error.message, /bubblewrap \(bwrap\) is not installed.*--no-sandbox/);
  });

  test('checkSandbox answers the same twice (cached) and names bwrap', { skip: noSandbox }, () => {
    assert.deepEqual(checkSandbox(), sandbox);
    assert.equal(sandbox.bubblewrap, findBubblewrap());
  });
});

describe('a sandboxed process', { skip: noSandbox }, () => {
  test('starts Python with the protocol descriptors: fd 3 to the host, fd 4 from it', async (context) => {
    const started = Date.now();
    const python = await startPython(`import os\nos.write(3, b'on fd 3\\n')\nprint(os.read(4, 100).decode().strip(), flush=True)\nsys.stdin.read()`);
    const spawned = Date.now() - started;
    try {
      const replies = new Promise<string>((resolve) => python.child.stdio[3]?.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      const lines: string[] = [];
      const echoed = new Promise<void>((resolve) => {
        python.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
          if (lines.length === 0) context.diagnostic(`spawnSandboxed ${spawned} ms, first output of Python ${Date.now() - started} ms`);
          lines.push(...chunk.split('\n').filter(Boolean));
          if (lines.includes('from the host')) resolve();
        });
      });
      assert.equal(await replies, 'on fd 3\n');
      (python.child.stdio[4] as NodeJS.WritableStream).write('from the host\n');
      await echoed;
      assert.deepEqual(lines, ['ready', 'from the host']);
      assert.deepEqual(python.warnings, []);
      assert.ok(python.notes.some((note) => note.startsWith('bubblewrap')), python.notes.join(', '));
    } finally {
      await python.kill();
    }
  });

  test('runs as an unprivileged host uid with no capabilities, seen from the host', { skip: notRoot }, async () => {
    const python = await startPython('sys.stdin.read()');
    try {
      await firstLine(python);
      const uid = uidOf(python.notes);
      assert.ok(uid !== undefined && uid >= 600_000 && uid <= 699_999, python.notes.join(', '));
      const processes = descendants(python.child.pid ?? 0);
      assert.ok(processes.length >= 2, 'bwrap and Python');
      for (const pid of [python.child.pid ?? 0, ...processes]) {
        const status = statusOf(pid);
        assert.deepEqual(status['Uid']?.split(/\s+/).map(Number), [uid, uid, uid, uid], `pid ${pid}`);
        assert.equal(status['CapEff'], '0000000000000000', `pid ${pid}`);
        assert.equal(status['NoNewPrivs'], '1', `pid ${pid}`);
      }
      // bwrap, which the host started, carries no environment (it would be /proc/1/environ inside)
      assert.equal(readFileSync(`/proc/${python.child.pid}/environ`).length, 0);
    } finally {
      await python.kill();
    }
  });

  test('imports pandas, numpy and matplotlib and allocates 500 MB under the default limits; 3 GB fails and Python lives on', async () => {
    const run = await runConfined(`import numpy, pandas, matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plot
frame = pandas.DataFrame({'x': numpy.arange(1000)})
plot.plot(frame['x']); plot.savefig('/workspace/figure.png')
block = numpy.ones(500 * 1024 ** 2 // 8)
small = float(block.sum())
del block
big = tried(lambda: numpy.ones(3 * 1024 ** 3 // 8))
report(small=small, big=big['error'], rows=len(frame), confinement=CONFINEMENT)`);
    assert.ok(run.report !== undefined, run.stderr);
    assert.equal(run.report['small'], (500 * 1024 ** 2) / 8);
    assert.equal(run.report['big'], 'MemoryError');
    assert.equal(run.report['rows'], 1000);
    assert.ok(existsSync(join(run.workspace, 'figure.png')));
    assert.ok((run.report['confinement'] as string[]).includes(`rlimit address space ${defaultSandboxLimits.memoryBytes}`));
  });

  test('multiprocessing works: fork, pipes and semaphores in /dev/shm', async () => {
    const run = await runConfined(`import multiprocessing
with multiprocessing.Pool(2) as pool:
    squares = pool.map(abs, [-1, -2, -3])
lock = multiprocessing.Lock()
report(squares=squares, lock=lock.acquire())`);
    assert.deepEqual(run.report, { squares: [1, 2, 3], lock: true }, run.stderr);
  });

  test('kill() stops an endless loop', async () => {
    const python = await startPython('while True:\n    pass');
    await firstLine(python);
    await python.kill();
    assert.ok(python.child.exitCode !== null || python.child.signalCode !== null);
    assert.deepEqual(descendants(python.child.pid ?? 0), []);
  });

  test('kill() leaves no process of a fork bomb, and removes its cgroup', async () => {
    const python = await startPython(`import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)`);
    await firstLine(python);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const uid = uidOf(python.notes);
    if (uid !== undefined) assert.ok((await processesOfUser(uid)).length > 2, 'the bomb did not start');
    await python.kill();
    await python.kill(); // idempotent
    if (uid !== undefined) assert.deepEqual(await processesOfUser(uid), []);
    assert.deepEqual(leftoverGroups(), []);
  });

  test('a fork bomb in one sandbox does not stop another from starting processes', async () => {
    const bomb = await startPython(`import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)`);
    try {
      await firstLine(bomb);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const run = await runConfined(`import subprocess\nreport(printed=subprocess.run(['/usr/bin/python3', '-c', 'print(1)'], capture_output=True, text=True).stdout.strip())`);
      assert.deepEqual(run.report, { printed: '1' }, run.stderr);
    } finally {
      await bomb.kill();
    }
  });

  test('the workspace watchdog stops a sandbox that fills its workspace', async () => {
    const limits = { workspaceBytes: 8 * 1024 ** 2 };
    const run = await runConfined(`import time
for index in range(200):
    with open(f'/workspace/fill-{index}', 'wb') as file:
        file.write(b'x' * 1024 ** 2)
    time.sleep(0.02)
report(finished=True)`, { limits });
    assert.equal(run.report, undefined, 'the sandbox was not stopped');
    assert.ok(run.warnings.some((warning) => warning.includes('workspace grew past')), run.warnings.join('\n'));
    const usage = await measureFolder(run.workspace);
    assert.ok(usage.bytes < 200 * 1024 ** 2);
  });

  test('the host never follows a link the sandbox left in its workspace when it hands the workspace over', { skip: notRoot }, async () => {
    const victimFolder = mkdtempSync(join(tmpdir(), 'iquery-victim-'));
    const victim = join(victimFolder, 'victim');
    writeFileSync(victim, 'host file');
    const workspace = newWorkspace();
    mkdirSync(join(workspace, 'nested'));
    symlinkSync(victim, join(workspace, 'nested', 'link'));
    symlinkSync(victimFolder, join(workspace, 'folder-link'));
    // owned by root, so spawnSandboxed must chown the whole tree to the sandbox uid
    chownSync(workspace, 0, 0);
    try {
      const run = await runConfined(`report(owner=os.stat('/workspace/nested').st_uid)`, { workspace });
      assert.deepEqual(run.report, { owner: 1000 }, run.stderr);
      assert.equal(lstatSync(victim).uid, 0, 'the host chowned a file outside the workspace');
      assert.equal(lstatSync(victimFolder).uid, 0);
      assert.equal(lstatSync(join(workspace, 'nested', 'link')).uid, uidOf(run.notes));
    } finally {
      rmSync(victimFolder, { recursive: true, force: true });
    }
  });

  test('a workspace the sandbox uid cannot reach is refused with what to do', { skip: notRoot }, async () => {
    const closed = mkdtempSync(join(tmpdir(), 'iquery-closed-'));
    try {
      await assert.rejects(
        spawnSandboxed({ workspace: join(closed, 'workspace'), command: ['/usr/bin/true'] }),
        (error: unknown) => error instanceof IqueryError && error.code === 'bad_input' && /cannot enter/.test(error.message) && /chmod o\+x/.test(error.hint ?? ''),
      );
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });

  test('a mount over the sandbox layout is a bug', async () => {
    await assert.rejects(
      spawnSandboxed({ workspace: newWorkspace(), command: ['/usr/bin/true'], readOnlyMounts: [{ host: '/etc', sandbox: '/usr/lib' }] }),
      (error: unknown) => error instanceof IqueryError && error.code === 'internal',
    );
  });
});

describe('--no-sandbox', () => {
  test('runs confined in-process, warns, and maps /workspace to the host folder', async () => {
    const run = await runConfined(`import socket
report(cwd=os.getcwd(), uid=os.getuid(), tmp=os.environ['TMPDIR'], seccomp=[line.split(':')[1].strip() for line in open('/proc/self/status') if line.startswith('Seccomp:')][0],
       network=tried(lambda: socket.create_connection(('127.0.0.1', 5432), timeout=3))['error'])`, { sandbox: false });
    assert.ok(run.report !== undefined, run.stderr);
    assert.deepEqual(run.warnings, [noSandboxWarning]);
    assert.equal(run.report['cwd'], run.workspace);
    assert.notEqual(run.report['tmp'], '/tmp');
    if (runningAsRoot()) assert.equal(run.report['uid'], uidOf(run.notes));
    if (spawnSync('/usr/bin/python3', ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0) {
      assert.equal(run.report['seccomp'], '2');
      assert.equal(run.report['network'], 'PermissionError');
    }
  });
});
