import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IqueryError } from '../../errors.js';
import { bubblewrapArguments, findBubblewrap, installCommand, probeBubblewrap, sandboxEtcFiles, sandboxWorkspace, type BubblewrapProbe } from './bubblewrap.js';
import { createSandboxCgroup, type SandboxCgroup } from './cgroup.js';
import {
  assertReachable,
  childPids,
  inSandboxRange,
  isRunning,
  prepareWorkspace,
  processesOfUser,
  releaseSandboxUid,
  reserveSandboxUid,
  runningAsRoot,
  sandboxUidRange,
} from './sandbox-user.js';
import { watchFolderSize } from './workspace-watch.js';

export interface SandboxLimits {
  /** Address space of each process (RLIMIT_AS) and memory of the whole sandbox (cgroup memory.max), bytes. */
  memoryBytes: number;
  /** Time one cell may run, milliseconds; enforced by the kernel's caller (interrupt, then kill), carried here with the other limits. */
  cellTimeoutMs: number;
  /** Largest file the sandbox may write (RLIMIT_FSIZE), bytes. */
  fileSizeBytes: number;
  /** Processes and threads the sandbox may have at once (RLIMIT_NPROC inside its user namespace; cgroup pids.max). */
  processes: number;
  /** Open descriptors per process (RLIMIT_NOFILE). */
  openFiles: number;
  /** CPU time of each process over its whole life (RLIMIT_CPU), seconds. */
  cpuSeconds: number;
  /** What the workspace may hold, bytes (a watchdog stops the sandbox past it); /tmp gets a quarter of it. */
  workspaceBytes: number;
}

export const defaultSandboxLimits: SandboxLimits = {
  memoryBytes: 2 * 1024 ** 3,
  cellTimeoutMs: 120_000,
  fileSizeBytes: 512 * 1024 ** 2,
  processes: 64,
  openFiles: 256,
  cpuSeconds: 3600,
  workspaceBytes: 1024 ** 3,
};

export interface SandboxCheck {
  available: boolean;
  /** Path of bwrap, when found. */
  bubblewrap?: string;
  /** Why Python cannot be sandboxed here. */
  reason?: string;
  /** The command or setting that fixes it. */
  installHint?: string;
}

export interface SandboxedProcessOptions {
  /** Host folder mounted read-write at /workspace; created if missing; owned by the sandbox uid. */
  workspace: string;
  /** Command inside the sandbox, e.g. ['/usr/bin/python3', '-m', 'iquery_kernel', ...]. */
  command: string[];
  /** Extra read-only mounts: host path → sandbox path (e.g. the kernel package at /opt/iquery/python, the prebuilt matplotlib font cache). */
  readOnlyMounts?: { host: string; sandbox: string }[];
  /** The ONLY environment the process gets (plus PATH/HOME/LANG/TMPDIR, thread caps and the IQUERY_LIMIT_* variables set here). */
  environment?: Record<string, string>;
  limits?: Partial<SandboxLimits>;
  /** false = run without bubblewrap (the user passed --no-sandbox). Default true. */
  sandbox?: boolean;
}

export interface SandboxedProcess {
  /** stdio: [stdin pipe, stdout pipe, stderr pipe, fd3 pipe (kernel → host), fd4 pipe (host → kernel)]. */
  child: ChildProcess;
  /** Notes on what confinement applied (e.g. 'bubblewrap 0.8.0', 'cgroup v1 memory 2147483648', 'uid 612345'). */
  notes: string[];
  /** Warnings for the user: printed by the caller every time (e.g. running without the sandbox, the workspace watchdog firing). */
  warnings: string[];
  /** Kills everything in the sandbox (the whole pid namespace / process group / sandbox uid) and removes the cgroup. Idempotent. */
  kill(): Promise<void>;
}

/** The warning for --no-sandbox; the caller prints it every time Python starts that way. */
export const noSandboxWarning =
  'Python is running WITHOUT the sandbox (--no-sandbox): the code the model writes can read every file this user can read, and reach local services over Unix sockets. Only resource limits and, with python3-seccomp, the system-call filter (no network sockets) still apply.';

