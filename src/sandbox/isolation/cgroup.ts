import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../../errors.js';

/** A control group made for one sandbox: memory and process caps that hold for all its processes together. */
export interface SandboxCgroup {
  /** The `cgroup.procs` files the sandbox's first process writes its own pid into, before it execs bwrap. */
  procsFiles: string[];
  /** What was applied, e.g. `cgroup v2 memory 2147483648`. */
  notes: string[];
  /** Kills whatever is left in the group, waits until it is empty and removes it. Idempotent. */
  remove(): Promise<void>;
}

export interface CgroupLimits {
  memoryBytes: number;
  /** pids.max: every task (thread or process) of the sandbox, bwrap's own two included. */
  tasks: number;
}

/** The result: a group, or why there is none (the sandbox then relies on rlimits alone). */
export type CgroupResult = { cgroup: SandboxCgroup; skipped?: undefined } | { cgroup?: undefined; skipped: string };

interface Mount {
  point: string;
  root: string;
  type: string;
  superOptions: string[];
}

function readMounts(): Mount[] {
  const mounts: Mount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // id parent major:minor root point options [optional fields] - type source super-options
    const [before, after] = line.split(' - ');
    if (before === undefined || after === undefined) continue;
    const fields = before.split(' ');
    const [type, , superOptions] = after.split(' ');
    const root = fields[3];
    const point = fields[4];
    if (root === undefined || point === undefined || type === undefined) continue;
    mounts.push({ point: unescapeMountPath(point), root: unescapeMountPath(root), type, superOptions: (superOptions ?? '').split(',') });
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** /proc/self/cgroup: hierarchy lines `id:controllers:path`; v2 is id 0 with no controllers. */
function ownGroups(): { controllers: string[]; path: string }[] {
  return readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [, controllers = '', ...path] = line.split(':');
      return { controllers: controllers === '' ? [] : controllers.split(','), path: path.join(':') };
    });
}

function folderOf(mount: Mount, path: string): string {
  return join(mount.point, relative(mount.root, path));
}

let sequence = 0;

/**
 * Makes a child group of the iquery process's own group (so the host's own accounting still covers
 * the sandbox) with the memory and task caps. cgroup v2 when its memory and pids controllers can be
 * given to children; otherwise the v1 memory and pids hierarchies of a hybrid host. Never throws: a
 * host that does not allow it gets `skipped` with the reason.
 */
export function createSandboxCgroup(limits: CgroupLimits): CgroupResult {
  const name = `iquery-${process.pid}-${++sequence}`;
  let mounts: Mount[];
  let groups: { controllers: string[]; path: string }[];
  try {
    mounts = readMounts();
    groups = ownGroups();
  } catch (error) {
    return { skipped: `cgroups: cannot read this process's groups (${messageOf(error)})` };
  }
  const reasons: string[] = [];
  const unified = mounts.find((mount) => mount.type === 'cgroup2');
  const unifiedGroup = groups.find((group) => group.controllers.length === 0 && group.path.startsWith('/'));
  if (unified !== undefined && unifiedGroup !== undefined) {
    const result = createUnified(folderOf(unified, unifiedGroup.path), name, limits);
    if (result.cgroup !== undefined) return result;
    reasons.push(result.skipped);
  } else {
    reasons.push('cgroup v2: not mounted');
  }
  const result = createLegacy(mounts, groups, name, limits);
  if (result.cgroup !== undefined) return result;
  reasons.push(result.skipped);
  return { skipped: reasons.join('; ') };
}

