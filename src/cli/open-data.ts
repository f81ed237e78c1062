import { existsSync } from 'node:fs';
import { demoDatabasePath } from '../demo/demo-paths.js';
import { iqueryHome } from '../config/home.js';
import { IqueryError } from '../errors.js';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { printNote, type GlobalOptions } from './output.js';

/**
 * Opens `--data`, or the demo database when no --data is given and the demo has been built. Loading
 * progress goes to stderr unless --json asks for quiet machine output.
 */
export async function openData(options: GlobalOptions): Promise<DataSource> {
  const home = iqueryHome();
  const onProgress = options.json ? () => undefined : (message: string) => printNote(message);
  if (options.data !== undefined) return openSource(options.data, { home, onProgress });
  const demo = demoDatabasePath(home);
  if (existsSync(demo)) return openSource(demo, { home, onProgress });
  throw new IqueryError('usage', 'No data given.', {
    hint: 'Pass --data with a file, folder, .duckdb file, mysql:// or postgres:// URL, or connection name; or run `iquery demo` to build the demo database.',
  });
}

/** Runs work with an open source and always closes it. */
export async function withData<T>(options: GlobalOptions, work: (source: DataSource) => Promise<T>): Promise<T> {
  const source = await openData(options);
  try {
    return await work(source);
  } finally {
    await source.close();
  }
}
