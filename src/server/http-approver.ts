/**
 * Approval over HTTP: code waiting to run is sent as an `approval_request` event on the message's
 * stream, and the agent waits until `POST /api/sessions/:id/approvals` answers it (or the message is
 * stopped: the session is deleted, the client went away, the server shuts down).
 *
 * A proposed memory is not confirmed while the message runs: `confirmMemory` answers false, and the
 * note stays pending under the answer for `POST /api/memory/:id/confirm` (the web's Remember button)
 * or `iquery memory confirm`. The web has no prompt yet for sharing an aggregate in schema-only mode:
 * `approveSharing` answers false (the model is told the result was withheld). Plan review (expert
 * mode) is not offered, so the server refuses `--mode expert`.
 */
import type { ApprovalDecision, Approver, PendingCode } from '../agent/approval.js';
import type { StreamEvent } from './server.js';
import { codeView } from './stream-events.js';

interface Waiting {
  resolve: (decision: ApprovalDecision) => void;
  reject: (reason: unknown) => void;
}

export class HttpApprover implements Approver {
  private readonly waiting = new Map<string, Waiting>();
  private emit: ((event: StreamEvent) => void) | undefined;
  private signal: AbortSignal | undefined;

  /** Sends requests to this message's stream, and stops waiting when its signal aborts. */
  attach(emit: (event: StreamEvent) => void, signal: AbortSignal): void {
    this.emit = emit;
    this.signal = signal;
    signal.addEventListener('abort', () => this.cancelAll(signal.reason), { once: true });
  }

  detach(): void {
    this.emit = undefined;
    this.signal = undefined;
  }

  approveCode(pending: PendingCode): Promise<ApprovalDecision> {
    const { emit, signal } = this;
    if (emit === undefined || signal === undefined) return Promise.resolve({ action: 'skip', reason: 'nobody was there to approve it' });
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<ApprovalDecision>((resolve, reject) => {
      // Registered before the event leaves, so that an answer arriving at once finds it.
      this.waiting.set(pending.id, { resolve, reject });
      emit({ type: 'approval_request', data: codeView(pending) });
    });
  }

  async confirmMemory(): Promise<boolean> {
    return false;
  }

  async approveSharing(): Promise<boolean> {
    return false;
  }

  /** Answers the request with this id; false when no such request waits. */
  answer(id: string, decision: ApprovalDecision): boolean {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return false;
    this.waiting.delete(id);
    waiting.resolve(decision);
    return true;
  }

  private cancelAll(reason: unknown): void {
    for (const waiting of this.waiting.values()) waiting.reject(reason);
    this.waiting.clear();
  }
}
