/**
 * The one module that talks to `iquery serve` (the routes of src/server/API.md). Paths are relative,
 * so the app works wherever it is served from. The token, when the server wants one, arrives once in
 * the URL fragment (`#token=...`), is kept in sessionStorage and sent as a bearer token.
 */
import { readServerSentEvents } from './sse-reader';

const chartTypes = ['bar', 'line', 'pie', 'scatter', 'histogram', 'table', 'number'] as const;
export type ChartType = (typeof chartTypes)[number];

export interface ChartSpec {
  type: ChartType;
  title: string;
  x?: string;
  y?: string[];
  series?: string;
  /** Scatter points sampled by the offline analyst, when its result holds only a coefficient. */
  points?: [number, number][];
  data?: { columns: string[]; rows: unknown[][] };
}

export interface TableData {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
}

export interface CodeFinding {
  severity: 'info' | 'warning' | 'danger';
  kind: string;
  message: string;
  line?: number;
}

/** Code about to run, or waiting for approval. */
export interface PendingCode {
  id: string;
  tool: string;
  language: 'sql' | 'python';
  code: string;
  findings: CodeFinding[];
}

export interface Step {
  index: number;
  tool: string;
  input: unknown;
  status: string;
  output: string;
}

/** The result as `iquery ask --json` prints it; only the fields the app reads. */
export interface AnswerResult {
  status: string;
  answer: string;
  analyst: 'agent' | 'offline';
  sql?: string | null;
  columns?: string[];
  rows?: unknown[][];
  truncated?: boolean;
  chart?: ChartSpec | null;
  plan?: { steps?: string[] } | null;
  error?: ErrorBody;
  /** The agent's chart and figure files, relative to the session's folder. */
  files?: string[];
  /** The agent's answer checked against its results: numbers no result supports. */
  numbers?: { checked: number; unsupported: string[] };
  /** Notes the model proposed to remember, waiting for the user. */
  memoriesPending?: { id: string; note: string }[];
}

export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
}

export type StreamEvent =
  | { type: 'plan'; data: { steps: string[] } }
  | { type: 'output'; data: { kind: 'text'; text: string } | { kind: 'step'; step: Step } | { kind: 'note'; text: string } }
  | { type: 'code'; data: PendingCode }
  | { type: 'approval_request'; data: PendingCode }
  | { type: 'share_request'; data: ShareRequest }
  | { type: 'plan_review'; data: PlanReview }
  | { type: 'table'; data: TableData }
  | { type: 'chart'; data: ChartSpec }
  | { type: 'answer'; data: AnswerResult }
  | { type: 'error'; data: ErrorBody }
  | { type: 'done'; data: { status: string } };

const streamEventTypes: ReadonlySet<string> = new Set(['plan', 'output', 'code', 'approval_request', 'share_request', 'plan_review', 'table', 'chart', 'answer', 'error', 'done']);

/** Schema-only mode: an aggregate result the model asks to see (run shares it, skip withholds it). */
export interface ShareRequest {
  id: string;
  columns: string[];
  rows: number;
  preview: string;
}

/** Expert mode: the plan, before anything runs (run accepts, edit with `plan` changes it, skip stops). */
export interface PlanReview {
  id: string;
  steps: string[];
}

export interface Health {
  status: string;
  version: string;
  data: string;
  analyst: 'agent' | 'offline';
  model?: string;
}

export interface SessionSummary {
  id: string;
  createdAt: string;
  title: string;
  turns: number;
}

export interface StoredTurn {
  question: string;
  status: string;
  answer: string;
  analyst: string;
  steps: Step[];
  sql: string | null;
  table?: TableData;
  chart?: ChartSpec;
  files: string[];
}

export interface WorkspaceFile {
  path: string;
  bytes: number;
  modified: string;
}

export interface DictionaryProblem {
  line: number;
  column: number;
  message: string;
}

export interface DictionaryColumn {
  name: string;
  description?: string;
  sensitivity?: string;
  unit?: string;
}

