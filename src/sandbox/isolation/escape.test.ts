/**
 * Escape attempts: real Python, in a real sandbox made by spawnSandboxed, after confine.py, as the
 * kernel runs. Each attempt is data (what the code tries, what containment looks like) and one test.
 * Attempts marked `confine: false` take the seccomp filter and rlimits away, to show that the
 * namespaces hold on their own.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, openSync, closeSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../package-root.js';
import { checkSandbox, type SandboxLimits } from './sandbox.js';
import { runConfined, type ConfinedRun } from './testing/run-confined.js';

// Secrets in the host process: no attempt may find them.
process.env['IQUERY_TEST_SECRET'] = 'hunter2';
process.env['DATABASE_URL'] = 'postgres://admin:hunter2@db.internal:5432/production';

const sandbox = checkSandbox();
const seccompInstalled = spawnSync('/usr/bin/python3', ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0;
const token = `iquery-escape-${process.pid}-${Date.now()}`;
const abstractSocket = `\0${token}`;
const hostFile = openSync(join(packageRoot(), 'package.json'), 'r');

interface EscapeAttempt {
  name: string;
  /** Python run in the sandbox; it calls report(**facts) with what it saw. */
  code: string;
  /** What containment looks like (the report, the exit, the host afterwards). */
  expect: (run: ConfinedRun) => void;
  limits?: Partial<SandboxLimits>;
  /** false: namespaces alone, without rlimits and seccomp. */
  confine?: boolean;
  /** The attempt is stopped by the seccomp filter, so it needs python3-seccomp. */
  seccomp?: boolean;
}

function show(run: ConfinedRun): string {
  return JSON.stringify({ report: run.report, exit: run.exitCode, signal: run.signal, stderr: run.stderr.slice(-1500) }, null, 1);
}

function factsOf(run: ConfinedRun): Record<string, unknown> {
  assert.ok(run.report !== undefined, `the attempt never reported:\n${show(run)}`);
  return run.report;
}

/** The action raised one of `errors` (exception class names, or errno numbers). */
function failed(...errors: (string | number)[]): (run: ConfinedRun) => void {
  return (run) => {
    const facts = factsOf(run);
    assert.equal(facts['ok'], false, show(run));
    if (errors.length > 0) assert.ok(errors.includes(facts['error'] as string) || errors.includes(facts['errno'] as number), show(run));
  };
}

/** A raw system call returned -1 with this errno. */
function denied(errnoName = 'EPERM'): (run: ConfinedRun) => void {
  return (run) => {
    const facts = factsOf(run);
    assert.equal(facts['result'], -1, show(run));
    assert.equal(facts['errno'], errnoName, show(run));
  };
}

/** The report's `field` equals `value`. */
function saw(field: string, value: unknown): (run: ConfinedRun) => void {
  return (run) => assert.deepEqual(factsOf(run)[field], value, show(run));
}

const connect = (family: string, address: string) => `import socket
def action():
    with socket.socket(socket.${family}, socket.SOCK_STREAM) as connection:
        connection.settimeout(3)
        connection.connect(${address})
        return connection.getpeername()
report(**tried(action))`;

const writeFile = (path: string) => `report(**tried(lambda: open(${JSON.stringify(path)}, 'w').write('planted')))`;

const statusField = (field: string) => `report(value=[line.split(':')[1].strip() for line in open('/proc/self/status') if line.startswith('${field}:')][0])`;

const allowedDevices = ['core', 'fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'];

