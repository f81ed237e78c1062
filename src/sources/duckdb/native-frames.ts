/**
 * The native frame writer (`native/`, a Node addon built by the set-up against the libduckdb.so that
 * @duckdb/node-api ships): it runs a query on its own locked-down, read-only handle of the same DuckDB
 * file and writes the result's vectors straight into frame files on a worker thread, several times
 * faster than reading the vectors into JS. When the addon is not built (no compiler at set-up), or
 * IQUERY_NATIVE_FRAMES=0, handoffs take the JS path (`streamColumnar`), which gives the same frames.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { messageOf } from '../../errors.js';
import { packageRoot } from '../../package-root.js';
import type { FrameFiles } from '../source.js';

/** What `writeFrame` resolves to: the files, or why this result has no native form (nothing written). */
export type NativeFrameOutcome = FrameFiles | { unsupported: string };

export interface NativeFrameQuery {
  done: Promise<NativeFrameOutcome>;
  /** Stops the query (DuckDB's interrupt); `done` then rejects or ends early. */
  interrupt(): void;
}

export interface NativeFrameDatabase {
  /** Runs one SELECT and writes at most `maxRows` rows as `<directory>/c<index>.<part>`. */
  writeFrame(sql: string, directory: string, maxRows: number): NativeFrameQuery;
  close(): void;
}

interface NativeFramesModule {
  Database: new (path: string) => NativeFrameDatabase;
}

export function nativeFramesAddonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'iquery_frames.node');
}

let loaded: { module?: NativeFramesModule; reason?: string } | undefined;

/** Loads the addon once; `reason` says why it is not used. */
export function nativeFrames(): { module?: NativeFramesModule; reason?: string } {
  if (process.env.IQUERY_NATIVE_FRAMES === '0') return { reason: 'IQUERY_NATIVE_FRAMES=0' };
  if (loaded !== undefined) return loaded;
  const path = nativeFramesAddonPath();
  if (!existsSync(path)) {
    loaded = { reason: `the native frame writer is not built (${path}); run npm run setup` };
    return loaded;
  }
  try {
    loaded = { module: createRequire(import.meta.url)(path) as NativeFramesModule };
  } catch (error) {
    loaded = { reason: `the native frame writer did not load: ${messageOf(error)}` };
  }
  return loaded;
}
