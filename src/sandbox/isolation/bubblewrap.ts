import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A bubblewrap binary that can build a sandbox on this host, and which of its options it knows. */
export interface Bubblewrap {
  path: string;
  version: string;
  /** `--size` before `--tmpfs` (bubblewrap 0.7; refused when bwrap is setuid). */
  tmpfsSize: boolean;
  /** `--disable-userns` (bubblewrap 0.8): no user namespaces inside the sandbox. */
  disableUserNamespaces: boolean;
}

export type BubblewrapProbe =
  | { available: true; bubblewrap: Bubblewrap }
  | { available: false; path?: string; reason: string; installHint: string };

export const installCommand = 'sudo apt-get install bubblewrap';

/** The uid and gid the sandboxed process has inside its user namespace (the host uid is another). */
export const insideUid = 1000;

/** The workspace inside the sandbox. */
export const sandboxWorkspace = '/workspace';

/** Finds bwrap on PATH, then at the usual places. */
export function findBubblewrap(searchPath = process.env['PATH'] ?? '', fallbacks = ['/usr/bin/bwrap']): string | undefined {
  const onPath = searchPath.split(delimiter).filter((folder) => folder.startsWith('/')).map((folder) => join(folder, 'bwrap'));
  return [...onPath, ...fallbacks].find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Proves that bwrap at `path` (from findBubblewrap; undefined: not found) can build the sandbox here:
 * runs `true` inside the same namespaces and mounts a real sandbox gets, as `runAs` (the
 * unprivileged uid the sandboxes will have).
 */
export function probeBubblewrap(runAs: { uid: number; gid: number } | undefined, path: string | undefined): BubblewrapProbe {
  if (path === undefined) {
    return { available: false, reason: 'bubblewrap (bwrap) is not installed', installHint: installCommand };
  }
  const versionRun = spawnSync(path, ['--version'], { encoding: 'utf8', env: {}, timeout: 10_000 });
  const version = /(\d+)\.(\d+)\.(\d+)/.exec(versionRun.stdout ?? '');
  const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
  const atLeast = (wantedMajor: number, wantedMinor: number) => major > wantedMajor || (major === wantedMajor && minor >= wantedMinor);
  const setuid = (statSync(path).mode & 0o4000) !== 0;
  const bubblewrap: Bubblewrap = {
    path,
    version: version?.[0] ?? 'unknown',
    tmpfsSize: atLeast(0, 7) && !setuid,
    disableUserNamespaces: atLeast(0, 8),
  };
  const probeArguments = [
    ...namespaceArguments(bubblewrap),
    ...systemArguments(describeHost()),
    ...(bubblewrap.tmpfsSize ? ['--size', String(1024 ** 2)] : []),
    '--tmpfs', '/tmp',
    '--remount-ro', '/',
    '--', '/usr/bin/true',
  ];
  const probe = spawnSync(path, probeArguments, {
    encoding: 'utf8',
    env: {},
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 10_000,
    ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
  });
  if (probe.status === 0) return { available: true, bubblewrap };
  const detail = (probe.stderr ?? '').trim() || probe.error?.message || `exit ${String(probe.status ?? probe.signal)}`;
  return { available: false, path, reason: `bubblewrap cannot create the sandbox's namespaces here: ${detail}`, installHint: userNamespaceHint() };
}

/** How to allow unprivileged user namespaces, for the kernel knob this host has. */
function userNamespaceHint(): string {
  if (existsSync('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')) {
    return 'AppArmor blocks unprivileged user namespaces: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or give bwrap an AppArmor profile)';
  }
  if (existsSync('/proc/sys/kernel/unprivileged_userns_clone')) return 'sudo sysctl -w kernel.unprivileged_userns_clone=1';
  return 'allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0; in a container, a seccomp profile that permits unshare/clone with CLONE_NEWUSER)';
}

/** What the sandbox's view of the system directories is built from; read once from the host. */
export interface HostLayout {
  /** Top-level entries that are symlinks into /usr on a merged-/usr system: name → link target. */
  usrSymlinks: { name: string; target: string }[];
  /** Top-level system folders that are real folders (not merged into /usr). */
  systemFolders: string[];
  /** Files and folders of /etc that Python, fontconfig and matplotlib read, and that exist here. */
  etcEntries: string[];
}

let hostLayout: HostLayout | undefined;

export function describeHost(): HostLayout {
  if (hostLayout !== undefined) return hostLayout;
  const usrSymlinks: HostLayout['usrSymlinks'] = [];
  const systemFolders: string[] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    try {
      const entry = lstatSync(`/${name}`);
      if (entry.isSymbolicLink()) usrSymlinks.push({ name, target: readlinkSync(`/${name}`) });
      else if (entry.isDirectory()) systemFolders.push(`/${name}`);
    } catch {
      // absent on this host
    }
  }
  // Debian's numpy finds BLAS through /etc/alternatives; Python reads sitecustomize from /etc/python3.x.
  const pythonFolders = readdirSync('/etc').filter((name) => /^python3(\.\d+)?$/.test(name)).map((name) => `/etc/${name}`);
  const etcEntries = ['/etc/ld.so.cache', '/etc/localtime', '/etc/alternatives', '/etc/fonts', '/etc/matplotlibrc', '/etc/mime.types', ...pythonFolders].filter((path) =>
    existsSync(path),
  );
  hostLayout = { usrSymlinks, systemFolders, etcEntries };
  return hostLayout;
}

