import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

export interface FolderUsage {
  /** Bytes allocated on disk (sparse files count what they really use). */
  bytes: number;
  /** Files, folders and links. */
  entries: number;
  /** False when the count stopped early, past a cap. */
  complete: boolean;
}

/** More entries than this counts as over the quota: a walk must stay cheap, and an inode bomb is a disk bomb too. */
export const maximumWorkspaceEntries = 200_000;

/**
 * Adds up a folder without following symlinks, stopping once `stopAboveBytes` or `maximumEntries`
 * is passed. Entries that vanish during the walk are skipped.
 */
export async function measureFolder(folder: string, stopAboveBytes = Number.POSITIVE_INFINITY, maximumEntries = maximumWorkspaceEntries): Promise<FolderUsage> {
  const usage: FolderUsage = { bytes: 0, entries: 0, complete: true };
  const pending = [folder];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current === undefined) break;
    let directory;
    try {
      directory = await opendir(current);
    } catch {
      continue;
    }
    for await (const entry of directory) {
      const path = join(current, entry.name);
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined) continue;
      usage.bytes += info.blocks * 512;
      usage.entries += 1;
      if (usage.bytes > stopAboveBytes || usage.entries > maximumEntries) {
        usage.complete = false;
        return usage;
      }
      if (entry.isDirectory()) pending.push(path);
    }
  }
  return usage;
}

/**
 * Measures `folder` every `intervalMs` and calls `onExceeded` once when it holds more than
 * `limitBytes` or more than `maximumWorkspaceEntries` entries. This is a watchdog, not a quota: a
 * fast writer can pass the limit by what it writes in one interval (each file is capped by
 * RLIMIT_FSIZE). Returns a function that stops watching.
 */
export function watchFolderSize(folder: string, limitBytes: number, onExceeded: (usage: FolderUsage) => void, intervalMs = 1000): () => void {
  let measuring = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (measuring || stopped) return;
    measuring = true;
    measureFolder(folder, limitBytes)
      .then((usage) => {
        if (!stopped && (usage.bytes > limitBytes || usage.entries > maximumWorkspaceEntries)) {
          stopped = true;
          clearInterval(timer);
          onExceeded(usage);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        measuring = false;
      });
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
