/**
 * Conversations of the offline analyst, kept under IQUERY_HOME/conversations/<name>.json so that
 * `iquery ask --session NAME` can answer follow-ups ("and by gender?") in a later process. A
 * conversation holds its turns (question, status, plan, SQL, answer); the last answered plan is the
 * context of the next question. Files are written whole, under a temporary name, then renamed.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IqueryError, messageOf } from '../errors.js';
import type { AskResult } from './analyst.js';
import type { PlanJson } from './plan-json.js';

export interface Turn {
  at: string;
  question: string;
  status: AskResult['status'];
  plan: PlanJson | null;
  sql: string | null;
  answer: string;
}

export interface Conversation {
  name: string;
  turns: Turn[];
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function conversationPath(home: string, name: string): string {
  if (!namePattern.test(name)) {
    throw new IqueryError('usage', `"${name}" is not a usable session name.`, {
      hint: 'Use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.',
    });
  }
  return join(home, 'conversations', `${name}.json`);
}

export function loadConversation(home: string, name: string): Conversation {
  const path = conversationPath(home, name);
  if (!existsSync(path)) return { name, turns: [] };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Conversation;
    if (!Array.isArray(parsed.turns)) throw new Error('no turns');
    return { name, turns: parsed.turns };
  } catch (error) {
    throw new IqueryError('bad_input', `The session file ${path} is damaged: ${messageOf(error)}`, {
      hint: `Delete it to start the session "${name}" again.`,
    });
  }
}

/** The plan follow-ups build on: the last answered turn's. */
export function contextOf(conversation: Conversation): PlanJson | null {
  for (let index = conversation.turns.length - 1; index >= 0; index--) {
    const turn = conversation.turns[index];
    if (turn?.status === 'answered' && turn.plan !== null) return turn.plan;
  }
  return null;
}

export function recordTurn(conversation: Conversation, result: AskResult): void {
  conversation.turns.push({ at: new Date().toISOString(), question: result.question, status: result.status, plan: result.plan, sql: result.sql, answer: result.answer });
}

export function saveConversation(home: string, conversation: Conversation): void {
  const path = conversationPath(home, conversation.name);
  mkdirSync(join(home, 'conversations'), { recursive: true });
  const temporary = `${path}.${process.pid}.writing`;
  writeFileSync(temporary, JSON.stringify(conversation, null, 1));
  renameSync(temporary, path);
}