const sharedMemoryBytes = 64 * 1024 ** 2;

/** Mount points inside the sandbox that callers may not cover with their own mounts. */
const reservedMountPoints = ['/', '/etc', '/tmp', '/bin', '/sbin', '/lib', '/lib64'];
const reservedMountTrees = ['/usr', '/proc', '/dev', sandboxWorkspace];

let probed: BubblewrapProbe | undefined;

function probe(): BubblewrapProbe {
  // As root the sandboxes run as an unprivileged uid, so that is whom the probe must work for.
  probed ??= probeBubblewrap(runningAsRoot() ? { uid: sandboxUidRange.last, gid: sandboxUidRange.last } : undefined, findBubblewrap());
  return probed;
}

/** Finds bwrap (PATH, /usr/bin/bwrap) and checks it can create the sandbox's namespaces here. The answer is cached. */
export function checkSandbox(): SandboxCheck {
  const result = probe();
  if (result.available) return { available: true, bubblewrap: result.bubblewrap.path };
  return { available: false, ...(result.path === undefined ? {} : { bubblewrap: result.path }), reason: result.reason, installHint: result.installHint };
}

/** The error for a host where the sandbox cannot run: what is wrong, and the command that fixes it as the hint. */
export function sandboxUnavailableError(check: SandboxCheck): IqueryError {
  return new IqueryError(
    'bad_input',
    `iquery will not run Python without its sandbox: ${check.reason ?? 'bubblewrap is unavailable'}. Fix that, or pass --no-sandbox to run Python unconfined (not recommended).`,
    { hint: check.installHint ?? installCommand, details: { bubblewrap: check.bubblewrap ?? null } },
  );
}

/**
 * Starts `command` confined: in bubblewrap's namespaces, as an unprivileged host uid, in a cgroup
 * when the host allows one, with the limits passed to the kernel's confine.py as IQUERY_LIMIT_*.
 * Throws IqueryError('bad_input') when bubblewrap is missing or cannot work here (hint: how to fix).
 */