function createUnified(parent: string, name: string, limits: CgroupLimits): CgroupResult {
  const controllers = readWords(join(parent, 'cgroup.controllers'));
  const missing = ['memory', 'pids'].filter((controller) => !controllers.includes(controller));
  if (missing.length > 0) return { skipped: `cgroup v2: the ${missing.join(' and ')} ${missing.length > 1 ? 'controllers are' : 'controller is'} not available in ${parent}` };
  const enabled = readWords(join(parent, 'cgroup.subtree_control'));
  const toEnable = ['memory', 'pids'].filter((controller) => !enabled.includes(controller));
  if (toEnable.length > 0) {
    try {
      writeFileSync(join(parent, 'cgroup.subtree_control'), toEnable.map((controller) => `+${controller}`).join(' '));
    } catch (error) {
      // EBUSY: iquery itself lives in this group, and v2 lets only leaf groups hold processes
      return { skipped: `cgroup v2: cannot hand the memory and pids controllers to child groups of ${parent} (${messageOf(error)}); run iquery in a delegated group of its own` };
    }
  }
  removeStaleGroups(parent);
  const folder = join(parent, name);
  try {
    mkdirSync(folder);
    writeFileSync(join(folder, 'memory.max'), String(limits.memoryBytes));
    if (existsSync(join(folder, 'memory.swap.max'))) writeFileSync(join(folder, 'memory.swap.max'), '0');
    writeFileSync(join(folder, 'pids.max'), String(limits.tasks));
  } catch (error) {
    tryRemoveFolder(folder);
    return { skipped: `cgroup v2: cannot create ${folder} (${messageOf(error)})` };
  }
  return {
    cgroup: {
      procsFiles: [join(folder, 'cgroup.procs')],
      notes: [`cgroup v2 memory ${limits.memoryBytes}`, `cgroup v2 pids ${limits.tasks}`],
      remove: once(() => emptyAndRemove([folder])),
    },
  };
}

function createLegacy(mounts: Mount[], groups: { controllers: string[]; path: string }[], name: string, limits: CgroupLimits): CgroupResult {
  const folders: string[] = [];
  const notes: string[] = [];
  const reasons: string[] = [];
  const settings = {
    memory: (folder: string) => {
      writeFileSync(join(folder, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // memory plus swap; set after the memory limit, which it may not be below
      if (existsSync(join(folder, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(folder, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      return `cgroup v1 memory ${limits.memoryBytes}`;
    },
    pids: (folder: string) => {
      writeFileSync(join(folder, 'pids.max'), String(limits.tasks));
      return `cgroup v1 pids ${limits.tasks}`;
    },
  };
  for (const [controller, apply] of Object.entries(settings)) {
    const mount = mounts.find((candidate) => candidate.type === 'cgroup' && candidate.superOptions.includes(controller));
    const group = groups.find((candidate) => candidate.controllers.includes(controller));
    if (mount === undefined || group === undefined) {
      reasons.push(`cgroup v1: no ${controller} hierarchy`);
      continue;
    }
    const parent = folderOf(mount, group.path);
    removeStaleGroups(parent);
    const folder = join(parent, name);
    try {
      mkdirSync(folder);
      notes.push(apply(folder));
      folders.push(folder);
    } catch (error) {
      tryRemoveFolder(folder);
      reasons.push(`cgroup v1: cannot create ${folder} (${messageOf(error)})`);
    }
  }
  if (folders.length === 0) return { skipped: reasons.join('; ') };
  return {
    cgroup: {
      procsFiles: folders.map((folder) => join(folder, 'cgroup.procs')),
      notes: [...notes, ...reasons],
      remove: once(() => emptyAndRemove(folders)),
    },
  };
}

/** Kills the group's processes (cgroup.kill on v2, one by one on v1) until none is left, then removes the folders. */
async function emptyAndRemove(folders: string[]): Promise<void> {
  for (const folder of folders) {
    const killFile = join(folder, 'cgroup.kill');
    for (let attempt = 0; attempt < 500; attempt++) {
      const pids = readPids(join(folder, 'cgroup.procs'));
      if (pids.length === 0) break;
      if (existsSync(killFile)) writeQuietly(killFile, '1');
      else for (const pid of pids) killQuietly(pid);
      await sleep(10);
    }
    tryRemoveFolder(folder);
  }
}

/** Groups left by an iquery process that has died (they are empty: their processes died with the sandbox). */
function removeStaleGroups(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = /^iquery-(\d+)-\d+$/.exec(entry)?.[1];
    if (owner === undefined || Number(owner) === process.pid || existsSync(`/proc/${owner}`)) continue;
    tryRemoveFolder(join(parent, entry));
  }
}

function readWords(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
}

function readPids(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0).map(Number);
  } catch {
    return [];
  }
}

function tryRemoveFolder(folder: string): void {
  try {
    rmdirSync(folder);
  } catch {
    // not there, or still busy: removeStaleGroups takes it later
  }
}

function writeQuietly(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch {
    // the group emptied meanwhile
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}
