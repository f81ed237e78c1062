/**
 * The context window: what of a long session the model sees. The latest turns go in whole; older
 * turns are summarised to their question, the SQL they ran and their answer, so that a long session
 * keeps its thread without passing the model's limit. Tool results are already capped when made
 * (result-text.ts), with a note that says so.
 */
import type { ChatMessage } from '../llm/llm.js';

export interface ContextBudget {
  /** Characters of history sent whole, newest first (about 4 characters a token). Default 48 000. */
  historyChars: number;
  /** Turns always sent whole, whatever their size. Default 2. */
  recentTurns: number;
}

export const defaultContextBudget: ContextBudget = { historyChars: 48_000, recentTurns: 2 };

function sizeOf(message: ChatMessage): number {
  const calls = message.role === 'assistant' ? (message.toolCalls ?? []).reduce((sum, call) => sum + call.arguments.length + call.name.length, 0) : 0;
  return (message.content ?? '').length + calls;
}

/** Splits messages into turns, each starting at a user message. */
export function splitTurns(messages: readonly ChatMessage[]): ChatMessage[][] {
  const turns: ChatMessage[][] = [];
  for (const message of messages) {
    if (message.role === 'user' || turns.length === 0) turns.push([]);
    turns[turns.length - 1]?.push(message);
  }
  return turns;
}

/** One line per older turn: the question, the SQL it ran, and how it ended. */
function summariseTurn(turn: readonly ChatMessage[]): string {
  const question = turn.find((message) => message.role === 'user')?.content ?? '';
  const sql: string[] = [];
  for (const message of turn) {
    if (message.role !== 'assistant') continue;
    for (const call of message.toolCalls ?? []) {
      if (call.name !== 'run_sql' && call.name !== 'load_data') continue;
      try {
        const parsed = JSON.parse(call.arguments) as { sql?: unknown };
        if (typeof parsed.sql === 'string') sql.push(parsed.sql.replace(/\s+/g, ' ').slice(0, 300));
      } catch {
        // Arguments the model garbled are not worth summarising.
      }
    }
  }
  const answers = turn.filter((message) => message.role === 'assistant' && (message.toolCalls ?? []).length === 0 && message.content !== null);
  const answer = answers.at(-1)?.content ?? '(no answer)';
  return `- Q: ${question.slice(0, 300)}${sql.length > 0 ? `\n  SQL: ${sql.join(' | ')}` : ''}\n  A: ${answer.replace(/\s+/g, ' ').slice(0, 400)}`;
}

/**
 * The messages to send: the newest turns whole while they fit the budget (the last `recentTurns`
 * always), and a summary message of the older ones in front.
 */
export function fitContext(messages: readonly ChatMessage[], budget: ContextBudget = defaultContextBudget): ChatMessage[] {
  const turns = splitTurns(messages);
  let used = 0;
  let keepFrom = turns.length;
  for (let index = turns.length - 1; index >= 0; index--) {
    const size = (turns[index] ?? []).reduce((sum, message) => sum + sizeOf(message), 0);
    const mustKeep = turns.length - index <= budget.recentTurns;
    if (!mustKeep && used + size > budget.historyChars) break;
    used += size;
    keepFrom = index;
  }
  const older = turns.slice(0, keepFrom);
  const kept = turns.slice(keepFrom).flat();
  if (older.length === 0) return kept;
  const summary = `Summary of ${older.length} earlier question(s) in this conversation (details dropped to fit the context):\n${older.map(summariseTurn).join('\n')}`;
  return [{ role: 'user', content: summary }, { role: 'assistant', content: 'Noted.' }, ...kept];
}

/**
 * Makes a message list well formed for the protocol: every assistant tool call answered by a tool
 * message. Calls left open by an error or a pause are answered as not run.
 */
export function closeOpenToolCalls(messages: readonly ChatMessage[], skip: ReadonlySet<string> = new Set()): ChatMessage[] {
  const answered = new Set(messages.flatMap((message) => (message.role === 'tool' ? [message.toolCallId] : [])));
  const result: ChatMessage[] = [];
  for (const message of messages) {
    result.push(message);
    if (message.role !== 'assistant') continue;
    for (const call of message.toolCalls ?? []) {
      if (answered.has(call.id) || skip.has(call.id)) continue;
      result.push({ role: 'tool', toolCallId: call.id, name: call.name, content: 'Not run: the turn ended before this call ran.' });
    }
  }
  return result;
}
