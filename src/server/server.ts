/**
 * The HTTP server's contract (see API.md): what a message streams, what a session looks like from
 * outside, and what a server needs to start. The routes (`create-app.ts`) are a thin layer over the
 * session manager; the sessions (`serve-session.ts`) are thin layers over the agent and the offline
 * analyst.
 */
import type { AgentMode } from '../agent/agent.js';
import type { ApprovalPolicy } from '../agent/approval.js';
import type { LlmSettings } from '../llm/llm-settings.js';
import type { DataSource } from '../sources/source.js';
import type { DictionaryStore } from './dictionary-store.js';

/** The `event:` names of a message's stream, in the order they usually come. `done` is always last. */
export const streamEventTypes = ['plan', 'output', 'code', 'approval_request', 'share_request', 'plan_review', 'table', 'chart', 'answer', 'error', 'done'] as const;
export type StreamEventType = (typeof streamEventTypes)[number];

/** A finished tool call, as the web shows it. */
export interface StepView {
  index: number;
  tool: string;
  input: unknown;
  status: string;
  output: string;
}

/** Code about to run (`code`), or waiting for `POST /approvals` (`approval_request`). */
export interface CodeView {
  /** The tool call's id; an approval answers it. */
  id: string;
  tool: string;
  language: 'sql' | 'python';
  code: string;
  findings: { severity: string; kind: string; message: string; line?: number }[];
}

export interface TableView {
  columns: string[];
  /** At most `maxStreamedRows`. */
  rows: unknown[][];
  /** True when the result had more rows than were sent. */
  truncated: boolean;
}

export interface ChartView {
  type: string;
  title: string;
  x?: string;
  y?: string[];
  series?: string;
  data: { columns: string[]; rows: unknown[][] };
}

export interface ErrorView {
  code: string;
  message: string;
  hint?: string;
}

export type OutputView = { kind: 'text'; text: string } | { kind: 'step'; step: StepView } | { kind: 'note'; text: string };

/** One event of a message's `text/event-stream`: `type` is the `event:` line, `data` its JSON. */
export type StreamEvent =
  | { type: 'plan'; data: { steps: string[] } }
  | { type: 'output'; data: OutputView }
  | { type: 'code'; data: CodeView }
  | { type: 'approval_request'; data: CodeView }
  /** Schema-only mode: an aggregate result the model asks to see; `run` shares it, `skip` withholds it. */
  | { type: 'share_request'; data: { id: string; columns: string[]; rows: number; preview: string } }
  /** Expert mode: the plan before anything runs; `run` accepts it, `edit` with `plan` changes it, `skip` stops. */
  | { type: 'plan_review'; data: { id: string; steps: string[] } }
  | { type: 'table'; data: TableView }
  | { type: 'chart'; data: ChartView }
  /** The whole result, as `iquery ask --json` prints it. */
  | { type: 'answer'; data: object }
  | { type: 'error'; data: ErrorView }
  | { type: 'done'; data: { status: string } };

/** Rows a `table` event (and a turn's stored table) carries at most. */
export const maxStreamedRows = 1000;

/** Uploads larger than this are refused with 413: 200 MB. */
export const defaultMaxUploadBytes = 200 * 1024 * 1024;

export interface TurnView {
  question: string;
  /** `running` while the message runs; then the result's status (answered, abstained, needs_approval, stopped, error). */
  status: string;
  answer: string;
  analyst: 'agent' | 'offline';
  steps: StepView[];
  sql: string | null;
  table?: TableView;
  chart?: ChartView;
  /** Charts, figures and reports of the turn, relative to the session's folder. */
  files: string[];
}

export interface SessionSummary {
  id: string;
  createdAt: string;
  /** The first question (shortened), or "New session" before there is one. */
  title: string;
  turns: number;
}

export interface SessionView extends Omit<SessionSummary, 'turns'> {
  turns: TurnView[];
}

/** What every session of one server shares. */
export interface ServeSettings {
  /** IQUERY_HOME: agent sessions (and so each session's folder), memory, the cache of uploaded files. */
  home: string;
  /** The data every session starts on, until it has uploads of its own. Closed by whoever opened it. */
  source: DataSource;
  /** The `--data` that source was opened from, recorded in reports for `iquery rerun` (never a server URL). */
  dataSpec?: string;
  dictionary: DictionaryStore;
  /** The model; undefined: the offline analyst answers every message. */
  model?: LlmSettings;
  agent: {
    policy: ApprovalPolicy;
    /** `expert` sends each plan as a `plan_review` event before anything runs. */
    mode: AgentMode;
    /** False: the model sees the schema and aggregates only. */
    sendValues: boolean;
    /** False only with --no-sandbox. */
    sandbox: boolean;
    maxSteps?: number;
  };
  /** What "today" is for the offline analyst (YYYY-MM-DD); default the system date. */
  today?: string;
}

/** The MCP server's streamable-HTTP handler, mounted at `/mcp` behind the same token. */
export type McpHandler = (request: Request) => Response | Promise<Response>;
