#!/usr/bin/env node
// Runs every compiled test file with Node's own test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function findTests(folder) {
  const found = [];
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);

/**
 * The kernel's own Python tests (unittest), run first so that Node's summary closes the output.
 * They run when no filter is given or the filter names `python`.
 */
function runPythonTests() {
  const folder = join(root, 'python', 'tests');
  if (filter.length > 0 && !filter.some((part) => 'python'.includes(part) || part.startsWith('python'))) return 0;
  try {
    statSync(folder);
  } catch {
    return 0;
  }
  const result = spawnSync('/usr/bin/python3', ['-m', 'unittest', 'discover', '-s', 'tests'], {
    cwd: join(root, 'python'),
    stdio: 'inherit',
    env: { ...process.env, PYTHONPATH: join(root, 'python'), PYTHONDONTWRITEBYTECODE: '1' },
  });
  return result.status ?? 2;
}

const pythonStatus = runPythonTests();
if (filter.length === 1 && filter[0] === 'python') process.exit(pythonStatus);
const files = findTests(join(root, 'dist', 'src'))
  .map((path) => relative(root, path))
  .filter((path) => filter.length === 0 || filter.some((part) => path.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Commands the tests run answer by themselves: no answer service is left behind (the service's own
// test turns it on for itself).
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, IQUERY_ASK_SERVICE: '0' },
});
if (pythonStatus !== 0) console.error(`the Python tests failed (exit ${pythonStatus})`);
process.exit(pythonStatus !== 0 ? pythonStatus : (result.status ?? 2));
