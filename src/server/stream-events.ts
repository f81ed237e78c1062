/**
 * Translations, pure: the agent's events and results, and the offline analyst's results, into the
 * stream events and turn views of the HTTP contract.
 */
import type { AgentEvent, AgentResult } from '../agent/agent.js';
import type { AgentChart } from '../agent/agent-tools.js';
import type { PendingCode } from '../agent/approval.js';
import type { AgentStep } from '../agent/session-store.js';
import type { AskResult } from '../analyst/analyst.js';
import type { ChartSpec } from '../analyst/chart.js';
import { IqueryError, messageOf } from '../errors.js';
import { maxStreamedRows, type ChartView, type CodeView, type ErrorView, type StepView, type StreamEvent, type TableView, type TurnView } from './server.js';

export function stepView(step: AgentStep): StepView {
  return { index: step.index, tool: step.tool, input: step.input, status: step.status, output: step.output };
}

export function codeView(pending: PendingCode): CodeView {
  return { id: pending.id, tool: pending.tool, language: pending.language, code: pending.code, findings: pending.findings.map((finding) => ({ ...finding })) };
}

/** Rows capped at `maxStreamedRows`; `truncated` says so. */
export function tableView(columns: readonly string[], rows: readonly (readonly unknown[])[], truncated: boolean): TableView {
  return { columns: [...columns], rows: rows.slice(0, maxStreamedRows).map((row) => [...row]), truncated: truncated || rows.length > maxStreamedRows };
}

/** What a chart is, without its data: type, title and the columns it draws. */
function chartHead(chart: { type: ChartView['type']; title: string; x?: string | undefined; y?: string[] | undefined; series?: string | undefined }): Omit<ChartView, 'data'> {
  return {
    type: chart.type,
    title: chart.title,
    ...(chart.x === undefined ? {} : { x: chart.x }),
    ...(chart.y === undefined ? {} : { y: chart.y }),
    ...(chart.series === undefined ? {} : { series: chart.series }),
  };
}

export function agentChartView(chart: AgentChart): ChartView {
  return { ...chartHead(chart), data: { columns: chart.data.columns, rows: chart.data.rows.slice(0, maxStreamedRows) } };
}

/** The offline analyst's chart draws its result; a scatter draws its sampled points instead (the result is one coefficient). */
export function offlineChartView(chart: ChartSpec, columns: readonly string[], rows: readonly (readonly unknown[])[]): ChartView {
  const points = chart.points;
  const data = points !== undefined && chart.x !== undefined && chart.y?.[0] !== undefined
    ? { columns: [chart.x, chart.y[0]], rows: points.slice(0, maxStreamedRows).map((point) => [...point]) }
    : { columns: [...columns], rows: rows.slice(0, maxStreamedRows).map((row) => [...row]) };
  return { ...chartHead(chart), data };
}

/** Any thrown value as the contract's error: an IqueryError keeps its code and hint; anything else is `internal`. */
export function errorView(error: unknown): ErrorView {
  if (error instanceof IqueryError) return { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  if (error instanceof Error && error.name === 'AbortError') return { code: 'query_cancelled', message: 'The message was stopped.' };
  return { code: 'internal', message: `internal error: ${messageOf(error)}`, hint: 'This is a bug in iquery; the server log has details.' };
}

/** What the agent reports as it works, as stream events; reasoning and developer traces stay out (the result carries them). */
export function streamEventOf(event: AgentEvent): StreamEvent | undefined {
  switch (event.type) {
    case 'plan':
      return { type: 'plan', data: { steps: event.steps } };
    case 'text-delta':
      return { type: 'output', data: { kind: 'text', text: event.text } };
    case 'step':
      return { type: 'output', data: { kind: 'step', step: stepView(event.step) } };
    case 'note':
      return { type: 'output', data: { kind: 'note', text: event.text } };
    case 'retry':
      return { type: 'output', data: { kind: 'note', text: `the model server said ${event.reason}; retry ${event.attempt} in ${Math.round(event.delayMs / 100) / 10} s` } };
    case 'code':
      return { type: 'code', data: codeView(event.pending) };
    case 'table':
      return { type: 'table', data: tableView(event.columns, event.rows, event.truncated) };
    case 'chart':
      return { type: 'chart', data: agentChartView(event.chart) };
    // The HTTP approver sends approval_request itself, once its answer can be received.
    case 'approval-request':
    case 'reasoning-delta':
    case 'developer':
      return undefined;
  }
}

/** The offline analyst's result: its table and chart (the agent streams these as it works), then the answer. */
export function offlineResultEvents(result: AskResult & { fallback?: unknown }): StreamEvent[] {
  const events: StreamEvent[] = [];
  if (result.status === 'answered' && result.columns.length > 0) {
    events.push({ type: 'table', data: tableView(result.columns, result.rows, result.truncated) });
    if (result.chart !== null) events.push({ type: 'chart', data: offlineChartView(result.chart, result.columns, result.rows) });
  }
  events.push({ type: 'answer', data: result });
  if (result.status === 'error') events.push({ type: 'error', data: { code: result.error?.code ?? 'internal', message: result.error?.message ?? result.answer } });
  return events;
}

export function agentResultEvents(result: AgentResult): StreamEvent[] {
  const events: StreamEvent[] = [{ type: 'answer', data: result }];
  if (result.status === 'error') events.push({ type: 'error', data: result.error ?? { code: 'internal', message: result.answer } });
  return events;
}

export function offlineTurn(result: AskResult): TurnView {
  const answered = result.status === 'answered' && result.columns.length > 0;
  return {
    question: result.question,
    status: result.status,
    answer: result.answer,
    analyst: 'offline',
    steps: [],
    sql: result.sql,
    ...(answered ? { table: tableView(result.columns, result.rows, result.truncated) } : {}),
    ...(answered && result.chart !== null ? { chart: offlineChartView(result.chart, result.columns, result.rows) } : {}),
    files: [],
  };
}

export function agentTurn(result: AgentResult): TurnView {
  return {
    question: result.question,
    status: result.status,
    answer: result.answer,
    analyst: 'agent',
    steps: result.steps.map(stepView),
    sql: result.sql,
    ...(result.columns.length > 0 ? { table: tableView(result.columns, result.rows, result.truncated) } : {}),
    ...(result.chart === null ? {} : { chart: agentChartView(result.chart) }),
    files: [...result.files],
  };
}
