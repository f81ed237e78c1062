/**
 * Agent sessions, kept under IQUERY_HOME/agent/<name>/: `session.json` holds the messages, every
 * turn's steps (code, results, charts) and the code waiting for approval; charts and reports sit
 * beside it. The file is written whole under a temporary name and renamed after every step, so a
 * failure at any point (a model error, a crash, Ctrl-C) loses at most the step that was running.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { IqueryError, messageOf } from '../errors.js';
import type { ChatMessage, TokenUsage } from '../llm/llm.js';
import type { PendingCode } from './approval.js';

/** How one tool call ended. `pending` waits for approval; `skipped` was declined by the user. */
export const stepStatuses = ['ok', 'error', 'refused', 'skipped', 'pending'] as const;
export type StepStatus = (typeof stepStatuses)[number];

/** Who let code run: the user at the prompt (perhaps after editing it), `-y`, or the SQL policy. */
export type ApprovalSource = 'user' | 'edited' | 'yes' | 'policy' | 'not_needed';

export interface AgentStep {
  /** 1-based within the turn. */
  index: number;
  tool: string;
  /** The arguments as parsed (or the raw text when they were not valid JSON). */
  input: unknown;
  status: StepStatus;
  /** A one-paragraph summary of what came back, as a person would read it. */
  output: string;
  approval?: ApprovalSource;
  /** For run_sql / load_data: the rows of the result and whether they were cut. */
  rows?: number;
  truncated?: boolean;
  /** Chart or figure files written by this step, relative to the session folder. */
  files?: string[];
  at: string;
}

export interface PendingCall {
  id: string;
  tool: string;
  /** The raw JSON arguments the model sent. */
  arguments: string;
  /** The first waiting call's code as shown for approval, with what the checks found. */
  code?: PendingCode;
}

export interface AgentTurnRecord {
  question: string;
  at: string;
  status: string;
  answer: string;
  plan: string[];
  steps: AgentStep[];
  /** Which analyst answered the turn. */
  analyst: 'agent' | 'offline';
  /** The last SQL the turn ran, and its table (at most `storedRows` rows), for people reading the session later. */
  sql?: string | null;
  table?: { columns: string[]; rows: unknown[][]; truncated: boolean; rowCount: number };
  /** Chart spec and figure files of the turn, relative to the session folder. */
  files?: string[];
  usage?: TokenUsage;
}

/** Rows of a turn's table kept in the session file. */
export const storedRows = 200;

export interface AgentSessionRecord {
  name: string;
  createdAt: string;
  updatedAt: string;
  /** The data it ran on (a label, never a password) and the model, for people reading it later. */
  data?: string;
  model?: string;
  /** Every message exchanged with the model, in order; the context window is cut from these. */
  messages: ChatMessage[];
  turns: AgentTurnRecord[];
  /** Tool calls of the last assistant message still waiting for the user's approval. */
  pending: PendingCall[];
  usage: TokenUsage;
  /** Steps the current turn has taken (for the step bound across a pause for approval). */
  stepsTaken: number;
  /** Expert mode: the plan waiting for the user's review. */
  pendingPlan?: string[];
  /** Salt of the masking pseudonyms, so a value masks the same way all session. */
  maskSalt?: string;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A fresh, readable session name for conversations the user did not name (so they can resume them). */
/**
 * What the tools returned to the model during one turn (the text the model read its numbers from):
 * the tool messages after the turn's question, up to the next question. Default: the last turn.
 */
export function toolOutputsOfTurn(record: AgentSessionRecord, turnIndex: number = record.turns.length - 1): string[] {
  const questions = record.messages.flatMap((message, index) => (message.role === 'user' ? [index] : []));
  // Each turn adds one user message; when they do not line up, the turn's own question is searched for.
  const turn = record.turns[turnIndex];
  let start = questions.length === record.turns.length ? questions[turnIndex] : undefined;
  if (start === undefined && turn !== undefined) start = record.messages.findLastIndex((message) => message.role === 'user' && message.content === turn.question);
  if (start === undefined || start < 0) return [];
  const end = questions.find((index) => index > start) ?? record.messages.length;
  return record.messages.slice(start + 1, end).flatMap((message) => (message.role === 'tool' ? [message.content] : []));
}

export function newSessionName(now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `s-${stamp}-${randomBytes(3).toString('hex')}`;
}

export function agentSessionFolder(home: string, name: string): string {
  if (!namePattern.test(name)) {
    throw new IqueryError('usage', `"${name}" is not a usable session name.`, {
      hint: 'Use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.',
    });
  }
  return join(home, 'agent', name);
}

const recordSchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  data: z.string().optional(),
  model: z.string().optional(),
  messages: z.array(z.looseObject({ role: z.enum(['system', 'user', 'assistant', 'tool']) })),
  turns: z.array(z.looseObject({ question: z.string(), steps: z.array(z.unknown()) })),
  pending: z.array(z.looseObject({ id: z.string(), tool: z.string(), arguments: z.string() })),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() }),
  stepsTaken: z.number(),
  pendingPlan: z.array(z.string()).optional(),
  maskSalt: z.string().optional(),
});

/** Loads a session, or a new empty one when none has that name yet. A damaged file is an error, never wiped. */
export function loadAgentSession(home: string, name: string): AgentSessionRecord {
  const path = join(agentSessionFolder(home, name), 'session.json');
  if (!existsSync(path)) {
    const now = new Date().toISOString();
    return { name, createdAt: now, updatedAt: now, messages: [], turns: [], pending: [], usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }, stepsTaken: 0 };
  }
  try {
    const parsed = recordSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed as unknown as AgentSessionRecord;
  } catch (error) {
    throw new IqueryError('bad_input', `The session file ${path} is damaged: ${messageOf(error).split('\n')[0]}`, {
      hint: `Move it away to start the session "${name}" again; nothing else was changed.`,
    });
  }
}

export function saveAgentSession(home: string, record: AgentSessionRecord): void {
  const folder = agentSessionFolder(home, record.name);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  record.updatedAt = new Date().toISOString();
  const path = join(folder, 'session.json');
  const temporary = `${path}.${process.pid}.writing`;
  writeFileSync(temporary, JSON.stringify(record, null, 1), { mode: 0o600 });
  renameSync(temporary, path);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a session for this process, so that two processes never write one session at once (the
 * later would overwrite the earlier's turns). A claim left by a process that died is taken over.
 * Returns the release function.
 */
export function claimAgentSession(home: string, name: string): () => void {
  const folder = agentSessionFolder(home, name);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const lock = join(folder, 'in-use.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new IqueryError('usage', `The session "${name}" is in use by another iquery process (pid ${owner}).`, {
          hint: 'Wait for it to finish, or use another --session name.',
        });
      }
      rmSync(lock, { force: true });
    }
  }
  throw new IqueryError('internal', `Could not claim the session "${name}".`);
}
