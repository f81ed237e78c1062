import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * iquery's home folder: `IQUERY_HOME` when set, else `~/.iquery`. It holds the config file, the cache
 * of loaded data files and the demo database.
 */
export function iqueryHome(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment['IQUERY_HOME'];
  return configured !== undefined && configured !== '' ? resolve(configured) : join(homedir(), '.iquery');
}
