import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { IqueryError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { spawnSandboxed, type SandboxLimits, type SandboxedProcess } from './isolation/sandbox.js';
import { resolvePythonInterpreter } from './python-interpreter.js';
import { mountableCopy } from './session-paths.js';
import { kernelProtocolVersion, type KernelReply, type KernelRequest } from './protocol.js';

export interface KernelProcessOptions {
  /** Host folder mounted read-write at /workspace. */
  workspace: string;
  limits?: Partial<SandboxLimits>;
  /** false runs without bubblewrap (--no-sandbox). */
  sandbox?: boolean;
  /** DataFrame preview rows in results. Default 50. */
  previewRows?: number;
}

/** Distributive `Omit`, so that each request variant keeps its own fields. */
export type RequestWithoutId = KernelRequest extends infer Request ? (Request extends KernelRequest ? Omit<Request, 'id'> : never) : never;

/** Everything that came back for one request: its messages in order, and how it ended. */
export interface RequestOutcome {
  messages: KernelReply[];
  /** The final `reply` message, or undefined when the kernel died first. */
  reply: Extract<KernelReply, { msg_type: 'reply' }> | undefined;
}

interface Pending {
  messages: KernelReply[];
  onMessage: ((message: KernelReply) => void) | undefined;
  resolve: (outcome: RequestOutcome) => void;
}

export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const kernelPackage = (): string => join(packageRoot(), 'python');
const fontCache = (): string => join(packageRoot(), '.cache', 'matplotlib');

/** How a dead kernel's exit reads to a person. */
export function describeExit(exit: KernelExit): string {
  if (exit.signal === 'SIGSEGV') return 'it crashed (segmentation fault)';
  if (exit.signal === 'SIGKILL') return 'it was killed (out of memory, or stopped after a time limit)';
  if (exit.signal !== null) return `it was stopped by ${exit.signal}`;
  return `it exited with code ${exit.code}`;
}

/**
 * One Python kernel in its sandbox, speaking the kernel protocol. Requests are answered in order; the
 * text a cell writes straight to fd 1/2 (C extensions, subprocesses) is reported as `stream` output
 * of the request that is running.
 */
export class KernelProcess {
  readonly ready: Promise<Extract<KernelReply, { msg_type: 'ready' }>>;
  readonly exited: Promise<KernelExit>;
  private readonly sandboxed: SandboxedProcess;
  private readonly pending = new Map<string, Pending>();
  private readonly order: string[] = [];
  private alive = true;
  private lastUsed = Date.now();

  private constructor(sandboxed: SandboxedProcess) {
    this.sandboxed = sandboxed;
    const child = sandboxed.child;
    let markReady: (message: Extract<KernelReply, { msg_type: 'ready' }>) => void = () => undefined;
    let failReady: (error: Error) => void = () => undefined;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.alive = false;
        const exit = { code, signal };
        failReady(new IqueryError('internal', `The Python kernel did not start: ${describeExit(exit)}.`, { hint: 'Run `npm run setup` to install the Python environment, or try --debug.' }));
        for (const [, request] of this.pending) request.resolve({ messages: request.messages, reply: undefined });
        this.pending.clear();
        this.order.length = 0;
        void sandboxed.kill();
        resolve(exit);
      });
    });
    const replies = child.stdio[3] as Readable;
    readLines(replies, (line) => {
      let message: KernelReply;
      try {
        message = JSON.parse(line) as KernelReply;
      } catch {
        return;
      }
      if (message.msg_type === 'ready') {
        if (message.content.protocol !== kernelProtocolVersion) {
          failReady(new IqueryError('internal', `The Python kernel speaks protocol ${message.content.protocol}, iquery ${kernelProtocolVersion}.`));
        } else markReady(message);
        return;
      }
      this.deliver(message);
    });
    for (const [stream, name] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']] as const) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        const current = this.order[0];
        if (current !== undefined) this.deliver({ id: current, msg_type: 'stream', content: { name, text } });
      });
    }
  }

  /** Starts a kernel and waits until it has imported its libraries and said it is ready. */
  static async start(options: KernelProcessOptions): Promise<KernelProcess> {
    const previewRows = options.previewRows ?? 50;
    const python = resolvePythonInterpreter();
    const sandboxed = await spawnSandboxed({
      workspace: options.workspace,
      command: [python.path, '-m', 'iquery_kernel', '--reply-fd', '3', '--control-fd', '4', '--workspace', '/workspace', '--preview-rows', String(previewRows)],
      readOnlyMounts: [
        { host: mountableCopy(kernelPackage()), sandbox: '/opt/iquery/python' },
        ...(existsSync(fontCache()) ? [{ host: mountableCopy(fontCache()), sandbox: '/opt/iquery/matplotlib' }] : []),
        ...python.mounts,
      ],
      environment: {
        PYTHONPATH: '/opt/iquery/python',
        PYTHONDONTWRITEBYTECODE: '1',
        MPLBACKEND: 'Agg',
        MPLCONFIGDIR: '/tmp/matplotlib',
        IQUERY_MPL_CACHE: '/opt/iquery/matplotlib',
      },
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
    });
    const kernel = new KernelProcess(sandboxed);
    await kernel.ready;
    return kernel;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get pid(): number | undefined {
    return this.sandboxed.child.pid;
  }

  get idleMs(): number {
    return this.order.length > 0 ? 0 : Date.now() - this.lastUsed;
  }

  get notes(): readonly string[] {
    return this.sandboxed.notes;
  }

  get warnings(): readonly string[] {
    return this.sandboxed.warnings;
  }

  /** Sends a request and resolves with everything that came back for it (or what came before a crash). */
  request(request: RequestWithoutId, onMessage?: (message: KernelReply) => void): Promise<RequestOutcome> {
    const id = randomUUID();
    this.lastUsed = Date.now();
    if (!this.alive) return Promise.resolve({ messages: [], reply: undefined });
    return new Promise((resolve) => {
      this.pending.set(id, { messages: [], onMessage, resolve });
      this.order.push(id);
      (this.sandboxed.child.stdin as Writable).write(JSON.stringify({ ...request, id }) + '\n');
    });
  }

  /**
   * Asks the running cell to stop (KeyboardInterrupt); the kernel and its variables stay. The word
   * names the request, so that it cannot stop the next one if the running one has just finished.
   */
  interrupt(): void {
    const running = this.order[0];
    if (this.alive && running !== undefined) (this.sandboxed.child.stdio[4] as Writable).write(`interrupt ${running}\n`);
  }

  /** Stops the kernel and everything it started. */
  async kill(): Promise<void> {
    await this.sandboxed.kill();
    if (this.alive) await this.exited;
  }

  private deliver(message: KernelReply): void {
    if (message.id === null) return;
    const request = this.pending.get(message.id);
    if (request === undefined) return;
    request.messages.push(message);
    request.onMessage?.(message);
    if (message.msg_type === 'reply') {
      // What the cell wrote straight to fd 1/2 is already in those pipes when its reply arrives on fd 3,
      // but the pipes are read in no fixed order: give them two loop turns, still counting it as this cell's.
      const id = message.id;
      setImmediate(() =>
        setImmediate(() => {
          this.pending.delete(id);
          this.order.splice(this.order.indexOf(id), 1);
          this.lastUsed = Date.now();
          request.resolve({ messages: request.messages, reply: message });
        }),
      );
    }
  }
}

/** Calls `onLine` for each newline-terminated line of a byte stream. */
function readLines(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.length > 0) onLine(line);
      newline = buffered.indexOf('\n');
    }
  });
}
