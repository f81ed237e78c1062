#!/usr/bin/env node
// Idempotent set-up behind `npm run demo` and `npm test`: installs what is missing and rebuilds what is
// stale, and does nothing (quietly) when everything is current. It uses only Node's standard library,
// because it runs before the project's own dependencies exist.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function step(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) {
    step(`failed: ${command} ${args.join(' ')} (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 2);
  }
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    step(`Node ${process.versions.node} is too old: iquery needs Node 20 or newer.`);
    process.exit(1);
  }
}

function hashFile(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** npm dependencies: reinstalled when node_modules is missing or the lock file changed since. */
function ensureDependencies() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.iquery-deps-stamp');
  const want = hashFile(existsSync(lock) ? lock : join(root, 'package.json'));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  step('installing npm dependencies');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm install` rather than `npm ci`: it honours the lock file too, and npm ci rejects locks whose
  // optional per-platform packages (DuckDB's bindings) were resolved on another platform.
  run(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error']);
  writeFileSync(stamp, want);
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** The TypeScript build: redone when any source is newer than the last build. */
function ensureBuild() {
  const stamp = join(root, 'dist', '.build-stamp');
  const sources = Math.max(
    newestMtime(join(root, 'src')),
    newestMtime(join(root, 'bench')),
    newestMtime(join(root, 'tsconfig.json')),
    newestMtime(join(root, 'package-lock.json')),
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  step('building (tsc)');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stamp, new Date().toISOString());
}

checkNode();
ensureDependencies();
ensureBuild();
