/**
 * The contract between iquery and a language model: one chat call that may stream, may call tools,
 * and reports usage. Vendor translation (the OpenAI-compatible wire format, presets, the JSON-in-text
 * tool fallback) lives beside it in small files; the agent only sees these types.
 */

export interface ToolCall {
  /** The model's id for the call; tool results answer it. */
  id: string;
  name: string;
  /** The arguments exactly as the model sent them: JSON text that may be invalid. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[]; reasoning?: string }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

/** What a streamed reply reports as it arrives (noun-verb names, one union). */
export type ChatEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'tool-call-start'; id: string; name: string }
  | { type: 'tool-call-delta'; id: string; argumentsDelta: string }
  /** A retryable failure (429, 5xx, a dropped connection) will be tried again after `delayMs`. */
  | { type: 'retry'; attempt: number; delayMs: number; reason: string };

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  /** `none` forbids tool calls for this request (used to ask for a plan only). Default `auto`. */
  toolChoice?: 'auto' | 'none';
  temperature?: number;
  signal?: AbortSignal;
  onEvent?: (event: ChatEvent) => void;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export const finishReasons = ['stop', 'tool_calls', 'length', 'content_filter', 'other'] as const;
export type FinishReason = (typeof finishReasons)[number];

export interface ChatResponse {
  text: string;
  /** Reasoning content the server sent (`reasoning_content`, `reasoning`), passed through; '' when none. */
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** null when the server reported none. */
  usage: TokenUsage | null;
  /** True when the tool calls were read from JSON in the reply's text (models without tool calling). */
  toolCallsFromText: boolean;
  /** The raw response body, or the raw stream chunks, for developer mode. Never holds the API key. */
  raw: unknown[];
}

export interface LanguageModel {
  /** The preset's name (`openai`, `deepseek`, …) or `custom`. */
  readonly provider: string;
  readonly model: string;
  /** The base URL, never with credentials in it. */
  readonly baseUrl: string;
  chat(request: ChatRequest): Promise<ChatResponse>;
}
