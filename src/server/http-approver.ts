/**
 * Approval over HTTP: what waits for the user is sent as an event on the message's stream, and the
 * agent waits until `POST /api/sessions/:id/approvals` answers it by its id (or the message is
 * stopped: the session is deleted, the client went away, the server shuts down):
 * - code about to run: `approval_request` (run, edit, skip, run_all);
 * - in schema-only mode, an aggregate the model asks to see: `share_request` (run shares, skip withholds);
 * - in expert mode, the plan before anything runs: `plan_review` (run, edit with the new plan, skip stops).
 *
 * A proposed memory is not confirmed while the message runs: `confirmMemory` answers false, and the
 * note stays pending under the answer for `POST /api/memory/:id/confirm` (the web's Remember button)
 * or `iquery memory confirm`.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalDecision, Approver, PendingCode } from '../agent/approval.js';
import type { StreamEvent } from './server.js';
import { codeView } from './stream-events.js';

/** An answer to a request: a code decision, or `edit` with a new plan for a plan review. */
export type HttpDecision = ApprovalDecision | { action: 'edit'; plan: string[] };

interface Waiting {
  resolve: (decision: HttpDecision) => void;
  reject: (reason: unknown) => void;
  /** What the request is, so that an answer of the wrong shape is refused. */
  kind: 'code' | 'share' | 'plan';
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

  async approveCode(pending: PendingCode): Promise<ApprovalDecision> {
    const decision = await this.ask('code', pending.id, { type: 'approval_request', data: codeView(pending) });
    if (decision === undefined) return { action: 'skip', reason: 'nobody was there to approve it' };
    return 'plan' in decision ? { action: 'skip', reason: 'the answer was a plan, not code' } : decision;
  }

  async approveSharing(summary: { columns: readonly string[]; rows: number; preview: string }): Promise<boolean> {
    const id = `share-${randomUUID()}`;
    const decision = await this.ask('share', id, { type: 'share_request', data: { id, columns: [...summary.columns], rows: summary.rows, preview: summary.preview } });
    return decision?.action === 'run' || decision?.action === 'run_all';
  }

  async reviewPlan(plan: readonly string[]): Promise<string[] | null> {
    const id = `plan-${randomUUID()}`;
    const decision = await this.ask('plan', id, { type: 'plan_review', data: { id, steps: [...plan] } });
    if (decision === undefined || decision.action === 'skip') return null;
    if (decision.action === 'edit') return 'plan' in decision ? decision.plan : decision.code.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
    return [...plan];
  }

  async confirmMemory(): Promise<boolean> {
    return false;
  }

  /**
   * Answers the request with this id: 'answered', 'unknown' when no such request waits, or
   * 'mismatch' when the answer does not fit it (a plan for code, an edit of a share).
   */
  answer(id: string, decision: HttpDecision): 'answered' | 'unknown' | 'mismatch' {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return 'unknown';
    const planGiven = 'plan' in decision;
    if ((waiting.kind === 'code' && planGiven) || (waiting.kind === 'share' && decision.action === 'edit') || (waiting.kind === 'plan' && decision.action === 'edit' && !planGiven)) return 'mismatch';
    this.waiting.delete(id);
    waiting.resolve(decision);
    return 'answered';
  }

  /** Sends a request and waits for its answer; undefined when no stream is attached (nobody to ask). */
  private ask(kind: Waiting['kind'], id: string, event: StreamEvent): Promise<HttpDecision | undefined> {
    const { emit, signal } = this;
    if (emit === undefined || signal === undefined) return Promise.resolve(undefined);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<HttpDecision>((resolve, reject) => {
      // Registered before the event leaves, so that an answer arriving at once finds it.
      this.waiting.set(id, { resolve, reject, kind });
      emit(event);
    });
  }

  private cancelAll(reason: unknown): void {
    for (const waiting of this.waiting.values()) waiting.reject(reason);
    this.waiting.clear();
  }
}
