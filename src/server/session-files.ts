/**
 * A session's folder as the web sees it: uploads, charts, figures and reports. Paths from requests
 * are checked part by part: no `..`, no absolute paths, no symbolic link anywhere on the way, and
 * the session's own bookkeeping (session.json, the in-use claim) is neither listed nor served.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { IqueryError } from '../errors.js';
import { supportedSuffixes } from '../sources/duckdb/duckdb-loader.js';

/** Where a session keeps the files uploaded to it, inside its folder. */
export const uploadsFolderName = 'uploads';

const bookkeeping = new Set(['session.json', 'in-use.pid']);

function hidden(name: string, topLevel: boolean): boolean {
  return name.startsWith('.') || name.endsWith('.writing') || (topLevel && bookkeeping.has(name));
}

export interface SessionFile {
  /** Relative to the session's folder, with `/` between parts. */
  path: string;
  bytes: number;
  /** ISO 8601. */
  modified: string;
}

/** Every regular file under the folder, sorted by path; symbolic links are skipped. An absent folder has none. */
export function listSessionFiles(folder: string): SessionFile[] {
  const files: SessionFile[] = [];
  const walk = (relative: string[]): void => {
    let entries: string[];
    try {
      entries = readdirSync(join(folder, ...relative));
    } catch {
      return;
    }
    for (const name of entries) {
      if (hidden(name, relative.length === 0)) continue;
      const parts = [...relative, name];
      const info = lstatSync(join(folder, ...parts));
      if (info.isDirectory()) walk(parts);
      else if (info.isFile()) files.push({ path: parts.join('/'), bytes: info.size, modified: info.mtime.toISOString() });
    }
  };
  walk([]);
  return files.sort((left, right) => left.path.localeCompare(right.path));
}

/**
 * The absolute path of a file in the folder, for a relative path from a request. Throws `bad_input`
 * for a path that tries to leave the folder, and `not_found` for anything that is not a regular file
 * reached without symbolic links (or is bookkeeping).
 */
export function resolveSessionFile(folder: string, relative: string): { path: string; info: Stats } {
  const parts = relative.split('/');
  if (relative === '' || relative.includes('\\') || relative.includes('\0') || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new IqueryError('bad_input', `"${relative}" is not a file path inside the session.`, { hint: 'Use a path from GET /api/sessions/:id/files.' });
  }
  const missing = new IqueryError('not_found', `The session has no file "${relative}".`, { hint: 'GET /api/sessions/:id/files lists its files.' });
  if (parts.some((part, index) => hidden(part, index === 0))) throw missing;
  let path = folder;
  let info: Stats | undefined;
  for (const part of parts) {
    path = join(path, part);
    try {
      info = lstatSync(path);
    } catch {
      throw missing;
    }
    if (info.isSymbolicLink()) throw missing;
  }
  if (info === undefined || !info.isFile()) throw missing;
  return { path, info };
}

/**
 * The name an upload is stored under and the table it becomes: the file's own name with anything but
 * letters, digits, `_`, `-` and `.` replaced by `_`; the table is the name without its data suffix
 * (`sales 2024.csv` → `sales_2024.csv`, table `sales_2024`). Throws `bad_input` for a type that
 * cannot be loaded.
 */
export function uploadTarget(fileName: string): { name: string; table: string } {
  const base = fileName.split(/[\\/]/).at(-1) ?? '';
  const name = base.replace(/[^\p{L}\p{N}_.-]/gu, '_').replace(/^[.]+/, '');
  const lower = name.toLowerCase();
  const suffix = [...supportedSuffixes].sort((left, right) => right.length - left.length).find((candidate) => lower.endsWith(candidate));
  if (suffix === undefined || name.length === suffix.length) {
    throw new IqueryError('bad_input', `"${fileName}" is not a file iquery can load.`, {
      hint: `Upload CSV, TSV, Excel (.xlsx), Parquet or JSON: a name ending in ${supportedSuffixes.join(', ')}.`,
    });
  }
  return { name, table: name.slice(0, name.length - suffix.length) };
}