const attempts: EscapeAttempt[] = [
  // The network: seccomp refuses every non-Unix socket; below it, the empty network namespace.
  { name: 'TCP to MariaDB on 127.0.0.1:3306', code: connect('AF_INET', "('127.0.0.1', 3306)"), expect: failed('PermissionError'), seccomp: true },
  { name: 'TCP to PostgreSQL on 127.0.0.1:5432', code: connect('AF_INET', "('127.0.0.1', 5432)"), expect: failed('PermissionError'), seccomp: true },
  { name: 'TCP to Redis on 127.0.0.1:6379', code: connect('AF_INET', "('127.0.0.1', 6379)"), expect: failed('PermissionError'), seccomp: true },
  { name: 'TCP to MariaDB over IPv6 ::1', code: connect('AF_INET6', "('::1', 3306)"), expect: failed('PermissionError'), seccomp: true },
  {
    name: 'UDP to 1.1.1.1:53',
    code: `import socket\nreport(**tried(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('1.1.1.1', 53))))`,
    expect: failed('PermissionError'),
    seccomp: true,
  },
  { name: 'resolving a host name', code: `import socket\nreport(**tried(lambda: socket.getaddrinfo('example.com', 443)))`, expect: failed('gaierror') },
  { name: 'a raw packet socket', code: `import socket\nreport(**tried(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)))`, expect: failed('PermissionError'), seccomp: true },
  { name: 'a netlink socket (routes, interfaces)', code: `import socket\nreport(**tried(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)))`, expect: failed('PermissionError'), seccomp: true },
  { name: 'a vsock to the hypervisor', code: `import socket\nreport(**tried(lambda: socket.socket(40, socket.SOCK_STREAM)))`, expect: failed('PermissionError'), seccomp: true },
  { name: 'io_uring (it can open sockets without socket(2))', code: `report(**syscall('io_uring_setup', 8, 0))`, expect: denied(), seccomp: true },
  {
    name: "the host's abstract Unix socket",
    code: `import socket\nreport(**tried(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(${JSON.stringify(abstractSocket)})))`,
    expect: failed('ConnectionRefusedError'),
  },
  { name: 'MariaDB with the filter off: the namespace has no route out', code: connect('AF_INET', "('127.0.0.1', 3306)"), expect: failed('ConnectionRefusedError'), confine: false },
  { name: '1.1.1.1:53 with the filter off: network unreachable', code: connect('AF_INET', "('1.1.1.1', 53)"), expect: failed(101), confine: false },
  {
    name: 'network interfaces with the filter off: loopback only',
    code: `report(interfaces=[line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]])`,
    expect: saw('interfaces', ['lo']),
    confine: false,
  },

  // The host's files.
  { name: 'reading /etc/shadow', code: `report(**tried(lambda: open('/etc/shadow').read()))`, expect: failed('FileNotFoundError') },
  {
    name: 'the host folders: /root, /home, /var, /srv, /mnt, /media, /run, /work, /boot, /sys',
    code: `report(present=[path for path in ['/root', '/home', '/var', '/srv', '/mnt', '/media', '/run', '/work', '/boot', '/sys', '/lost+found'] if os.path.lexists(path)])`,
    expect: saw('present', []),
  },
  { name: "iquery's own source", code: `report(present=os.path.lexists(${JSON.stringify(packageRoot())}), src=os.path.lexists('/work/main/src'))`, expect: (run) => assert.deepEqual(factsOf(run), { present: false, src: false }) },
  { name: 'the Docker socket', code: `report(present=[path for path in ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock'] if os.path.lexists(path)])`, expect: saw('present', []) },
  { name: '/opt holds only the mounted kernel package', code: `report(opt=os.listdir('/opt'), iquery=os.listdir('/opt/iquery'))`, expect: (run) => assert.deepEqual(factsOf(run), { opt: ['iquery'], iquery: ['python'] }) },
  {
    name: '/etc holds only what Python needs, and no host accounts',
    code: `report(etc=sorted(os.listdir('/etc')), users=[line.split(':')[0] for line in open('/etc/passwd')])`,
    expect: (run) => {
      const facts = factsOf(run);
      const allowed = ['alternatives', 'fonts', 'group', 'ld.so.cache', 'localtime', 'matplotlibrc', 'mime.types', 'passwd', 'python3', 'python3.11', 'python3.12', 'python3.13'];
      assert.deepEqual((facts['etc'] as string[]).filter((name) => !allowed.includes(name)), [], show(run));
      assert.deepEqual(facts['users'], ['root', 'sandbox', 'nobody'], show(run));
    },
  },
  { name: '/dev holds only harmless devices', code: `report(devices=sorted(os.listdir('/dev')))`, expect: (run) => assert.deepEqual((factsOf(run)['devices'] as string[]).filter((name) => !allowedDevices.includes(name)), []) },
  { name: 'the host root through /proc/1/root', code: `report(**tried(lambda: open('/proc/1/root/etc/shadow').read()))`, expect: failed('FileNotFoundError') },

  // Secrets and other processes.
  {
    name: "the host's environment variables in os.environ and /proc/self/environ",
    code: `report(names=sorted(os.environ), leaked='hunter2' in open('/proc/self/environ').read() or any('hunter2' in value for value in os.environ.values()))`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.equal(facts['leaked'], false);
      const names = facts['names'] as string[];
      for (const name of ['IQUERY_TEST_SECRET', 'DATABASE_URL', 'PGPASSWORD', 'npm_config_cache', 'SSH_AUTH_SOCK']) assert.ok(!names.includes(name), name);
      assert.ok(names.every((name) => /^(IQUERY_|PYTHON|PATH$|HOME$|LANG$|TMPDIR$|PWD$|OPENBLAS_|OMP_|MKL_|NUMEXPR_|MALLOC_)/.test(name)), names.join(' '));
    },
  },
  {
    name: '/proc/1/environ (bwrap, which the host started)',
    code: `data = open('/proc/1/environ', 'rb').read()\nreport(size=len(data), leaked=b'hunter2' in data or b'DATABASE_URL' in data)`,
    expect: (run) => assert.deepEqual(factsOf(run), { size: 0, leaked: false }),
  },
  {
    name: 'every visible process: only the sandbox, and no secret in any environment',
    code: `pids = [name for name in os.listdir('/proc') if name.isdigit()]
commands = {pid: open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')[0].decode() for pid in pids}
leaked = [pid for pid in pids if b'hunter2' in (tried(lambda: open(f'/proc/{pid}/environ', 'rb').read()).get('value') or b'')]
report(commands=sorted(set(commands.values())), count=len(pids), leaked=leaked, host_pid_visible=os.path.exists('/proc/' + os.environ['IQUERY_TEST_HOST_PID']))`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.deepEqual(facts['leaked'], []);
      assert.equal(facts['host_pid_visible'], false);
      assert.ok((facts['count'] as number) <= 3, show(run));
      assert.ok((facts['commands'] as string[]).every((command) => /bwrap|python3/.test(command)), show(run));
    },
  },

  // Writing outside the workspace.
  { name: 'writing into /usr/bin', code: writeFile('/usr/bin/planted'), expect: failed(30) },
  { name: 'writing into /etc', code: writeFile('/etc/planted'), expect: failed(30) },
  { name: "writing into Python's system packages", code: writeFile('/usr/lib/python3/dist-packages/sitecustomize.py'), expect: failed(30) },
  { name: 'writing into /usr/local site-packages', code: writeFile('/usr/local/lib/python3.11/dist-packages/planted.py'), expect: failed(30, 2) },
  { name: 'writing at the root of the sandbox', code: writeFile('/planted'), expect: failed(30) },
  { name: 'writing into /dev', code: writeFile('/dev/planted'), expect: failed(30) },
  {
    name: "a marker in the sandbox's /tmp does not reach the host's /tmp",
    code: `report(**tried(lambda: open('/tmp/${token}', 'w').write('marker')))`,
    expect: (run) => {
      assert.equal(factsOf(run)['ok'], true, show(run));
      assert.equal(existsSync(join('/tmp', token)), false);
      assert.equal(existsSync(join(tmpdir(), token)), false);
    },
  },
  {
    name: 'a symlink from the workspace to /etc/shadow',
    code: `os.symlink('/etc/shadow', '/workspace/shadow')\nreport(**tried(lambda: open('/workspace/shadow').read()))`,
    expect: (run) => {
      failed('FileNotFoundError')(run);
      // The link is still in the host's workspace: host code must never follow it (see the notes for the lead).
      assert.equal(readlinkSync(join(run.workspace, 'shadow')), '/etc/shadow');
    },
  },
  {
    name: "a symlink from the workspace to iquery's source",
    code: `os.symlink(${JSON.stringify(packageRoot())}, '/workspace/project')\nreport(**tried(lambda: os.listdir('/workspace/project')))`,
    expect: failed('FileNotFoundError'),
  },
  { name: 'a hard link to a system file', code: `report(**tried(lambda: os.link('/usr/bin/python3', '/workspace/python3')))`, expect: failed(18, 1) },

  // Resources.
  {
    name: 'a fork bomb',
    code: `import time
count, error = 0, None
while count < 10000:
    try:
        pid = os.fork()
    except OSError as failure:
        error = type(failure).__name__
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    count += 1
report(forks=count, error=error)`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.equal(facts['error'], 'BlockingIOError', show(run));
      assert.ok((facts['forks'] as number) < 64, show(run));
    },
  },
  {
    name: 'a memory bomb',
    code: `big = tried(lambda: len(bytearray(3 * 1024 ** 3)))
chunks, grown = [], None
try:
    while len(chunks) < 64:
        chunks.append(bytearray(256 * 1024 ** 2))
except MemoryError:
    grown = len(chunks)
del chunks
report(big=big['error'], grown=grown, alive=True)`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.equal(facts['big'], 'MemoryError', show(run));
      assert.ok(typeof facts['grown'] === 'number' && facts['grown'] < 8, show(run));
      assert.equal(facts['alive'], true);
    },
  },
  {
    name: 'a file past the file-size limit',
    code: `def action():
    with open('/workspace/huge', 'wb') as file:
        for _ in range(16):
            file.write(b'x' * 1024 ** 2)
report(**tried(action))`,
    expect: failed(27),
    limits: { fileSizeBytes: 8 * 1024 ** 2 },
  },
  {
    name: "filling the sandbox's /tmp",
    code: `def action():
    for index in range(1000):
        with open(f'/tmp/fill-{index}', 'wb') as file:
            file.write(b'x' * 1024 ** 2)
report(**tried(action))`,
    expect: failed(28),
    limits: { workspaceBytes: 16 * 1024 ** 2 },
  },
  {
    name: 'filling /dev/shm',
    code: `def action():
    with open('/dev/shm/fill', 'wb') as file:
        for _ in range(100):
            file.write(b'x' * 1024 ** 2)
report(**tried(action))`,
    expect: failed(28),
  },
  {
    name: 'an endless loop past the CPU limit',
    code: `report(started=True)\nwhile True:\n    pass`,
    expect: (run) => {
      assert.deepEqual(run.report, { started: true });
      // killed by the kernel: bwrap exits 128 + SIGKILL (9) or SIGXCPU (24)
      assert.ok(run.exitCode === 137 || run.exitCode === 152, show(run));
    },
    limits: { cpuSeconds: 1 },
  },
  {
    name: 'opening descriptors without end',
    code: `files, error = [], None
try:
    while len(files) < 100000:
        files.append(open('/dev/null'))
except OSError as failure:
    error = failure.errno
report(opened=len(files), error=error)`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.equal(facts['error'], 24, show(run));
      assert.ok((facts['opened'] as number) < 256);
    },
  },
  {
    name: 'raising the limits again',
    code: `import resource
names = ['RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_CORE']
results = {}
for name in names:
    limit = getattr(resource, name)
    soft, hard = resource.getrlimit(limit)
    results[name] = tried(lambda: resource.setrlimit(limit, (hard + 1, hard + 1)))['error']
report(**results)`,
    expect: (run) => {
      for (const [name, error] of Object.entries(factsOf(run))) assert.equal(error, 'ValueError', name);
    },
  },

  // Signals.
  {
    name: "killing the sandbox's parent",
    code: `import signal\nos.kill(os.getppid(), signal.SIGKILL)\nreport(parent=os.getppid())`,
    expect: (run) => {
      // pid 1 of a namespace ignores SIGKILL from inside it; either way nothing outside is touched.
      assert.ok(run.report === undefined || run.report['parent'] === 1, show(run));
      assert.ok(sentinelAlive(), 'the host sentinel died');
    },
  },
  {
    name: 'kill(-1, SIGKILL)',
    code: `import signal\nresult = tried(lambda: os.kill(-1, signal.SIGKILL))\nreport(**result)`,
    expect: () => assert.ok(sentinelAlive(), 'the host sentinel died'),
  },

  // The kernel's dangerous calls.
  { name: 'ptrace(PTRACE_TRACEME)', code: `report(**syscall('ptrace', 0, 0, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'ptrace(PTRACE_ATTACH) to pid 1', code: `report(**syscall('ptrace', 16, 1, 0, 0))`, expect: denied(), seccomp: true },
  { name: "process_vm_readv of pid 1's memory", code: `report(**syscall('process_vm_readv', 1, 0, 0, 0, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'mount a tmpfs', code: `report(**syscall('mount', ctypes.cast(ctypes.c_char_p(b'none'), ctypes.c_void_p).value, ctypes.cast(ctypes.c_char_p(b'/tmp'), ctypes.c_void_p).value, ctypes.cast(ctypes.c_char_p(b'tmpfs'), ctypes.c_void_p).value, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'unshare(CLONE_NEWUSER)', code: `report(**syscall('unshare', 0x10000000))`, expect: denied(), seccomp: true },
  {
    name: 'unshare(CLONE_NEWUSER) with the filter off: bwrap disabled user namespaces',
    code: `report(**syscall('unshare', 0x10000000))`,
    expect: (run) => {
      assert.equal(factsOf(run)['result'], -1, show(run));
      assert.ok(['ENOSPC', 'EPERM', 'EUSERS'].includes(factsOf(run)['errno'] as string), show(run));
    },
    confine: false,
  },
  { name: 'unshare(CLONE_NEWNET) with the filter off: no capability for it', code: `report(**syscall('unshare', 0x40000000))`, expect: denied(), confine: false },
  { name: "setns into pid 1's network namespace", code: `descriptor = os.open('/proc/1/ns/net', os.O_RDONLY)\nreport(**syscall('setns', descriptor, 0))`, expect: denied(), seccomp: true },
  {
    name: 'clone(CLONE_NEWUSER) by raw system call',
    code: `outcome = syscall('clone', 0x10000000 | 17, 0, 0, 0, 0)\nif outcome['result'] == 0:\n    os._exit(0)\nreport(**outcome)`,
    expect: denied(),
    seccomp: true,
  },
  { name: 'clone3 (flags out of the filter’s sight)', code: `report(**syscall('clone3', 0, 0))`, expect: denied('ENOSYS'), seccomp: true },
  { name: 'bpf', code: `report(**syscall('bpf', 0, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'keyctl (the kernel keyring)', code: `report(**syscall('keyctl', 0, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'loading a kernel module', code: `report(**syscall('finit_module', 0, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'init_module', code: `report(**syscall('init_module', 0, 0, 0))`, expect: denied(), seccomp: true },
  { name: 'chroot', code: `report(**syscall('chroot', ctypes.cast(ctypes.c_char_p(b'/tmp'), ctypes.c_void_p).value))`, expect: denied(), seccomp: true },
  { name: 'perf_event_open', code: `report(**syscall('perf_event_open', 0, 0, -1, -1, 0))`, expect: denied(), seccomp: true },
  {
    name: 'a setuid binary (mount)',
    code: `import subprocess\nrun = subprocess.run(['/usr/bin/mount', '-t', 'tmpfs', 'none', '/tmp'], capture_output=True)\nreport(code=run.returncode, mounted=any(' /tmp ' in line and 'none' in line for line in open('/proc/self/mountinfo')))`,
    expect: (run) => {
      assert.notEqual(factsOf(run)['code'], 0, show(run));
      assert.equal(factsOf(run)['mounted'], false);
    },
  },
  { name: 'setting the host name', code: `import socket\nreport(name=socket.gethostname(), **tried(lambda: socket.sethostname('pwned')))`, expect: (run) => { failed('PermissionError')(run); assert.equal(factsOf(run)['name'], 'sandbox'); } },
  { name: 'writing /proc/sysrq-trigger', code: writeFile('/proc/sysrq-trigger'), expect: failed() },

  // What the process is.
  { name: 'capabilities: none', code: `report(**{field: [line.split(':')[1].strip() for line in open('/proc/self/status') if line.startswith(field + ':')][0] for field in ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']})`, expect: (run) => { for (const value of Object.values(factsOf(run))) assert.equal(value, '0000000000000000', show(run)); } },
  { name: 'no-new-privs is set', code: statusField('NoNewPrivs'), expect: saw('value', '1') },
  { name: 'the seccomp filter is on', code: statusField('Seccomp'), expect: saw('value', '2'), seccomp: true },
  {
    name: 'inherited descriptors after confine: only the protocol’s',
    code: `report(descriptors=sorted(int(name) for name in os.listdir('/proc/self/fd')))`,
    expect: (run) => assert.deepEqual((factsOf(run)['descriptors'] as number[]).filter((descriptor) => descriptor > 4).length <= 1, true, show(run)),
  },
  {
    name: 'a file Node opened before spawning is not inherited',
    code: `report(descriptors=sorted(int(name) for name in os.listdir('/proc/self/fd')), targets=[tried(lambda: os.readlink(f'/proc/self/fd/{name}')).get('value') for name in os.listdir('/proc/self/fd')])`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.ok(!(facts['descriptors'] as number[]).includes(hostFile) || hostFile <= 4, show(run));
      assert.ok(!(facts['targets'] as (string | null)[]).some((target) => target?.includes('package.json')), show(run));
    },
    confine: false,
  },
  {
    // The host uid behind it is checked from the host in sandbox.test.ts (the map read from inside is relative to bwrap's outer namespace).
    name: 'becoming root: only uid 1000 exists in the namespace',
    code: `report(uid=os.getuid(), euid=os.geteuid(), map=open('/proc/self/uid_map').read().split(), setuid=tried(lambda: os.setuid(0)).get('error'))`,
    expect: (run) => {
      const facts = factsOf(run);
      assert.equal(facts['uid'], 1000);
      assert.equal(facts['euid'], 1000);
      const map = facts['map'] as string[];
      assert.deepEqual([map.length, map[0], map[2]], [3, '1000', '1'], show(run));
      // EINVAL: uid 0 is not mapped at all
      assert.ok(['OSError', 'PermissionError'].includes(facts['setuid'] as string), show(run));
    },
  },
];

let sentinel: ChildProcess | undefined;
let socketServer: Server | undefined;

function sentinelAlive(): boolean {
  return sentinel !== undefined && sentinel.exitCode === null && sentinel.signalCode === null;
}

describe('escape attempts from the Python sandbox', { skip: sandbox.available ? false : `no sandbox here: ${sandbox.reason ?? ''}` }, () => {
  before(async () => {
    // A host process that must outlive every attempt, and a host abstract socket no attempt may reach.
    sentinel = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
    socketServer = createServer((connection) => connection.end('reached the host\n'));
    await new Promise<void>((resolve) => socketServer?.listen({ path: abstractSocket }, resolve));
  });
  after(() => {
    sentinel?.kill('SIGKILL');
    socketServer?.close();
    closeSync(hostFile);
  });

  for (const attempt of attempts) {
    const skip = attempt.seccomp === true && !seccompInstalled ? 'python3-seccomp is not installed: the seccomp filter is not there to test' : false;
    test(attempt.name, { skip }, async () => {
      const run = await runConfined(attempt.code, {
        ...(attempt.limits === undefined ? {} : { limits: attempt.limits }),
        ...(attempt.confine === undefined ? {} : { confine: attempt.confine }),
        environment: { IQUERY_TEST_HOST_PID: String(process.pid) },
        timeoutMs: 30_000,
      });
      attempt.expect(run);
      assert.ok(sentinelAlive(), 'the host sentinel process died');
    });
  }

  test('the attempts leave nothing behind on the host', () => {
    assert.equal(existsSync(join('/tmp', token)), false);
    for (const path of ['/usr/bin/planted', '/etc/planted', '/planted']) assert.equal(existsSync(path), false, path);
    assert.equal(lstatSync('/etc/shadow').uid, 0);
  });
});