export interface DictionaryDocument {
  yaml: string;
  dictionary: {
    name: string;
    version: string;
    tables: { name: string; description?: string; columns: DictionaryColumn[] }[];
    metrics: { name: string; label: string; sql: string; description?: string }[];
  };
  file?: string;
}

export type ApprovalAction = 'run' | 'edit' | 'skip' | 'run_all';

/** An error answer of the API, or a failure to reach it (`code: "network"`). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  /** 422 on PUT /api/dictionary: what is wrong, by line. */
  readonly problems: DictionaryProblem[];

  constructor(status: number, body: ErrorBody, problems: DictionaryProblem[] = []) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.hint = body.hint;
    this.problems = problems;
  }
}

const tokenKey = 'iquery.token';

/** Takes `#token=...` from the address once (and removes it from the address bar). */
function readToken(): string | null {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = fragment.get('token');
  if (token !== null && token !== '') {
    sessionStorage.setItem(tokenKey, token);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(tokenKey);
}

const token = readToken();

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, { code: 'network', message: String(error) });
  }
  if (response.ok) return response;
  let body: { error?: ErrorBody; problems?: DictionaryProblem[] } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  throw new ApiError(response.status, body.error ?? { code: `http_${response.status}`, message: response.statusText }, body.problems ?? []);
}

async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await request(path, init);
  return (await response.json()) as T;
}

function jsonBody(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

const sessionPath = (id: string): string => `api/sessions/${encodeURIComponent(id)}`;

export const api = {
  health: () => json<Health>('api/health'),
  listSessions: async () => (await json<{ sessions: SessionSummary[] }>('api/sessions')).sessions,
  createSession: () => json<SessionSummary>('api/sessions', jsonBody('POST', {})),
  getSession: (id: string) => json<{ id: string; title: string; turns: StoredTurn[] }>(sessionPath(id)),
  deleteSession: async (id: string) => {
    await request(sessionPath(id), { method: 'DELETE' });
  },
  answerApproval: (id: string, body: { id: string; action: ApprovalAction; code?: string; plan?: string[] }) =>
    json<{ ok: true }>(`${sessionPath(id)}/approvals`, jsonBody('POST', body)),
  uploadFile: (id: string, file: File) => {
    const form = new FormData();
    form.append('file', file);
    return json<{ name: string; bytes: number; table: string }>(`${sessionPath(id)}/files`, { method: 'POST', body: form });
  },
  listFiles: async (id: string) => (await json<{ files: WorkspaceFile[] }>(`${sessionPath(id)}/files`)).files,
  /** A workspace file's bytes; fetched rather than linked, because a link cannot carry the token. */
  fetchFile: async (id: string, path: string) => (await request(`${sessionPath(id)}/files/${path.split('/').map(encodeURIComponent).join('/')}`)).blob(),
  createReport: (id: string) => json<{ path: string; format: 'markdown'; files: string[]; warnings: string[] }>(`${sessionPath(id)}/reports`, { method: 'POST' }),
  confirmMemory: (id: string) => json<{ note: { id: string; status: string } }>(`api/memory/${encodeURIComponent(id)}/confirm`, { method: 'POST' }),
  discardMemory: (id: string) => json<{ note: { id: string } }>(`api/memory/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  getDictionary: () => json<DictionaryDocument>('api/dictionary'),
  putDictionary: (yaml: string) => json<{ version: string }>('api/dictionary', jsonBody('PUT', { yaml })),

  /**
   * Asks a question and calls `onEvent` for each event of the answer's stream, until it closes.
   * Aborting `signal` stops reading (and the server stops the run when the connection drops).
   */
  async ask(id: string, question: string, onEvent: (event: StreamEvent) => void, signal: AbortSignal): Promise<void> {
    const response = await request(`${sessionPath(id)}/messages`, { ...jsonBody('POST', { question }), signal });
    if (response.body === null) throw new ApiError(response.status, { code: 'empty_stream', message: 'The server sent no answer stream.' });
    for await (const event of readServerSentEvents(response.body)) {
      if (!streamEventTypes.has(event.type)) continue;
      onEvent({ type: event.type, data: JSON.parse(event.data) } as StreamEvent);
    }
  },
};

/** Saves a blob under a file name through a temporary link. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
