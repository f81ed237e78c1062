/**
 * One question and everything its answer stream brought, as the chat shows it. `applyEvent` folds
 * the stream's events into a turn; `fromStoredTurn` makes the same shape from a saved session.
 */
import type { ApprovalAction, ChartSpec, ErrorBody, PendingCode, PlanReview, ShareRequest, Step, StoredTurn, StreamEvent, TableData } from './api-client';

export interface CodeItem extends PendingCode {
  /** True while the run waits for the user's decision. */
  awaiting: boolean;
  decision?: ApprovalAction;
}

export interface Turn {
  question: string;
  /** `running` until the stream's `done`; then the status it reported. */
  status: string;
  plan: string[];
  text: string;
  notes: string[];
  steps: Step[];
  codes: CodeItem[];
  table?: TableData;
  chart?: ChartSpec;
  sql?: string;
  error?: ErrorBody;
  files: string[];
  /** Numbers of the answer that no result supports. */
  unsupported?: string[];
  /** Questions put to the user mid-run: sharing an aggregate, reviewing the plan. */
  requests: UserRequest[];
  /** Notes the model proposed to remember, waiting for the user's word. */
  memories?: { id: string; note: string }[];
}

export type UserRequest = ({ kind: 'share' } & ShareRequest) | ({ kind: 'plan' } & PlanReview);

export function newTurn(question: string): Turn {
  return { question, status: 'running', plan: [], text: '', notes: [], steps: [], codes: [], files: [], requests: [] };
}

/**
 * `code` then `approval_request` for the same call make one block. Only the last block can be that
 * call, and only with the same code: some model servers number tool calls afresh in every reply, so
 * an id alone does not tell two calls apart.
 */
function upsertCode(codes: CodeItem[], pending: PendingCode, awaiting: boolean): CodeItem[] {
  const item: CodeItem = { ...pending, awaiting };
  const last = codes.at(-1);
  const same = last !== undefined && last.id === pending.id && last.code === pending.code && last.decision === undefined;
  return same ? [...codes.slice(0, -1), { ...last, ...item }] : [...codes, item];
}

/** The chart's data: its own, or the turn's table when the spec came without rows (offline answers). */
export function chartWithData(chart: ChartSpec, table: TableData | undefined): ChartSpec {
  if (chart.data !== undefined || table === undefined) return chart;
  return { ...chart, data: { columns: table.columns, rows: table.rows } };
}

/**
 * Text the model wrote before calling a tool is a remark on the way, not the answer: it moves to the
 * notes when the tool call shows up, so that `text` holds only what is being written now.
 */
function settleText(turn: Turn): Turn {
  const remark = turn.text.trim();
  return remark === '' ? turn : { ...turn, text: '', notes: [...turn.notes, remark] };
}

export function applyEvent(turn: Turn, event: StreamEvent): Turn {
  switch (event.type) {
    case 'plan':
      // The plan is read from the text just streamed; shown as a list, it need not show twice.
      return { ...turn, plan: event.data.steps, text: '' };
    case 'output': {
      const output = event.data;
      if (output.kind === 'text') return { ...turn, text: turn.text + output.text };
      if (output.kind === 'note') return { ...turn, notes: [...turn.notes, output.text] };
      return { ...settleText(turn), steps: [...turn.steps, output.step] };
    }
    case 'code':
      return { ...settleText(turn), codes: upsertCode(turn.codes, event.data, false) };
    case 'approval_request':
      return { ...settleText(turn), codes: upsertCode(turn.codes, event.data, true) };
    case 'share_request':
      return { ...settleText(turn), requests: [...turn.requests, { kind: 'share', ...event.data }] };
    case 'plan_review':
      return { ...settleText(turn), requests: [...turn.requests, { kind: 'plan', ...event.data }] };
    case 'table':
      return { ...turn, table: event.data };
    case 'chart':
      return { ...turn, chart: event.data };
    case 'answer': {
      const result = event.data;
      const next: Turn = { ...turn };
      // The streamed text is the answer as it was typed; the result's is the final word on it.
      if (result.answer !== '') next.text = result.answer;
      if (next.table === undefined && result.columns !== undefined && result.columns.length > 0) {
        next.table = { columns: result.columns, rows: result.rows ?? [], truncated: result.truncated ?? false };
      }
      if (next.chart === undefined && result.chart !== undefined && result.chart !== null) next.chart = result.chart;
      if (typeof result.sql === 'string') next.sql = result.sql;
      if (next.plan.length === 0 && result.plan?.steps !== undefined) next.plan = result.plan.steps;
      if (result.error !== undefined) next.error = result.error;
      if (result.files !== undefined) next.files = result.files;
      if (result.numbers !== undefined && result.numbers.unsupported.length > 0) next.unsupported = result.numbers.unsupported;
      if (result.memoriesPending !== undefined && result.memoriesPending.length > 0) next.memories = result.memoriesPending;
      return next;
    }
    case 'error':
      return { ...turn, error: event.data };
    case 'done':
      return { ...turn, status: event.data.status, codes: turn.codes.map((code) => ({ ...code, awaiting: false })) };
  }
}

/** Records the user's decision on a waiting piece of code. */
export function decide(turn: Turn, id: string, action: ApprovalAction, code?: string): Turn {
  return {
    ...turn,
    codes: turn.codes.map((item) => (item.id === id && item.awaiting ? { ...item, awaiting: false, decision: action, ...(code === undefined ? {} : { code }) } : item)),
  };
}

export function fromStoredTurn(stored: StoredTurn): Turn {
  const turn: Turn = { ...newTurn(stored.question), status: stored.status, text: stored.answer, steps: stored.steps ?? [], files: stored.files ?? [] };
  if (stored.sql !== null && stored.sql !== undefined) turn.sql = stored.sql;
  if (stored.table !== undefined) turn.table = stored.table;
  if (stored.chart !== undefined) turn.chart = stored.chart;
  return turn;
}
