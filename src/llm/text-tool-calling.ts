/**
 * Tool calling for models without it: the tools are described in the system message, the model
 * answers with a fenced JSON block naming the tool, and the block is read back into tool calls.
 * Pure functions; `openai-compatible.ts` uses them when the tool-calling mode is (or became) `text`.
 */
import { randomUUID } from 'node:crypto';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatMessage, ToolCall, ToolDefinition } from './llm.js';

/** The instructions and the tool list appended to the system message. */
export function describeToolsForText(tools: readonly ToolDefinition[]): string {
  const described = tools.map((tool) =>
    [`### ${tool.name}`, tool.description, `Arguments (JSON Schema): ${JSON.stringify(tool.parameters)}`].join('\n'),
  );
  return [
    '## Tools',
    'You can call the tools below. To call a tool, reply with exactly one fenced JSON block and nothing after it:',
    '```json',
    '{"tool": "TOOL_NAME", "arguments": {"ARGUMENT": "VALUE"}}',
    '```',
    'To call several tools at once, put an array of such objects in the one block. The arguments must follow the',
    'tool\'s JSON Schema. Each result comes back in a message starting with "Result of tool". When you need no tool,',
    'reply in plain text without any JSON block.',
    '',
    ...described,
  ].join('\n');
}

/**
 * Our messages for a server without tool calling: the tool descriptions appended to the system message
 * (a system message is added when there is none), assistant tool calls written as the JSON block the
 * model was asked for, and tool results sent as user messages ("Result of tool NAME (call ID): …").
 * Consecutive user messages are merged, since some chat templates insist that roles alternate.
 * With no tools (or `toolChoice: 'none'`) pass an empty list: the history is still converted.
 */
export function convertToTextToolMessages(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): ChatCompletionMessageParam[] {
  const converted: ChatCompletionMessageParam[] = [];
  const pushUser = (content: string): void => {
    const previous = converted.at(-1);
    if (previous?.role === 'user' && typeof previous.content === 'string') previous.content = `${previous.content}\n\n${content}`;
    else converted.push({ role: 'user', content });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        converted.push({ role: 'system', content: message.content });
        break;
      case 'user':
        pushUser(message.content);
        break;
      case 'tool':
        pushUser(`Result of tool ${message.name} (call ${message.toolCallId}):\n${message.content}`);
        break;
      case 'assistant': {
        const toolCalls = message.toolCalls ?? [];
        const parts = [message.content ?? '', toolCalls.length === 0 ? '' : fencedToolCalls(toolCalls)].filter((part) => part !== '');
        converted.push({ role: 'assistant', content: parts.join('\n\n') });
        break;
      }
    }
  }
  if (tools.length === 0) return converted;
  const description = describeToolsForText(tools);
  const system = converted.find((message) => message.role === 'system');
  if (system !== undefined && typeof system.content === 'string') system.content = `${system.content}\n\n${description}`;
  else converted.unshift({ role: 'system', content: description });
  return converted;
}

/** What `parseTextToolCalls` read from a reply. */
export interface TextToolCalls {
  /** The reply without the JSON blocks that held tool calls, trimmed. */
  text: string;
  /** With generated ids; empty when the reply calls no tool. */
  toolCalls: ToolCall[];
}

/**
 * The tool calls in a reply written as asked by `describeToolsForText`, read tolerantly: fenced blocks
 * (any language tag) or, when there is none, a bare JSON object or array in the text; `tool` or `name`
 * for the tool, `arguments` or `parameters` for its arguments (an object, or a string of JSON). An object
 * counts as a call when it says `tool`, has arguments, or names one of `toolNames`, so that JSON data in
 * an answer is not mistaken for a call.
 */
