/**
 * The answer service: a process that keeps iquery loaded (DuckDB's library, the SQL parser's
 * WebAssembly, the analyst's modules) so that `iquery ask` answers in a fraction of a cold start.
 * `iquery ask` tries it first (`askThroughService`); when none is running it answers by itself and
 * starts one in the background for the next question (`startAskService`). The service runs one request
 * at a time, exactly as the command line would (same arguments, working directory and IQUERY_*
 * variables), holds no data source open between requests, listens on a Unix socket only its user can
 * use, and exits after some idle minutes. IQUERY_ASK_SERVICE=0 turns it off.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iqueryHome } from '../config/home.js';

interface Request {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

interface Response {
  stdout: string;
  stderr: string;
  code: number;
}

const idleSeconds = Number(process.env['IQUERY_ASK_SERVICE_IDLE'] ?? 600);

/** `ask` as the command word, after any global options (`iquery --json ask …`). */
export function isAskCommand(argv: readonly string[]): boolean {
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    if (argument === '--data' || argument === '--dict') {
      index++;
      continue;
    }
    if (!argument.startsWith('-')) return argument === 'ask';
  }
  return false;
}

/** The socket of the service for this build: a rebuilt iquery never talks to an older service. */
export function servicePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const stamp = join(here, '..', '..', '.build-stamp');
  const build = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
  // The build's stamp and the newest compiled file: a rebuilt iquery gets a service of its own.
  const compiled = String(newestFile(join(here, '..')));
  const key = createHash('sha256').update(build).update(compiled).update(here).digest('hex').slice(0, 12);
  return join(iqueryHome(), 'run', `ask-${key}.sock`);
}

function newestFile(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestFile(path) : entry.name.endsWith('.js') ? statSync(path).mtimeMs : 0);
  }
  return newest;
}

export function serviceEnabled(argv: readonly string[]): boolean {
  // Standard input cannot be forwarded (`--batch -`), and the switch turns the service off.
  if (process.env['IQUERY_ASK_SERVICE'] === '0' || argv.includes('-') || process.platform === 'win32') return false;
  // The service answers for the offline analyst only: the agent prompts, streams and holds a sandbox.
  return argv.includes('--offline') || !modelMayBeConfigured(argv);
}

/**
 * Whether a model may be configured (a flag, the environment, or an `llm:` section in the config
 * file). Cheap on purpose: it runs before anything is loaded; the real resolution comes later.
 */
function modelMayBeConfigured(argv: readonly string[]): boolean {
  if (argv.some((argument) => argument.startsWith('--llm-') || argument === '--approve' || argument === '--reject')) return true;
  if (['IQUERY_LLM_BASE_URL', 'IQUERY_LLM_PROVIDER', 'IQUERY_LLM_MODEL'].some((name) => (process.env[name] ?? '') !== '')) return true;
  const config = join(iqueryHome(), 'config.yaml');
  if (!existsSync(config)) return false;
  // A top-level `llm:` key (YAML keys start a line); any doubt goes the slow, sure way.
  return readFileSync(config, 'utf8').split(/\r?\n/).some((line) => line.startsWith('llm:') || line.startsWith('"llm"') || line.startsWith('{'));
}

function forwardedEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('IQUERY_') && entry[1] !== undefined));
}

