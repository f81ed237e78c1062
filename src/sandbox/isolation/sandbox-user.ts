import { chmodSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IqueryError } from '../../errors.js';

/** Host uids (and gids) given to sandboxes when iquery runs as root; each live sandbox has its own. */
export const sandboxUidRange = { first: 600_000, last: 699_999 } as const;

/** Uids of this process's live sandboxes (module state: the range is shared by every sandbox of the process). */
const reservedUids = new Set<number>();

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

export function inSandboxRange(uid: number): boolean {
  return uid >= sandboxUidRange.first && uid <= sandboxUidRange.last;
}

/**
 * Picks a uid no live process has and no other sandbox of this process holds, and reserves it until
 * `releaseSandboxUid`. `preferred` (the workspace's current owner) is taken when free, so a workspace
 * reused by a later sandbox needs no chown; otherwise the lowest free uid, so that the uids in use
 * (and the files they own) stay as few as the sandboxes that ever ran at once.
 */
export function reserveSandboxUid(preferred?: number): number {
  const busy = uidsOfRunningProcesses();
  const free = (uid: number) => inSandboxRange(uid) && !reservedUids.has(uid) && !busy.has(uid);
  // The workspace's owner may be reused when only zombies still carry its uid: a zombie touches no
  // files. (Orphaned zombies linger where the host's init does not reap them, as on this VM.)
  const ownerFree = (uid: number) => inSandboxRange(uid) && !reservedUids.has(uid) && !uidsOfRunningProcesses({ withZombies: false }).has(uid);
  let uid = preferred !== undefined && ownerFree(preferred) ? preferred : undefined;
  for (let candidate: number = sandboxUidRange.first; uid === undefined && candidate <= sandboxUidRange.last; candidate++) {
    if (free(candidate)) uid = candidate;
  }
  if (uid === undefined) throw new IqueryError('internal', 'No free sandbox uid between 600000 and 699999.');
  reservedUids.add(uid);
  return uid;
}

export function releaseSandboxUid(uid: number): void {
  reservedUids.delete(uid);
}

/** Every uid (real, effective, saved, filesystem) of every process on the host, zombies included unless asked. */
function uidsOfRunningProcesses(options: { withZombies: boolean } = { withZombies: true }): Set<number> {
  const uids = new Set<number>();
  for (const pid of listPids()) {
    const status = readText(`/proc/${pid}/status`);
    if (!options.withZombies && /^State:\s+Z/m.test(status)) continue;
    for (const uid of statusUids(status)) uids.add(uid);
  }
  return uids;
}

/** Pids of processes any of whose uids is `uid` (zombies included: their pid is still taken). */
export async function processesOfUser(uid: number): Promise<number[]> {
  const found: number[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (pid) => {
        const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
        if (statusUids(status).includes(uid) && !/^State:\s+Z/m.test(status)) found.push(Number(pid));
      }),
  );
  return found;
}

function statusUids(status: string): number[] {
  const line = /^Uid:\s+(.*)$/m.exec(status)?.[1];
  return line === undefined ? [] : line.trim().split(/\s+/).map(Number);
}

function listPids(): string[] {
  try {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Direct children of `pid` (of all its threads). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const thread of threads) {
    const text = readText(`/proc/${pid}/task/${thread}/children`).trim();
    if (text !== '') children.push(...text.split(/\s+/).map(Number));
  }
  return children;
}

/** Whether `pid` is a process that still runs (a zombie has finished). */
export function isRunning(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === '') return false;
  // the state follows the command name, which is in parentheses and may itself contain them
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Creates the workspace if missing and, when `uid` is given, hands it and everything in it to that
 * uid (mode 0700). The walk never follows a symlink: a link the previous sandbox left pointing at
 * /etc/shadow must not make the host chown /etc/shadow. Returns the real path.
 */
export function prepareWorkspace(path: string, uid: number | undefined): string {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new IqueryError('bad_input', `Cannot create the sandbox workspace ${path}.`, { cause: error });
  }
  if (lstatSync(path).isSymbolicLink() || !lstatSync(path).isDirectory()) {
    throw new IqueryError('bad_input', `The sandbox workspace ${path} must be a real folder, not a link or a file.`);
  }
  const real = realpathSync(path);
  if (uid !== undefined) {
    if (lstatSync(real).uid !== uid || lstatSync(real).gid !== uid) chownTree(real, uid);
    chmodSync(real, 0o700);
  }
  return real;
}

function chownTree(folder: string, uid: number): void {
  lchownSync(folder, uid, uid);
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) chownTree(path, uid);
    else lchownSync(path, uid, uid);
  }
}

/**
 * Throws unless a process with `uid` (and no supplementary groups) can reach `path`: bwrap runs as the
 * sandbox uid, so a workspace under /root, or a kernel package in a 0700 home, cannot be mounted.
 */
export function assertReachable(path: string, uid: number, what: string): void {
  const problem = (folder: string, missing: string) =>
    new IqueryError('bad_input', `The sandbox user (uid ${uid}) cannot ${missing} ${folder}, so ${what} ${path} cannot be mounted in the sandbox.`, {
      hint: `Keep it under a folder every user may enter (e.g. /var/lib/iquery or /opt), or run: chmod o+x ${folder}`,
    });
  const allows = (target: string, bits: number) => {
    const info = statSync(target);
    if (info.uid === uid) return ((info.mode >> 6) & bits) === bits;
    if (info.gid === uid) return ((info.mode >> 3) & bits) === bits;
    return (info.mode & bits) === bits;
  };
  for (let folder = dirname(path); ; folder = dirname(folder)) {
    if (!allows(folder, 0o1)) throw problem(folder, 'enter');
    if (folder === '/') break;
  }
  const needed = statSync(path).isDirectory() ? 0o5 : 0o4;
  if (!allows(path, needed)) throw problem(path, 'read');
}
