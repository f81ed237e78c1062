import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxLimits } from './isolation/sandbox.js';
import { KernelProcess } from './kernel-process.js';
import { KernelSession } from './kernel-session.js';
import { sessionsRoot } from './session-paths.js';

export interface KernelPoolOptions {
  /** Warm kernels kept ready. Default 1. */
  size?: number;
  /** Kernels (spare or in a session) idle longer than this are stopped. Default 10 minutes. */
  idleMs?: number;
  limits?: Partial<SandboxLimits>;
  sandbox?: boolean;
  home?: string;
}

interface WarmKernel {
  id: string;
  workspace: string;
  kernel: Promise<KernelProcess>;
}

export interface IdleKernelReport {
  pid: number | undefined;
  rssBytes: number;
  idleMs: number;
}

/** Stops a spare kernel (once it has started, if it was starting) and removes its session folder. */
async function discard(spare: WarmKernel): Promise<void> {
  const kernel = await spare.kernel.catch(() => undefined);
  await kernel?.kill();
  rmSync(join(spare.workspace, '..'), { recursive: true, force: true });
}

/**
 * Pre-warmed kernels, so that a new session's first cell does not wait for Python to import pandas
 * and matplotlib. Each spare is started on the workspace of the session that will adopt it. Spares
 * and session kernels idle past `idleMs` are stopped by `reap()`, which also runs on a timer.
 */
export class KernelPool {
  private readonly spares: WarmKernel[] = [];
  private readonly sessions = new Set<KernelSession>();
  private readonly options: Required<Pick<KernelPoolOptions, 'size' | 'idleMs'>> & KernelPoolOptions;
  private readonly reaper: NodeJS.Timeout;
  private closed = false;

  constructor(options: KernelPoolOptions = {}) {
    this.options = { size: 1, idleMs: 10 * 60_000, ...options };
    this.reaper = setInterval(() => void this.reap(), Math.max(1000, Math.min(this.options.idleMs, 60_000)));
    this.reaper.unref();
    this.fill();
  }

  private fill(): void {
    while (!this.closed && this.spares.length < this.options.size) {
      const id = randomUUID();
      const workspace = join(sessionsRoot(this.options.home), id, 'workspace');
      mkdirSync(workspace, { recursive: true });
      const kernel = KernelProcess.start({
        workspace,
        ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
        ...(this.options.sandbox === undefined ? {} : { sandbox: this.options.sandbox }),
      });
      kernel.catch(() => undefined);
      this.spares.push({ id, workspace, kernel });
    }
  }

  /** Waits until every spare kernel is ready. */
  async warm(): Promise<void> {
    await Promise.all(this.spares.map((spare) => spare.kernel));
  }

  /** A new session on a warm kernel when one is ready (a fresh one otherwise); the pool refills behind it. */
  async createSession(): Promise<KernelSession> {
    const spare = this.spares.shift();
    this.fill();
    let adopted = spare === undefined ? undefined : await spare.kernel.catch(() => undefined);
    const session = await KernelSession.create({
      ...(spare === undefined ? { workspace: join(sessionsRoot(this.options.home), randomUUID(), 'workspace') } : { id: spare.id, workspace: spare.workspace }),
      ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
      ...(this.options.sandbox === undefined ? {} : { sandbox: this.options.sandbox }),
      startKernel: (kernelOptions) => {
        const warm = adopted?.isAlive ? adopted : undefined;
        adopted = undefined;
        return warm === undefined ? KernelProcess.start(kernelOptions) : Promise.resolve(warm);
      },
    });
    this.sessions.add(session);
    return session;
  }

  /** Memory of each idle spare kernel (resident set, bytes): what the pool costs while it waits. */
  async idleKernels(): Promise<IdleKernelReport[]> {
    const reports: IdleKernelReport[] = [];
    for (const spare of this.spares) {
      const kernel = await spare.kernel.catch(() => undefined);
      if (kernel === undefined || !kernel.isAlive) continue;
      const outcome = await kernel.request({ type: 'memory' });
      reports.push({ pid: kernel.pid, rssBytes: outcome.reply?.content.rss_bytes ?? 0, idleMs: kernel.idleMs });
    }
    return reports;
  }

  /** Stops spares and session kernels idle longer than the limit. Returns how many were stopped. */
  async reap(): Promise<number> {
    let stopped = 0;
    for (const spare of [...this.spares]) {
      const kernel = await spare.kernel.catch(() => undefined);
      if (kernel !== undefined && kernel.isAlive && kernel.idleMs < this.options.idleMs) continue;
      this.spares.splice(this.spares.indexOf(spare), 1);
      await discard(spare);
      stopped++;
    }
    for (const session of this.sessions) if (await session.releaseIfIdle(this.options.idleMs)) stopped++;
    return stopped;
  }

  /** Forgets a session the caller has closed. */
  release(session: KernelSession): void {
    this.sessions.delete(session);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    const spares = this.spares.splice(0);
    await Promise.all(spares.map(discard));
    await Promise.all([...this.sessions].map((session) => session.close()));
    this.sessions.clear();
  }
}