/** Namespaces, capabilities and session: the part of the command line every sandbox shares. */
function namespaceArguments(bubblewrap: Bubblewrap): string[] {
  return [
    // user, ipc, pid, net, uts and cgroup namespaces; no --share-net, so the only interface is a downed loopback
    '--unshare-all',
    '--unshare-user',
    ...(bubblewrap.disableUserNamespaces ? ['--disable-userns'] : []),
    '--uid', String(insideUid),
    '--gid', String(insideUid),
    '--hostname', 'sandbox',
    '--die-with-parent',
    // a new session: no controlling terminal, so no TIOCSTI into the host's terminal
    '--new-session',
    '--cap-drop', 'ALL',
  ];
}

/** /usr read-only, the merged-/usr links, the few /etc entries, and fresh /proc and /dev. */
function systemArguments(layout: HostLayout): string[] {
  return [
    '--ro-bind', '/usr', '/usr',
    ...layout.usrSymlinks.flatMap(({ name, target }) => ['--symlink', target, `/${name}`]),
    ...layout.systemFolders.flatMap((folder) => ['--ro-bind', folder, folder]),
    ...layout.etcEntries.flatMap((path) => ['--ro-bind-try', path, path]),
    '--proc', '/proc',
    '--dev', '/dev',
  ];
}

export interface SandboxLayout {
  /** Host folder bound read-write at /workspace (already created and owned by the sandbox uid). */
  workspace: string;
  readOnlyMounts: { host: string; sandbox: string }[];
  /** The whole environment of the sandboxed process. */
  environment: Record<string, string>;
  /** Size of the private /tmp (a tmpfs: it is memory, and counts against the memory cgroup). */
  tmpBytes: number;
  /** Size of /dev/shm (POSIX semaphores and shared memory of multiprocessing). */
  sharedMemoryBytes: number;
  /** Synthetic /etc/passwd and /etc/group naming the sandbox user. */
  passwdFile: string;
  groupFile: string;
  command: string[];
}

/** The full bwrap command line (without the bwrap path itself). */
export function bubblewrapArguments(bubblewrap: Bubblewrap, layout: SandboxLayout, host: HostLayout = describeHost()): string[] {
  const sized = (bytes: number) => (bubblewrap.tmpfsSize ? ['--size', String(bytes)] : []);
  return [
    ...namespaceArguments(bubblewrap),
    '--clearenv',
    ...Object.entries(layout.environment).flatMap(([name, value]) => ['--setenv', name, value]),
    ...systemArguments(host),
    '--ro-bind', layout.passwdFile, '/etc/passwd',
    '--ro-bind', layout.groupFile, '/etc/group',
    ...sized(layout.sharedMemoryBytes), '--tmpfs', '/dev/shm',
    // bwrap's /dev is a tmpfs without a size: make it read-only (its device nodes stay usable)
    '--remount-ro', '/dev',
    ...sized(layout.tmpBytes), '--tmpfs', '/tmp',
    '--bind', layout.workspace, sandboxWorkspace,
    ...layout.readOnlyMounts.flatMap(({ host: hostPath, sandbox }) => ['--ro-bind', hostPath, sandbox]),
    // the root is a tmpfs without a size too: nothing may be written outside /workspace, /tmp and /dev/shm
    '--remount-ro', '/',
    '--chdir', sandboxWorkspace,
    '--',
    ...layout.command,
  ];
}

let etcFolder: string | undefined;

/** Writes the synthetic passwd and group once per iquery process; they name only root, nobody and the sandbox user. */
export function sandboxEtcFiles(): { passwdFile: string; groupFile: string } {
  if (etcFolder === undefined || !existsSync(etcFolder)) {
    const folder = mkdtempSync(join(tmpdir(), 'iquery-sandbox-etc-'));
    // mkdtemp makes it 0700; bwrap, running as the sandbox uid, must be able to read the files
    chmodSync(folder, 0o755);
    writeFileSync(join(folder, 'passwd'), `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nsandbox:x:${insideUid}:${insideUid}:iquery sandbox:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`, { mode: 0o644 });
    writeFileSync(join(folder, 'group'), `root:x:0:\nsandbox:x:${insideUid}:\nnogroup:x:65534:\n`, { mode: 0o644 });
    etcFolder = folder;
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  }
  return { passwdFile: join(etcFolder, 'passwd'), groupFile: join(etcFolder, 'group') };
}