/** Asks the running service; undefined when there is none (or it failed), so the caller answers itself. */
export function askThroughService(argv: readonly string[]): Promise<Response | undefined> {
  return new Promise((resolve) => {
    // Half-open: the request is ended, the answer is still to be read.
    const socket = connect({ path: servicePath(), allowHalfOpen: true });
    let answer = '';
    const give = (value: Response | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setEncoding('utf8');
    socket.on('error', () => give(undefined));
    socket.on('connect', () => {
      const request: Request = { argv: [...argv], cwd: process.cwd(), env: forwardedEnvironment() };
      socket.end(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('end', () => {
      try {
        give(JSON.parse(answer) as Response);
      } catch {
        give(undefined);
      }
    });
  });
}

/** True when something answers on the socket. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Starts a service in the background for the next `iquery ask`, unless one is listening or starting
 * already (a `.starting` file, created exclusively, keeps concurrent commands from starting several).
 */
export async function startAskService(): Promise<void> {
  const path = servicePath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (await listening(path)) return;
  const starting = `${path}.starting`;
  try {
    if (existsSync(starting) && Date.now() - statSync(starting).mtimeMs > 30_000) unlinkSync(starting);
    writeFileSync(starting, String(process.pid), { flag: 'wx' });
  } catch {
    return;
  }
  // A socket nobody answers on is left over from a service that died: it goes.
  if (existsSync(path)) unlinkSync(path);
  const entry = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--liftoff-only', entry, '--serve', path], { detached: true, stdio: 'ignore', env: process.env });
  child.unref();
}

// ---------------------------------------------------------------- the service itself

async function serve(path: string): Promise<void> {
  const { runCli } = await import('./cli.js');
  // Load the heavy parts now, before the first question arrives.
  await Promise.all([import('../analyst/analyst.js'), import('../guard/guard.js'), import('@duckdb/node-api'), import('./commands/ask-command.js')]);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const log = join(dirname(path), 'ask-service.log');
  let queue: Promise<void> = Promise.resolve();
  let idle: NodeJS.Timeout | undefined;
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => {
      // A probe (is anyone listening?) sends nothing.
      if (text.trim() === '') {
        socket.end();
        return;
      }
      queue = queue.then(async () => {
        if (idle !== undefined) clearTimeout(idle);
        const started = performance.now();
        const response = await handle(text, runCli);
        appendFileSync(log, `${new Date().toISOString()} exit ${response.code} in ${(performance.now() - started).toFixed(0)} ms\n`);
        socket.end(JSON.stringify(response));
        idle = setTimeout(stop, idleSeconds * 1000);
      });
    });
    socket.on('error', () => undefined);
  });
  const stop = (): void => {
    server.close();
    for (const file of [path, `${path}.pid`]) {
      try {
        unlinkSync(file);
      } catch {
        // Already gone.
      }
    }
    process.exit(0);
  };
  const starting = `${path}.starting`;
  const done = (): void => {
    try {
      unlinkSync(starting);
    } catch {
      // Not ours, or gone.
    }
  };
  server.on('error', () => {
    done();
    process.exit(0);
  });
  server.listen(path, () => {
    chmodSync(path, 0o600);
    writeFileSync(`${path}.pid`, String(process.pid));
    done();
    idle = setTimeout(stop, idleSeconds * 1000);
  });
  process.on('SIGTERM', stop);
}

/** Runs one request as the command line would, capturing what it prints. */
async function handle(text: string, runCli: (argv: readonly string[]) => Promise<number>): Promise<Response> {
  let request: Request;
  try {
    request = JSON.parse(text) as Request;
  } catch {
    return { stdout: '', stderr: 'error: the answer service got a malformed request\n', code: 2 };
  }
  // It answers questions and nothing else.
  if (!Array.isArray(request.argv) || !isAskCommand(request.argv) || typeof request.cwd !== 'string') {
    return { stdout: '', stderr: 'error: the answer service only runs `iquery ask`\n', code: 2 };
  }
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const saved = { ...process.env };
  const cwd = process.cwd();
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    for (const key of Object.keys(process.env)) if (key.startsWith('IQUERY_')) delete process.env[key];
    Object.assign(process.env, request.env);
    process.chdir(request.cwd);
    const code = await runCli(request.argv);
    return { stdout: out.join(''), stderr: err.join(''), code };
  } catch (error) {
    return { stdout: out.join(''), stderr: `${err.join('')}error: internal error: ${error instanceof Error ? error.message : String(error)}\n`, code: 2 };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.chdir(cwd);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    process.exitCode = 0;
  }
}

if (process.argv[2] === '--serve' && process.argv[3] !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  serve(process.argv[3]).catch(() => process.exit(0));
}