export function parseTextToolCalls(reply: string, toolNames: readonly string[]): TextToolCalls {
  const known = new Set(toolNames);
  let spans = fencedBlocks(reply).filter((block) => readCalls(block.content, known) !== undefined);
  if (spans.length === 0) {
    const bare = bareJsonSpans(reply).find((span) => readCalls(span.content, known) !== undefined);
    spans = bare === undefined ? [] : [bare];
  }
  if (spans.length === 0) return { text: reply.trim(), toolCalls: [] };
  const toolCalls = spans.flatMap((span) => readCalls(span.content, known) ?? []);
  let text = '';
  let position = 0;
  for (const span of spans) {
    text += reply.slice(position, span.start);
    position = span.end;
  }
  text += reply.slice(position);
  return { text: text.replace(/\n{3,}/g, '\n\n').trim(), toolCalls };
}

function fencedToolCalls(toolCalls: readonly ToolCall[]): string {
  const written = toolCalls.map((call) => ({ tool: call.name, arguments: parseOrKeep(call.arguments) }));
  return ['```json', JSON.stringify(written.length === 1 ? written[0] : written), '```'].join('\n');
}

function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A piece of the reply: `content` is what may be JSON, `start`/`end` what to cut to remove it. */
interface Span {
  start: number;
  end: number;
  content: string;
}

/** Markdown code fences: a line starting with ``` opens, the next line that is only ``` closes (or the end). */
function fencedBlocks(text: string): Span[] {
  const blocks: Span[] = [];
  let open: { start: number; contentStart: number } | undefined;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd).trim();
    const next = newline === -1 ? text.length + 1 : newline + 1;
    if (open === undefined && line.startsWith('```')) {
      open = { start: lineStart, contentStart: Math.min(next, text.length) };
    } else if (open !== undefined && line === '```') {
      blocks.push({ start: open.start, end: lineEnd, content: text.slice(open.contentStart, lineStart) });
      open = undefined;
    }
    lineStart = next;
  }
  // A reply cut off by the length limit may miss its closing fence.
  if (open !== undefined) blocks.push({ start: open.start, end: text.length, content: text.slice(open.contentStart) });
  return blocks;
}

/** Balanced `{…}` or `[…]` stretches outside JSON strings, each tried from its first bracket. */
function bareJsonSpans(text: string): Span[] {
  const spans: Span[] = [];
  let start = 0;
  while (start < text.length) {
    const opening = firstOf(text, start);
    if (opening === -1) break;
    const end = balancedEnd(text, opening);
    if (end === undefined) {
      start = opening + 1;
      continue;
    }
    spans.push({ start: opening, end, content: text.slice(opening, end) });
    start = end;
  }
  return spans;
}

function firstOf(text: string, from: number): number {
  const brace = text.indexOf('{', from);
  const bracket = text.indexOf('[', from);
  if (brace === -1) return bracket;
  if (bracket === -1) return brace;
  return Math.min(brace, bracket);
}

/** The index after the bracket closing the one at `start`, or undefined when it never closes. */
function balancedEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const character = text[index];
    if (inString) {
      if (character === '\\') index++;
      else if (character === '"') inString = false;
    } else if (character === '"') {
      inString = true;
    } else if (character === '{' || character === '[') {
      depth++;
    } else if (character === '}' || character === ']') {
      depth--;
      if (depth === 0) return index + 1;
    }
  }
  return undefined;
}

/** The calls in a JSON text, or undefined when it is not JSON or not (an array of) calls. */
function readCalls(content: string, known: ReadonlySet<string>): ToolCall[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return undefined;
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) return undefined;
  const calls: ToolCall[] = [];
  for (const item of items) {
    const call = readCall(item, known);
    if (call === undefined) return undefined;
    calls.push(call);
  }
  return calls;
}

function readCall(item: unknown, known: ReadonlySet<string>): ToolCall | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const fields = item as Record<string, unknown>;
  const explicit = typeof fields['tool'] === 'string';
  const name = explicit ? fields['tool'] : fields['name'];
  if (typeof name !== 'string' || name === '') return undefined;
  const argumentsValue = fields['arguments'] ?? fields['parameters'];
  if (!explicit && argumentsValue === undefined && !known.has(name)) return undefined;
  const argumentsText =
    argumentsValue === undefined ? '{}' : typeof argumentsValue === 'string' ? argumentsValue : JSON.stringify(argumentsValue);
  return { id: `call_${randomUUID().replaceAll('-', '').slice(0, 16)}`, name, arguments: argumentsText };
}