export async function spawnSandboxed(options: SandboxedProcessOptions): Promise<SandboxedProcess> {
  const limits = resolveLimits(options.limits);
  const sandboxed = options.sandbox !== false;
  const notes: string[] = [];
  const warnings: string[] = [];
  if (options.command.length === 0) throw new IqueryError('internal', 'spawnSandboxed needs a command.');
  let bwrapArgumentsFor: ((layout: Omit<Parameters<typeof bubblewrapArguments>[1], 'command'>) => string[]) | undefined;
  if (sandboxed) {
    const result = probe();
    if (!result.available) throw sandboxUnavailableError(checkSandbox());
    const { bubblewrap } = result;
    notes.push(`bubblewrap ${bubblewrap.version}`, 'namespaces user ipc pid net uts cgroup', 'capabilities dropped');
    bwrapArgumentsFor = (layout) => [bubblewrap.path, ...bubblewrapArguments(bubblewrap, { ...layout, command: options.command })];
  } else {
    warnings.push(noSandboxWarning);
    notes.push('no sandbox');
  }

  const root = runningAsRoot();
  const owner = root ? currentOwner(options.workspace) : undefined;
  const uid = root ? reserveSandboxUid(owner) : undefined;
  if (owner !== undefined && uid !== undefined && owner !== uid) {
    // The owner is still running: handing the tree to a new uid now would race with that sandbox's own changes to it.
    releaseSandboxUid(uid);
    throw new IqueryError('bad_input', `The workspace ${options.workspace} is in use by another running sandbox (uid ${owner}).`, {
      hint: 'Stop the other Python kernel of this session first.',
    });
  }
  let cgroup: SandboxCgroup | undefined;
  let privateTmp: string | undefined;
  const release = async () => {
    await cgroup?.remove();
    if (privateTmp !== undefined) rmSync(privateTmp, { recursive: true, force: true });
    if (uid !== undefined) releaseSandboxUid(uid);
  };
  try {
    const workspace = prepareWorkspace(options.workspace, uid);
    const readOnlyMounts = (options.readOnlyMounts ?? []).map(checkMount);
    const etcFiles = sandboxEtcFiles();
    if (uid !== undefined) {
      notes.push(`uid ${uid}`);
      assertReachable(workspace, uid, 'the workspace');
      for (const mount of readOnlyMounts) assertReachable(mount.host, uid, 'the read-only mount');
      if (sandboxed) assertReachable(etcFiles.passwdFile, uid, "the sandbox's /etc/passwd (under TMPDIR)");
    } else {
      notes.push(`uid ${String(process.getuid?.())} (iquery's own)`);
    }
    let environment = sandboxEnvironment(options.environment ?? {}, limits);
    let target: string[];
    if (bwrapArgumentsFor !== undefined) {
      const tmpBytes = Math.floor(limits.workspaceBytes / 4);
      target = bwrapArgumentsFor({ workspace, readOnlyMounts, environment, tmpBytes, sharedMemoryBytes, ...etcFiles });
      notes.push(`tmpfs /tmp ${tmpBytes}`, `tmpfs /dev/shm ${sharedMemoryBytes}`);
    } else {
      // Without bwrap there is no /workspace: sandbox paths in the command and environment become host paths.
      privateTmp = mkdtempSync(join(tmpdir(), 'iquery-python-'));
      if (uid !== undefined) chownSync(privateTmp, uid, uid);
      const translate = hostPathTranslator([{ host: workspace, sandbox: sandboxWorkspace }, ...readOnlyMounts, { host: privateTmp, sandbox: '/tmp' }]);
      environment = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value.split(':').map(translate).join(':')]));
      target = options.command.map(translate);
    }

    // As root: the first process joins the cgroup and drops to the sandbox uid (setpriv) before bwrap starts,
    // so that everything bwrap forks is counted. Node's own uid option would drop privileges too early to join.
    const setpriv = uid === undefined ? undefined : findExecutable(['/usr/bin/setpriv', '/bin/setpriv']);
    if (uid === undefined || setpriv !== undefined) {
      const created = createSandboxCgroup({ memoryBytes: limits.memoryBytes, tasks: limits.processes + 2 });
      if (created.cgroup !== undefined) {
        cgroup = created.cgroup;
        notes.push(...created.cgroup.notes);
      } else {
        notes.push(`no cgroup: ${created.skipped}`);
      }
    } else {
      notes.push('no cgroup: setpriv (util-linux) is missing');
    }
    const argv = [
      ...(cgroup === undefined ? [] : ['/bin/sh', '-c', attachScript, 'iquery-attach', String(cgroup.procsFiles.length), ...cgroup.procsFiles]),
      ...(uid !== undefined && setpriv !== undefined
        ? [setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--']
        : []),
      ...target,
    ];
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      // its own process group, so kill() reaches every process that stays in it
      detached: true,
      // bwrap's own environment is visible inside as /proc/1/environ: give it none
      env: sandboxed ? {} : environment,
      cwd: sandboxed ? '/' : workspace,
      ...(uid !== undefined && setpriv === undefined ? { uid, gid: uid } : {}),
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await once(child, 'spawn');
    } catch (error) {
      throw new IqueryError('internal', `Cannot start the sandbox (${file}).`, { cause: error });
    }

    let stopWatching = () => {};
    const kill = onlyOnce(async () => {
      stopWatching();
      const pid = child.pid;
      if (pid !== undefined) {
        // bwrap's child is the init of the pid namespace: when it dies the kernel kills the whole namespace
        const namespaceInit = sandboxed ? childPids(pid) : [];
        for (const target of namespaceInit) killQuietly(target);
        killQuietly(-pid);
        await Promise.race([exited, sleep(5000, undefined, { ref: false })]);
        await waitFor(() => namespaceInit.every((target) => !isRunning(target)), 5000);
      }
      if (uid !== undefined) {
        // the uid is this sandbox's alone: whatever still runs with it (a setsid'd escapee without a namespace) goes too
        for (let attempt = 0; attempt < 500; attempt++) {
          const left = await processesOfUser(uid);
          if (left.length === 0) break;
          for (const target of left) killQuietly(target);
          await sleep(10);
        }
      }
      await release();
    });
    void exited.then(kill);
    stopWatching = watchFolderSize(workspace, limits.workspaceBytes, (usage) => {
      warnings.push(
        `The Python sandbox was stopped: its workspace grew past ${limits.workspaceBytes} bytes (${usage.bytes} bytes in ${usage.entries} entries${usage.complete ? '' : ' or more'}).`,
      );
      void kill();
    });
    notes.push(`workspace watchdog ${limits.workspaceBytes}`);
    return { child, notes, warnings, kill };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Runs as the first process when there is a cgroup: writes its own pid into each `cgroup.procs`, then
 * becomes the next command. Arguments: count, the files, the command.
 */
