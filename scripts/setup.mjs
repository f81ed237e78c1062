#!/usr/bin/env node
// Idempotent set-up behind `npm run demo` and `npm test`: installs what is missing and rebuilds what is
// stale, and does nothing (quietly) when everything is current. It uses only Node's standard library,
// because it runs before the project's own dependencies exist.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** The web app (web/ → dist/web/, served by `iquery serve`): rebuilt when anything under web/ is newer. */
function ensureWebBuild() {
  const stamp = join(root, 'dist', 'web', '.build-stamp');
  const sources = Math.max(newestMtime(join(root, 'web')), newestMtime(join(root, 'package-lock.json')));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  step('building the web app (vite)');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join('web', 'tsconfig.json')]);
  run(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join('web', 'vite.config.mjs'), '--logLevel', 'warn']);
  writeFileSync(stamp, new Date().toISOString());
}

/**
 * What the Python sandbox needs from the system, as Debian packages: the interpreter's libraries,
 * bubblewrap for isolation, seccomp bindings, CJK fonts for Chinese chart labels, and ipykernel for
 * the sandbox benchmark's peer; a C++ compiler and make for the native frame writer; and Chromium
 * for the web app's browser tests.
 */
const systemPackages = [
  'g++',
  'make',
  'python3',
  'python3-pandas',
  'python3-numpy',
  'python3-scipy',
  'python3-sklearn',
  'python3-statsmodels',
  'python3-matplotlib',
  'python3-seaborn',
  'python3-openpyxl',
  'python3-seccomp',
  'bubblewrap',
  'fonts-noto-cjk',
  'python3-ipykernel',
  'python3-jupyter-client',
  'chromium',
];

function missingDebianPackages() {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...systemPackages], { encoding: 'utf8' });
  const installed = new Set(
    (result.stdout ?? '')
      .split('\n')
      .filter((line) => line.endsWith(' install ok installed'))
      .map((line) => line.split(' ')[0]),
  );
  return systemPackages.filter((name) => !installed.has(name));
}

/**
 * Installs missing system packages with apt when this machine can (root, or password-less sudo).
 * Returns true when Debian's packages are all in place.
 */
function ensureSystemPackages() {
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get') || !existsSync('/usr/bin/dpkg-query')) {
    step('not a Debian-family system: install bubblewrap and Noto CJK fonts for the Python sandbox');
    return false;
  }
  const missing = missingDebianPackages();
  if (missing.length === 0) return true;
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : null;
  if (sudo === null) {
    step(`the Python sandbox needs: ${missing.join(' ')}`);
    step(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
    return false;
  }
  step(`installing system packages: ${missing.join(' ')}`);
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync(sudo[0] ?? 'apt-get', sudo.length > 0 ? [...sudo.slice(1), 'apt-get', ...args] : args, { stdio: ['ignore', 'ignore', 'inherit'], env: environment });
  // A fresh machine may have empty package lists; refresh them once before installing.
  apt(['update', '-qq']);
  const installed = apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  if (installed.status !== 0) {
    step(`apt-get install failed (exit ${installed.status}); the Python sandbox will not work until these are installed: ${missing.join(' ')}`);
    return false;
  }
  return true;
}

const pythonLibraries = ['pandas', 'numpy', 'scipy', 'sklearn', 'statsmodels', 'matplotlib', 'seaborn', 'openpyxl'];
const pipPackages = ['pandas', 'numpy', 'scipy', 'scikit-learn', 'statsmodels', 'matplotlib', 'seaborn', 'openpyxl'];

