/**
 * Approval: no code runs, SQL or Python, before the user has seen it with what the checks found.
 * The policy decides what may run without asking; an `Approver` (a terminal prompt, a web button)
 * answers the rest. Without an approver the agent pauses and reports the code as `needs_approval`.
 */
import type { ReviewFinding } from '../sandbox/protocol.js';

/**
 * `ask`: every statement and cell is shown and approved. `auto-sql`: SQL the guard accepts runs
 * without asking (the database is read-only behind it), Python still asks. `yes`: everything runs (-y).
 */
export const approvalPolicies = ['ask', 'auto-sql', 'yes'] as const;
export type ApprovalPolicy = (typeof approvalPolicies)[number];

/** Something about a piece of code the user should know before approving it. */
export interface CodeFinding {
  severity: 'info' | 'warning' | 'danger';
  kind: string;
  message: string;
  /** 1-based line, for Python. */
  line?: number;
}

export interface PendingCode {
  /** The tool call's id. */
  id: string;
  tool: 'run_sql' | 'load_data' | 'run_python';
  language: 'sql' | 'python';
  code: string;
  /** For load_data: the DataFrame's name. */
  name?: string;
  findings: CodeFinding[];
}

export type ApprovalDecision =
  | { action: 'run' }
  | { action: 'edit'; code: string }
  | { action: 'skip'; reason?: string }
  /** Run this and everything after it in the turn without asking again. */
  | { action: 'run_all' };

export interface Approver {
  approveCode(pending: PendingCode): Promise<ApprovalDecision>;
  /** Expert mode: the plan before anything runs; resolves to the (edited) plan, or null to stop. */
  reviewPlan?(plan: readonly string[]): Promise<string[] | null>;
  /** A long-term memory the model proposes; true saves it. */
  confirmMemory?(note: string): Promise<boolean>;
  /** Privacy mode: an aggregate result the model asks to see; true sends it. */
  approveSharing?(summary: { columns: readonly string[]; rows: number; preview: string }): Promise<boolean>;
}

/** Findings of the sandbox's AST review, in the approval's shape. */
export function fromReview(findings: readonly ReviewFinding[]): CodeFinding[] {
  return findings.map((finding) => ({ severity: finding.severity, kind: finding.kind, message: finding.message, line: finding.line }));
}

/** True when the policy lets this code run without asking. */
export function policyAllows(policy: ApprovalPolicy, pending: PendingCode, runAll: boolean): boolean {
  if (policy === 'yes' || runAll) return true;
  if (policy === 'auto-sql' && pending.language === 'sql') return !pending.findings.some((finding) => finding.severity === 'danger');
  return false;
}
