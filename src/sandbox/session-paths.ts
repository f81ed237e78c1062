import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { iqueryHome } from '../config/home.js';

/** Where sessions live when iquery runs as root and IQUERY_HOME is out of the sandbox user's reach. */
export const systemSessionsRoot = '/var/lib/iquery/sessions';

/** True when every existing folder from `path` up to `/` lets other users pass through (o+x). */
export function reachableByOthers(path: string): boolean {
  for (let folder = resolve(path); ; folder = dirname(folder)) {
    if (existsSync(folder) && (statSync(folder).mode & 0o001) === 0) return false;
    if (dirname(folder) === folder) return true;
  }
}

/**
 * The folder holding session workspaces: `IQUERY_SESSIONS_DIR` when set, else `IQUERY_HOME/sessions`.
 * The sandbox runs the kernel as an unprivileged uid, which must be able to reach its workspace; when
 * iquery runs as root with IQUERY_HOME in a private folder (root's own home is 0700), sessions go to
 * /var/lib/iquery/sessions instead, created traversable (0711) but not listable by others.
 */
export function sessionsRoot(home: string = iqueryHome(), environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment['IQUERY_SESSIONS_DIR'];
  if (configured !== undefined && configured !== '') return resolve(configured);
  const preferred = join(home, 'sessions');
  if (process.getuid?.() !== 0 || reachableByOthers(preferred)) return preferred;
  mkdirSync(systemSessionsRoot, { recursive: true, mode: 0o711 });
  return systemSessionsRoot;
}

/** A fingerprint of a folder's files (paths, sizes, modification times), to tell copies apart. */
function fingerprint(folder: string): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const info = statSync(path);
        hash.update(`${relative(folder, path)}\0${info.size}\0${info.mtimeMs}\n`);
      }
    }
  };
  walk(folder);
  return hash.digest('hex').slice(0, 16);
}

/** Makes a copied tree readable and enterable by everyone (it holds only iquery's own files). */
function openUp(path: string): void {
  const info = statSync(path);
  chmodSync(path, info.isDirectory() ? 0o755 : 0o644);
  if (info.isDirectory()) for (const entry of readdirSync(path)) openUp(join(path, entry));
}

/**
 * A host folder of iquery's own (the kernel package, the font cache) as the sandbox can mount it. The
 * sandbox user must be able to reach a mount's source; when iquery runs as root from a private folder
 * (a checkout under /root, a 0700 temporary folder), the folder is copied once, by content, next to the
 * session folders, and the copy is mounted instead.
 */
export function mountableCopy(folder: string, home: string = iqueryHome()): string {
  if (process.getuid?.() !== 0 || reachableByOthers(folder)) return folder;
  const target = join(dirname(sessionsRoot(home)), 'runtime', `${basename(folder)}-${fingerprint(folder)}`);
  if (existsSync(target)) {
    // Marked as in use, so that pruning (below) keeps it.
    const now = new Date();
    utimesSync(target, now, now);
    return target;
  }
  const temporary = `${target}.${process.pid}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true, mode: 0o711 });
  cpSync(folder, temporary, { recursive: true });
  openUp(temporary);
  try {
    renameSync(temporary, target);
  } catch {
    // Another process staged the same content first.
    rmSync(temporary, { recursive: true, force: true });
  }
  pruneStaleCopies(target, basename(folder));
  return target;
}

/** Copies staged for other versions and unused for a week go: each is a whole kernel package. */
const staleCopyMs = 7 * 24 * 3600 * 1000;

function pruneStaleCopies(keep: string, name: string): void {
  const folder = dirname(keep);
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (path === keep || !entry.startsWith(`${name}-`) || entry.endsWith('.tmp')) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > staleCopyMs) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}
