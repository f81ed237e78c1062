/**
 * Runs a piece of Python in a real sandbox the way the kernel will run: spawnSandboxed, then
 * confine.apply_from_environment(), then the code. The code reports what it saw by calling
 * `report(**facts)`; the last report comes back as `report`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../package-root.js';
import { mountableCopy } from '../../session-paths.js';
import { spawnSandboxed, type SandboxLimits, type SandboxedProcess } from '../sandbox.js';

/** Helpers every attempt can use, defined before its code runs. */
const prelude = String.raw`
import ctypes, errno, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)

def report(**facts):
    print('@@report ' + json.dumps(facts, default=str), flush=True)

def tried(action):
    """{'ok': True, 'value': ...} or {'ok': False, 'error': 'PermissionError', 'errno': 1}."""
    try:
        return {'ok': True, 'value': action()}
    except BaseException as error:
        return {'ok': False, 'error': type(error).__name__, 'errno': getattr(error, 'errno', None), 'message': str(error)}

_X86_64 = {'ptrace': 101, 'mount': 165, 'umount2': 166, 'chroot': 161, 'pivot_root': 155, 'unshare': 272,
           'setns': 308, 'clone': 56, 'clone3': 435, 'bpf': 321, 'keyctl': 250, 'init_module': 175,
           'finit_module': 313, 'delete_module': 176, 'kexec_load': 246, 'reboot': 169, 'perf_event_open': 298,
           'userfaultfd': 323, 'io_uring_setup': 425, 'process_vm_readv': 310, 'add_key': 248, 'swapon': 167}

def syscall_number(name):
    try:
        import seccomp
        return seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
    except ImportError:
        return _X86_64[name]

def syscall(name, *arguments):
    """{'result': return value, 'errno': errno name or None}."""
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(syscall_number(name)), *[ctypes.c_long(argument) for argument in arguments])
    number = ctypes.get_errno() if result == -1 else 0
    return {'result': result, 'errno': errno.errorcode.get(number) if number else None}
`;

const bootstrap = String.raw`
import os, sys
if os.environ.get('IQUERY_TEST_CONFINE') == '1':
    from iquery_kernel import confine
    CONFINEMENT = confine.apply_from_environment()
else:
    CONFINEMENT = []
source = open(os.environ['IQUERY_TEST_ATTEMPT']).read()
exec(compile(source, 'attempt.py', 'exec'), {'__name__': '__main__', 'CONFINEMENT': CONFINEMENT})
`;

export interface ConfinedRun {
  /** The last `report(...)` of the code, or undefined when it never reported (killed first). */
  report: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  notes: string[];
  warnings: string[];
  workspace: string;
}

export interface ConfinedOptions {
  limits?: Partial<SandboxLimits>;
  /** Apply confine.py (rlimits, seccomp) first; false tests the namespaces alone. Default true. */
  confine?: boolean;
  sandbox?: boolean;
  environment?: Record<string, string>;
  /** Stop waiting and kill after this long; default 60 s. */
  timeoutMs?: number;
  /** Called once the process runs, e.g. to look at it from the host. */
  whileRunning?: (process: SandboxedProcess) => Promise<void>;
  workspace?: string;
}

let workspaceRoot: string | undefined;

/** A fresh workspace under one test folder every user may enter (the sandbox uid must reach it). */
export function newWorkspace(): string {
  if (workspaceRoot === undefined) {
    workspaceRoot = mkdtempSync(join(tmpdir(), 'iquery-isolation-test-'));
    // mkdtemp makes it 0700; the sandbox uid must be able to pass through it
    chmodSync(workspaceRoot, 0o711);
    process.once('exit', () => rmSync(workspaceRoot ?? '/nonexistent', { recursive: true, force: true }));
  }
  return mkdtempSync(join(workspaceRoot, 'ws-'));
}

export function pythonPackage(): string {
  return mountableCopy(join(packageRoot(), 'python'));
}

export async function runConfined(code: string, options: ConfinedOptions = {}): Promise<ConfinedRun> {
  const workspace = options.workspace ?? newWorkspace();
  writeFileSync(join(workspace, 'attempt.py'), prelude + '\n' + code);
  const sandbox = await spawnSandboxed({
    workspace,
    command: ['/usr/bin/python3', '-c', bootstrap],
    readOnlyMounts: [{ host: pythonPackage(), sandbox: '/opt/iquery/python' }],
    environment: {
      PYTHONPATH: '/opt/iquery/python',
      PYTHONDONTWRITEBYTECODE: '1',
      IQUERY_TEST_ATTEMPT: '/workspace/attempt.py',
      IQUERY_TEST_CONFINE: options.confine === false ? '0' : '1',
      ...options.environment,
    },
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
  });
  const { child } = sandbox;
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin?.end();
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    if (options.whileRunning !== undefined) await options.whileRunning(sandbox);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.timeoutMs ?? 60_000)));
    await Promise.race([exited, timedOut]);
    clearTimeout(timer);
  } finally {
    await sandbox.kill();
  }
  // let the pipes drain
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  const reports = stdout.split('\n').filter((line) => line.startsWith('@@report '));
  const last = reports.at(-1);
  return {
    report: last === undefined ? undefined : (JSON.parse(last.slice('@@report '.length)) as Record<string, unknown>),
    stdout,
    stderr,
    exitCode: child.exitCode,
    signal: child.signalCode,
    notes: sandbox.notes,
    warnings: sandbox.warnings,
    workspace,
  };
}
