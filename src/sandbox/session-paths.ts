import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { iqueryHome } from '../config/home.js';

/** Where sessions live when iquery runs as root and IQUERY_HOME is out of the sandbox user's reach. */
export const systemSessionsRoot = '/var/lib/iquery/sessions';

/** True when every existing folder from `path` up to `/` lets other users pass through (o+x). */
function reachableByOthers(path: string): boolean {
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