function hasLibraries(interpreter) {
  return existsSync(interpreter) && spawnSync(interpreter, ['-c', `import ${pythonLibraries.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

/**
 * The fallback where Debian's packages cannot be installed: a virtual environment made from
 * /usr/bin/python3 (so the sandbox, which mounts /usr, can run it) with the libraries from pip. The
 * kernel finds it through .cache/python.json.
 */
function ensurePythonFallback() {
  const record = join(root, '.cache', 'python.json');
  if (hasLibraries('/usr/bin/python3')) {
    rmSync(record, { force: true });
    return;
  }
  const environment = join(root, '.cache', 'python-venv');
  const interpreter = join(environment, 'bin', 'python3');
  if (!hasLibraries(interpreter)) {
    if (!existsSync('/usr/bin/python3')) {
      step('no /usr/bin/python3: install Python 3 from your system packages to use the Python sandbox');
      return;
    }
    step(`making a Python virtual environment with pip in ${environment}`);
    mkdirSync(join(root, '.cache'), { recursive: true });
    const made = spawnSync('/usr/bin/python3', ['-m', 'venv', '--system-site-packages', environment], { stdio: ['ignore', 'ignore', 'inherit'] });
    const installed = made.status === 0
      ? spawnSync(interpreter, ['-m', 'pip', 'install', '--quiet', ...pipPackages], { stdio: ['ignore', 'ignore', 'inherit'] })
      : made;
    if (installed.status !== 0 || !hasLibraries(interpreter)) {
      step(`could not install the Python libraries with pip; install them yourself: ${interpreter} -m pip install ${pipPackages.join(' ')}`);
      return;
    }
  }
  writeFileSync(record, JSON.stringify({ interpreter }));
}

/** matplotlib's font cache, built once here and copied into each kernel's private config folder. */
/** npm's own node-gyp: the one npm runs scripts with, or the one beside this Node's npm. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((path) => path !== undefined && existsSync(path));
}

/**
 * The native frame writer (native/): a Node addon linked against the libduckdb.so that DuckDB's npm
 * package ships. Rebuilt when its sources, the dependencies or Node change. It is optional: without
 * it, query results reach pandas through the slower JS path, so a failed build warns and goes on.
 */
function ensureNativeAddon() {
  const folder = join(root, 'native');
  const addon = join(folder, 'build', 'Release', 'iquery_frames.node');
  const stamp = join(folder, 'build', '.iquery-stamp');
  const inputs = createHash('sha256');
  for (const name of readdirSync(join(folder, 'src')).sort()) inputs.update(name).update(readFileSync(join(folder, 'src', name)));
  inputs.update(readFileSync(join(folder, 'binding.gyp'))).update(process.version);
  const lock = join(root, 'package-lock.json');
  if (existsSync(lock)) inputs.update(readFileSync(lock));
  const want = inputs.digest('hex');
  if (existsSync(addon) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  const nodeGyp = findNodeGyp();
  const slower = 'query results will reach pandas through the slower JS path';
  if (nodeGyp === undefined) {
    step(`node-gyp not found, so the native frame writer is not built; ${slower}`);
    return;
  }
  step('building the native frame writer (node-gyp)');
  // Node's headers come with Node here (Debian, nodesource, the official tarball): point node-gyp at
  // them, so that it does not try to download them.
  const prefix = dirname(dirname(process.execPath));
  const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
  const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedir], { cwd: folder, encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    step(`the native frame writer did not build (exit ${result.status ?? result.signal}); ${slower}.\n${output}`);
    return;
  }
  writeFileSync(stamp, want);
}

function ensureFontCache() {
  const folder = join(root, '.cache', 'matplotlib');
  if (existsSync(folder) && readdirSync(folder).some((name) => name.startsWith('fontlist-'))) return;
  if (!existsSync('/usr/bin/python3') || !existsSync(join(root, 'python', 'iquery_kernel', 'build_font_cache.py'))) return;
  step('building the matplotlib font cache');
  mkdirSync(folder, { recursive: true });
  const result = spawnSync('/usr/bin/python3', ['-m', 'iquery_kernel.build_font_cache', folder], {
    cwd: root,
    env: { ...process.env, PYTHONPATH: join(root, 'python') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) step('could not build the matplotlib font cache; kernels will build their own (slower start)');
}

checkNode();
ensureDependencies();
ensureBuild();
ensureWebBuild();
if (!ensureSystemPackages()) ensurePythonFallback();
ensureNativeAddon();
ensureFontCache();