const attachScript = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; unset PWD; exec "$@"';

function resolveLimits(given: Partial<SandboxLimits> | undefined): SandboxLimits {
  const limits = { ...defaultSandboxLimits };
  for (const [name, value] of Object.entries(given ?? {}) as [keyof SandboxLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new IqueryError('bad_input', `The sandbox limit ${name} must be a positive whole number, not ${String(value)}.`);
    }
    limits[name] = value;
  }
  return limits;
}

/** The process's whole environment: defaults, then the caller's variables, then the limits (which the caller cannot override). */
function sandboxEnvironment(given: Record<string, string>, limits: SandboxLimits): Record<string, string> {
  for (const name of Object.keys(given)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new IqueryError('internal', `Invalid environment variable name for the sandbox: ${name}`);
  }
  // Thread pools sized by core count would hit the process limit on a large machine (threads count as processes).
  const threads = String(Math.max(1, Math.min(availableParallelism(), 8, Math.floor(limits.processes / 4))));
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    OPENBLAS_NUM_THREADS: threads,
    OMP_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
    NUMEXPR_MAX_THREADS: threads,
    // each glibc arena reserves 64 MiB of address space, which RLIMIT_AS counts
    MALLOC_ARENA_MAX: '2',
    ...given,
    IQUERY_LIMIT_MEMORY: String(limits.memoryBytes),
    IQUERY_LIMIT_FILE_SIZE: String(limits.fileSizeBytes),
    IQUERY_LIMIT_PROCESSES: String(limits.processes),
    IQUERY_LIMIT_OPEN_FILES: String(limits.openFiles),
    IQUERY_LIMIT_CPU: String(limits.cpuSeconds),
  };
}

function checkMount(mount: { host: string; sandbox: string }): { host: string; sandbox: string } {
  const { sandbox } = mount;
  if (!isAbsolute(sandbox) || normalize(sandbox) !== sandbox || (sandbox.endsWith('/') && sandbox !== '/')) {
    throw new IqueryError('internal', `A sandbox mount point must be a plain absolute path: ${sandbox}`);
  }
  if (reservedMountPoints.includes(sandbox) || reservedMountTrees.some((tree) => sandbox === tree || sandbox.startsWith(`${tree}/`))) {
    throw new IqueryError('internal', `${sandbox} is part of the sandbox's own layout and cannot be mounted over.`);
  }
  if (!existsSync(mount.host)) throw new IqueryError('bad_input', `${mount.host} does not exist, so it cannot be mounted in the sandbox at ${sandbox}.`);
  return { host: realpathSync(mount.host), sandbox };
}

/** Maps sandbox paths (a mount point or below it) to host paths; other values pass through. */
function hostPathTranslator(mounts: { host: string; sandbox: string }[]): (value: string) => string {
  const longestFirst = [...mounts].sort((left, right) => right.sandbox.length - left.sandbox.length);
  return (value) => {
    const mount = longestFirst.find(({ sandbox }) => value === sandbox || value.startsWith(`${sandbox}/`));
    return mount === undefined ? value : mount.host + value.slice(mount.sandbox.length);
  };
}

/** The workspace's owner if it is a sandbox uid already (reused when free: no chown needed). */
function currentOwner(workspace: string): number | undefined {
  try {
    const owner = statSync(workspace).uid;
    return inSandboxRange(owner) ? owner : undefined;
  } catch {
    return undefined;
  }
}

function findExecutable(candidates: string[]): string | undefined {
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(10);
}

function onlyOnce(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}
