import { join } from 'node:path';

/** The demo database `iquery demo` builds under IQUERY_HOME. */
export function demoDatabasePath(home: string): string {
  return join(home, 'demo', 'telco.duckdb');
}
