import { randomUUID } from 'node:crypto';
import { existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { IqueryError } from '../errors.js';
import type { DataSource } from '../sources/source.js';
import { readFrame } from './frames/read-frame.js';
import { writeQueryFrame, type FrameSummary } from './frames/write-frame.js';
import { defaultSandboxLimits, type SandboxLimits } from './isolation/sandbox.js';
import { sessionsRoot } from './session-paths.js';
import { describeExit, KernelProcess, type KernelProcessOptions, type RequestOutcome } from './kernel-process.js';
import type { CellOutput, KernelReply, ReviewFinding } from './protocol.js';

export interface KernelSessionOptions {
  /** Default: a new UUID. */
  id?: string;
  /** Host folder for the session's files; default `<sessionsRoot()>/<id>/workspace`. */
  workspace?: string;
  limits?: Partial<SandboxLimits>;
  /** false runs Python without bubblewrap (the user's explicit --no-sandbox). */
  sandbox?: boolean;
  previewRows?: number;
  /** Where a pre-warmed kernel comes from (see KernelPool); default: start one. */
  startKernel?: (options: KernelProcessOptions) => Promise<KernelProcess>;
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  /** Default: the session's cell limit (120 s). */
  timeoutMs?: number;
  /** Figures as SVG as well as PNG. */
  svg?: boolean;
  /** Each output as it arrives (stream text while the cell runs). */
  onOutput?: (output: CellOutput) => void;
}

/**
 * How a cell ended: `ok`; `error` (the code raised); `aborted` (interrupted, variables kept);
 * `timeout` (past its limit: interrupted, or killed when it would not stop); `crashed` (the kernel
 * died; a fresh one is started and earlier variables are gone).
 */
export type CellStatus = 'ok' | 'error' | 'aborted' | 'timeout' | 'crashed';

export interface ExecuteResult {
  status: CellStatus;
  executionCount: number | null;
  outputs: CellOutput[];
  /** True when the kernel was replaced after this cell, so earlier variables are gone. */
  kernelRestarted: boolean;
}

export interface WorkspaceFile {
  path: string;
  bytes: number;
  modified: string;
}

/** After an interrupt, how long a cell gets to stop before its kernel is killed. */
const interruptGraceMs = 3000;

function toOutput(message: KernelReply): CellOutput | undefined {
  switch (message.msg_type) {
    case 'stream':
      return { output_type: 'stream', name: message.content.name, text: message.content.text };
    case 'execute_result':
      return { output_type: 'execute_result', execution_count: message.content.execution_count, data: message.content.data };
    case 'display_data':
      return { output_type: 'display_data', data: message.content.data };
    case 'error':
      return { output_type: 'error', ...message.content };
    default:
      return undefined;
  }
}

function errorOutput(ename: string, evalue: string): CellOutput {
  return { output_type: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`] };
}

/**
 * A Python session: a stateful kernel in its sandbox, with a workspace folder for files and frames.
 * A crash or a kill never ends the session: the next cell runs in a fresh kernel, and the result says so.
 */
export class KernelSession {
  readonly id: string;
  readonly workspace: string;
  readonly limits: SandboxLimits;
  private kernel: KernelProcess | undefined;
  private starting: Promise<KernelProcess> | undefined;
  private readonly options: KernelSessionOptions;
  private frameCounter = 0;
  private closed = false;

  private constructor(id: string, workspace: string, options: KernelSessionOptions) {
    this.id = id;
    this.workspace = workspace;
    this.options = options;
    this.limits = { ...defaultSandboxLimits, ...options.limits };
  }

  /** Creates a session and starts its kernel. */
  static async create(options: KernelSessionOptions = {}): Promise<KernelSession> {
    const id = options.id ?? randomUUID();
    const workspace = resolve(options.workspace ?? join(sessionsRoot(), id, 'workspace'));
    mkdirSync(workspace, { recursive: true });
    const session = new KernelSession(id, workspace, options);
    await session.currentKernel();
    return session;
  }

  /** Notes on the confinement the kernel runs under, and warnings (e.g. no sandbox). */
  get confinement(): { notes: readonly string[]; warnings: readonly string[] } {
    return { notes: this.kernel?.notes ?? [], warnings: this.kernel?.warnings ?? [] };
  }

  private async currentKernel(): Promise<KernelProcess> {
    if (this.closed) throw new IqueryError('bad_input', 'This Python session is closed.', { hint: 'Start a new session.' });
    if (this.kernel?.isAlive) return this.kernel;
    this.starting ??= (this.options.startKernel ?? KernelProcess.start)({
      workspace: this.workspace,
      limits: this.limits,
      ...(this.options.sandbox === undefined ? {} : { sandbox: this.options.sandbox }),
      ...(this.options.previewRows === undefined ? {} : { previewRows: this.options.previewRows }),
    }).finally(() => {
      this.starting = undefined;
    });
    this.kernel = await this.starting;
    return this.kernel;
  }

  /** Runs one cell. Errors in the code are data in the result; only a kernel that cannot start throws. */
  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const kernel = await this.currentKernel();
    const timeoutMs = options.timeoutMs ?? this.limits.cellTimeoutMs;
    const outputs: CellOutput[] = [];
    let stoppedFor: 'timeout' | 'abort' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'abort'): void => {
      if (stoppedFor !== undefined) return;
      stoppedFor = reason;
      kernel.interrupt();
      killTimer = setTimeout(() => void kernel.kill(), interruptGraceMs);
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = (): void => stop('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) stop('abort');
    let outcome: RequestOutcome;
    try {
      outcome = await kernel.request({ type: 'execute', code, svg: options.svg === true }, (message) => {
        const output = toOutput(message);
        if (output === undefined) return;
        outputs.push(output);
        options.onOutput?.(output);
      });
    } finally {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    const reply = outcome.reply;
    if (reply === undefined) {
      // The kernel died: a crash, a kill after a time limit, or memory exhaustion.
      const exit = await kernel.exited;
      const why = stoppedFor === 'timeout'
        ? `The cell ran longer than ${Math.round(timeoutMs / 1000)} s, did not stop when interrupted, and its kernel was killed`
        : stoppedFor === 'abort'
          ? 'The cell was cancelled and did not stop when interrupted, so its kernel was killed'
          : `The Python kernel stopped: ${describeExit(exit)}`;
      const error = errorOutput(stoppedFor === 'timeout' ? 'TimeoutError' : 'KernelDied', `${why}. A fresh kernel will run the next cell; earlier variables are gone.`);
      outputs.push(error);
      options.onOutput?.(error);
      // Release the dead sandbox fully before its successor claims the workspace.
      await kernel.kill();
      if (!this.closed) void this.currentKernel().catch(() => undefined);
      return { status: stoppedFor === 'timeout' ? 'timeout' : 'crashed', executionCount: null, outputs, kernelRestarted: true };
    }
    if (stoppedFor === 'timeout') {
      const error = errorOutput('TimeoutError', `The cell ran longer than ${Math.round(timeoutMs / 1000)} s and was interrupted; variables are kept.`);
      outputs.push(error);
      options.onOutput?.(error);
    }
    const status: CellStatus = stoppedFor === 'timeout' ? 'timeout' : reply.content.status;
    return { status, executionCount: reply.content.execution_count ?? null, outputs, kernelRestarted: false };
  }

  /**
   * Stops the kernel when it has been idle longer than `idleMs`, to free its memory; the next cell
   * starts a fresh one (earlier variables are gone). Returns true when it stopped one.
   */
  async releaseIfIdle(idleMs: number): Promise<boolean> {
    const kernel = this.kernel;
    if (kernel === undefined || !kernel.isAlive || kernel.idleMs < idleMs) return false;
    this.kernel = undefined;
    await kernel.kill();
    return true;
  }

  /** Stops the running cell, if any; variables are kept. */
  interrupt(): void {
    this.kernel?.interrupt();
  }

  /** What deserves a second look in the code before it runs (an AST pass in the kernel; nothing runs). */
  async review(code: string): Promise<ReviewFinding[]> {
    const outcome = await (await this.currentKernel()).request({ type: 'review', code });
    return outcome.reply?.content.findings ?? [];
  }

  /** The kernel's resident memory, in bytes. */
  async memoryBytes(): Promise<number> {
    const outcome = await (await this.currentKernel()).request({ type: 'memory' });
    return outcome.reply?.content.rss_bytes ?? 0;
  }

  /** Runs a query and hands its result to the kernel as DataFrame `name`, without rows passing through JS. */
  async putFrame(name: string, source: DataSource, sql: string, options: { maxRows?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<FrameSummary> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new IqueryError('bad_input', `"${name}" is not a Python variable name.`, { hint: 'Use letters, digits and underscores, not starting with a digit.' });
    }
    const folder = join(this.workspace, '.frames', `in-${++this.frameCounter}`);
    rmSync(folder, { recursive: true, force: true });
    this.makeFolder(join(this.workspace, '.frames'));
    const summary = await writeQueryFrame(source, sql, folder, options);
    const sandboxManifest = '/workspace/' + relative(this.workspace, summary.manifest).split(sep).join('/');
    const outcome = await (await this.currentKernel()).request({ type: 'load_frame', name, manifest: sandboxManifest });
    if (outcome.reply?.content.status !== 'ok') {
      const error = outcome.messages.find((message) => message.msg_type === 'error');
      throw new IqueryError('internal', `The kernel could not load the frame: ${error?.msg_type === 'error' ? error.content.evalue : 'no reply'}`);
    }
    return summary;
  }

  /** Brings DataFrame `name` back from the kernel (the same columnar format, the other way). */
  async getFrame(name: string, options: { maxRows?: number } = {}): Promise<Awaited<ReturnType<typeof readFrame>>> {
    this.makeFolder(join(this.workspace, '.frames'));
    const directory = `/workspace/.frames/out-${++this.frameCounter}`;
    const outcome = await (await this.currentKernel()).request({ type: 'save_frame', name, directory });
    if (outcome.reply?.content.status !== 'ok' || outcome.reply.content.manifest === undefined) {
      const error = outcome.messages.find((message) => message.msg_type === 'error');
      throw new IqueryError('not_found', `No DataFrame "${name}" in the session: ${error?.msg_type === 'error' ? error.content.evalue : 'no reply'}`);
    }
    return readFrame(this.hostPath(outcome.reply.content.manifest.replace(/^\/workspace\/?/, '')), options);
  }

  /** Files in the workspace (frames excluded), with sizes. */
  listFiles(): WorkspaceFile[] {
    const files: WorkspaceFile[] = [];
    const walk = (folder: string): void => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        if (entry.name === '.frames') continue;
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) {
          const info = statSync(path);
          files.push({ path: relative(this.workspace, path).split(sep).join('/'), bytes: info.size, modified: info.mtime.toISOString() });
        }
      }
    };
    walk(this.workspace);
    return files.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Reads a workspace file; symlinks and paths outside the workspace are refused. */
  readFile(path: string): Buffer {
    const host = this.hostPath(path);
    const info = lstatSync(host, { throwIfNoEntry: false });
    if (info === undefined || !info.isFile()) {
      throw new IqueryError('not_found', `No file "${path}" in the workspace.`, { hint: 'List the files to see what is there.' });
    }
    return readFileSync(host);
  }

  /** Puts a file (an upload) into the workspace, within the workspace size limit. */
  writeFile(path: string, data: Buffer): void {
    const used = this.listFiles().reduce((sum, file) => sum + file.bytes, 0);
    if (used + data.length > this.limits.workspaceBytes || data.length > this.limits.fileSizeBytes) {
      throw new IqueryError('bad_input', `The file would pass the workspace limits (${this.limits.fileSizeBytes} bytes a file, ${this.limits.workspaceBytes} in all).`, {
        hint: 'Upload a smaller file, or delete files from the workspace.',
      });
    }
    const host = this.hostPath(path);
    this.makeFolder(dirname(host));
    writeFileSync(host, data, { flag: 'w' });
    this.giveToWorkspaceOwner(host);
  }

  /** Creates a folder in the workspace that the sandboxed code may write into. */
  private makeFolder(folder: string): void {
    const missing: string[] = [];
    for (let current = folder; current.startsWith(this.workspace + sep) && !existsSync(current); current = dirname(current)) missing.unshift(current);
    mkdirSync(folder, { recursive: true });
    for (const created of missing) this.giveToWorkspaceOwner(created);
  }

  /**
   * The sandbox runs as the workspace's owner (an unprivileged uid when iquery runs as root), so what
   * the host puts into the workspace is handed to that owner, or the code could not change it.
   */
  private giveToWorkspaceOwner(path: string): void {
    const owner = statSync(this.workspace);
    const current = lstatSync(path);
    if (current.uid !== owner.uid || current.gid !== owner.gid) lchownSync(path, owner.uid, owner.gid);
  }

  /** Stops the kernel, including one still starting (after a crash, its successor may be on its way). */
  async close(): Promise<void> {
    this.closed = true;
    const starting = await this.starting?.catch(() => undefined);
    for (const kernel of new Set([this.kernel, starting])) {
      if (kernel === undefined || !kernel.isAlive) continue;
      await Promise.race([kernel.request({ type: 'shutdown' }), new Promise((resolve) => setTimeout(resolve, 1000))]);
      await kernel.kill();
    }
    this.kernel = undefined;
  }

  /**
   * Maps a workspace-relative path to the host, refusing anything that leaves the workspace, including
   * through symlinks the sandboxed code may have planted (the host never follows them).
   */
  private hostPath(path: string): string {
    const host = resolve(this.workspace, path);
    if (host !== this.workspace && !host.startsWith(this.workspace + sep)) {
      throw new IqueryError('bad_input', `"${path}" is outside the session's workspace.`);
    }
    let folder = dirname(host);
    while (folder.startsWith(this.workspace) && folder !== this.workspace) {
      if (lstatSync(folder, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new IqueryError('bad_input', `"${path}" goes through a symbolic link; iquery does not follow links out of the workspace.`);
      }
      folder = dirname(folder);
    }
    const existing = lstatSync(host, { throwIfNoEntry: false });
    if (existing?.isSymbolicLink()) {
      throw new IqueryError('bad_input', `"${path}" is a symbolic link; iquery does not follow links out of the workspace.`);
    }
    if (existing !== undefined && realpathSync(host) !== host && !realpathSync(host).startsWith(realpathSync(this.workspace))) {
      throw new IqueryError('bad_input', `"${path}" resolves outside the workspace.`);
    }
    return host;
  }
}
