import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readConfig } from '../config/config-file.js';
import { iqueryHome } from '../config/home.js';
import { IqueryError } from '../errors.js';
import { isServerUrl, parseServerUrl, redactUrl } from './connection-url.js';
import { openDuckdbEngine } from './duckdb/duckdb-engine.js';
import { createGuardedSource } from './engine.js';
import type { DataSource } from './source.js';

export interface OpenSourceOptions {
  /** IQUERY_HOME; holds named connections and the cache of loaded files. */
  home?: string;
  /** Progress lines for a person (loading files can take a while on big ones). */
  onProgress?: (message: string) => void;
  environment?: NodeJS.ProcessEnv;
}

/** DuckDB files carry the magic bytes `DUCK` at offset 8. */
function isDuckdbFile(path: string): boolean {
  if (!statSync(path).isFile()) return false;
  const header = Buffer.alloc(12);
  const descriptor = openSync(path, 'r');
  try {
    readSync(descriptor, header, 0, 12, 0);
  } finally {
    closeSync(descriptor);
  }
  return header.subarray(8, 12).toString('latin1') === 'DUCK';
}

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** Resolves a named connection from the config file to its target, or returns the spec unchanged. */
function resolveNamed(spec: string, home: string, environment: NodeJS.ProcessEnv): string {
  if (isServerUrl(spec) || existsSync(spec)) return spec;
  const entry = readConfig(home).connections[spec];
  if (entry === undefined) return spec;
  if (typeof entry === 'string') return entry;
  if (entry.password_env === undefined) return entry.data;
  const password = environment[entry.password_env];
  if (password === undefined) {
    throw new IqueryError('bad_input', `Connection "${spec}" takes its password from $${entry.password_env}, which is not set.`, {
      hint: `Set ${entry.password_env} in the environment and try again.`,
    });
  }
  return withPassword(entry.data, password);
}

/**
 * Opens what `--data` names: a named connection from the config file, a `mysql://` or `postgres://`
 * URL, a `.duckdb` file (read-only), or a data file or folder of them (loaded into a cached DuckDB
 * database under IQUERY_HOME, then opened read-only).
 */
export async function openSource(spec: string, options: OpenSourceOptions = {}): Promise<DataSource> {
  const home = options.home ?? iqueryHome(options.environment);
  const environment = options.environment ?? process.env;
  if (spec.trim() === '') {
    throw new IqueryError('usage', 'No data given.', { hint: 'Pass --data with a file, folder, .duckdb file, URL or connection name.' });
  }
  const target = resolveNamed(spec, home, environment);
  if (isServerUrl(target)) {
    const connection = parseServerUrl(target);
    // Each server engine's driver loads only when it is used: a DuckDB question starts faster.
    const engine =
      connection.engine === 'mysql'
        ? await (await import('./mysql/mysql-engine.js')).openMysqlEngine(connection)
        : await (await import('./postgres/postgres-engine.js')).openPostgresEngine(connection);
    return createGuardedSource(engine);
  }
  const path = resolve(target);
  if (!existsSync(path)) {
    throw new IqueryError('not_found', `No file, folder or named connection "${redactUrl(spec)}".`, {
      hint: 'Give a path to a data file or folder, a .duckdb file, a mysql:// or postgres:// URL, or a name from `iquery connections list`.',
    });
  }
  if (isDuckdbFile(path)) return createGuardedSource(await openDuckdbEngine({ path, label: target }));
  const { buildCacheDatabase, planDataFiles } = await import('./duckdb/duckdb-loader.js');
  const files = planDataFiles(path);
  const cached = await buildCacheDatabase(files, join(home, 'cache'), options.onProgress);
  return createGuardedSource(await openDuckdbEngine({ path: cached, label: target }));
}
