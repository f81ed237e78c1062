/**
 * A `LanguageModel` over any OpenAI-compatible chat-completions server (OpenAI, DeepSeek, Qwen, GLM,
 * Kimi, ollama, vLLM, llama.cpp), through the official `openai` SDK. The SDK's own retries are off:
 * iquery retries itself so that each retry is reported as a `retry` event.
 */
import { randomUUID } from 'node:crypto';
import { APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAI } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { IqueryError } from '../errors.js';
import { convertToOpenAiMessages, convertToOpenAiTools } from './convert-messages.js';
import type { ChatEvent, ChatRequest, ChatResponse, LanguageModel, TokenUsage, ToolCall } from './llm.js';
import type { LlmSettings } from './llm-settings.js';
import { mapFinishReason } from './map-finish-reason.js';
import { cancelledError, describeFailure, isRetryable, isToolsUnsupported, mapLlmError, scrubSecret } from './map-llm-error.js';
import { retryDelayMs } from './retry-delay.js';
import { convertToTextToolMessages, parseTextToolCalls } from './text-tool-calling.js';

const defaultRetryBaseDelayMs = 500;

/**
 * A model on an OpenAI-compatible server. Streams when `settings.stream`; calls tools natively, in
 * text, or natively until the server refuses tools (`settings.toolCalling`); retries 429, 500, 502,
 * 503, 504 and dropped connections up to `settings.maxRetries` times, but never once a streamed reply
 * has begun (its deltas were already reported). A non-streamed reply reports its text, reasoning and
 * tool calls as one event each, so that `onEvent` sees the same events either way.
 *
 * Failures are `IqueryError`s (`llm_*` codes, see `mapLlmError`); an aborted `signal` is
 * `query_cancelled`, the code iquery uses for every cancellation the caller asked for.
 */
export function createOpenAiCompatibleModel(settings: LlmSettings): LanguageModel {
  return new OpenAiCompatibleModel(settings);
}

/**
 * The language model for resolved settings (see `resolveLlmSettings`): the one place the agent gets
 * a model from. Every preset speaks the OpenAI-compatible protocol, so there is one implementation
 * today; a provider with a protocol of its own would be chosen here.
 */
export function createLanguageModel(settings: LlmSettings): LanguageModel {
  return createOpenAiCompatibleModel(settings);
}

/** What one try reported so far, so that a retry is only made while nothing was reported. */
interface Progress {
  reported: boolean;
}

/** An exception thrown by the caller's `onEvent`: rethrown as it is, never retried or mapped. */
class EventHandlerFailure extends Error {
  constructor(readonly original: unknown) {
    super('onEvent threw');
  }
}

/** A streamed tool call as its pieces arrive. */
interface PartialToolCall {
  id: string;
  name: string;
  arguments: string;
  /** Whether `tool-call-start` was sent. */
  announced: boolean;
}

/** The fields some servers add to deltas and messages beyond OpenAI's types. */
interface ReasoningFields {
  reasoning_content?: unknown;
  reasoning?: unknown;
}

/** Model names a "which model?" error lists at most. */
const listedModels = 20;

class OpenAiCompatibleModel implements LanguageModel {
  readonly provider: string;
  /** '' until the server has been asked which model it serves (settings without a model name). */
  model: string;
  readonly baseUrl: string;
  readonly #settings: LlmSettings;
  readonly #client: OpenAI;
  /** Set for good in `auto` mode once the server refuses tools. */
  #textMode: boolean;

  constructor(settings: LlmSettings) {
    this.provider = settings.provider;
    this.model = settings.model;
    this.baseUrl = settings.baseUrl;
    this.#settings = settings;
    this.#textMode = settings.toolCalling === 'text';
    this.#client = new OpenAI({
      baseURL: settings.baseUrl,
      // The SDK insists on a key; servers without keys ignore it.
      apiKey: settings.apiKey ?? 'not-needed',
      timeout: settings.timeoutMs,
      maxRetries: 0,
      // Not taken from OPENAI_ORG_ID / OPENAI_PROJECT_ID: those belong to OpenAI, not to other vendors.
      organization: null,
      project: null,
      // The SDK would log unreadable chunks to the console; the failure is reported as an error instead.
      logLevel: 'off',
    });
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    if (this.model === '') this.model = await this.#discoverModel(request.signal);
    const settings = this.#settings;
    let attempts = 0;
    let retries = 0;
    for (;;) {
      if (isAborted(request.signal)) throw cancelledError();
      const textMode = this.#textMode;
      const progress: Progress = { reported: false };
      attempts++;
      try {
        return await this.#attempt(request, textMode, progress);
      } catch (error) {
        if (error instanceof EventHandlerFailure) throw error.original;
        if (isAborted(request.signal)) throw cancelledError();
        if (progress.reported) throw mapLlmError(error, { settings, attempts });
        if (!textMode && settings.toolCalling === 'auto' && (request.tools ?? []).length > 0 && isToolsUnsupported(error)) {
          this.#textMode = true;
          continue;
        }
        const delayMs = retries < settings.maxRetries && isRetryable(error)
          ? retryDelayMs(retries + 1, error instanceof APIError ? error.headers : undefined, settings.retryBaseDelayMs ?? defaultRetryBaseDelayMs)
          : undefined;
        if (delayMs === undefined) throw mapLlmError(error, { settings, attempts });
        retries++;
        emit(request, progress, { type: 'retry', attempt: retries, delayMs, reason: describeFailure(error, settings.apiKey) }, false);
        await sleep(delayMs, request.signal);
      }
    }
  }

  /**
   * The server's one model, from `GET /models`; a server with several (or none) is an
   * `llm_not_configured` error that lists them, since guessing would answer with an arbitrary model.
   */
  async #discoverModel(signal: AbortSignal | undefined): Promise<string> {
    const settings = this.#settings;
    const names: string[] = [];
    try {
      for await (const model of this.#client.models.list(signal === undefined ? {} : { signal })) names.push(model.id);
    } catch (error) {
      if (isAborted(signal)) throw cancelledError();
      throw mapLlmError(error, { settings: { ...settings, model: '(any)' }, attempts: 1 });
    }
    const hint = 'Name the model with --llm-model, IQUERY_LLM_MODEL, or model: under llm: in the config file.';
    const [only, ...others] = names;
    if (only === undefined) throw new IqueryError('llm_not_configured', `No model name is set, and the ${settings.provider} server at ${settings.baseUrl} lists no models.`, { hint });
    if (others.length > 0) {
      const shown = names.slice(0, listedModels).join(', ') + (names.length > listedModels ? `, … (${names.length} in all)` : '');
      throw new IqueryError('llm_not_configured', `No model name is set, and the ${settings.provider} server at ${settings.baseUrl} serves several: ${shown}.`, { hint });
    }
    return only;
  }

  async #attempt(request: ChatRequest, textMode: boolean, progress: Progress): Promise<ChatResponse> {
    const tools = request.tools ?? [];
    const toolsInText = textMode && tools.length > 0 && request.toolChoice !== 'none';
    const body: ChatCompletionCreateParamsBase = {
      model: this.model,
      messages: textMode ? convertToTextToolMessages(request.messages, toolsInText ? tools : []) : convertToOpenAiMessages(request.messages),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(textMode || tools.length === 0 ? {} : { tools: convertToOpenAiTools(tools), tool_choice: request.toolChoice ?? 'auto' }),
    };
    const reply = this.#settings.stream ? await this.#stream(body, request, progress, toolsInText) : await this.#complete(body, request, progress, toolsInText);
    if (!toolsInText) return { ...reply, toolCallsFromText: false };
    // Read the tool calls from the text; what was held back while streaming is reported now.
    const parsed = parseTextToolCalls(reply.text, tools.map((tool) => tool.name));
    const reported = reply.reportedText.trimStart();
    if (parsed.text.startsWith(reported)) emitText(request, progress, parsed.text.slice(reported.length));
    for (const call of parsed.toolCalls) emitToolCall(request, progress, call);
    return {
      ...reply,
      text: parsed.text,
      toolCalls: parsed.toolCalls,
      finishReason: parsed.toolCalls.length > 0 ? 'tool_calls' : reply.finishReason,
      toolCallsFromText: true,
    };
  }

  async #complete(body: ChatCompletionCreateParamsBase, request: ChatRequest, progress: Progress, toolsInText: boolean): Promise<Reply> {
    const completion: ChatCompletion = await this.#client.chat.completions.create(
      { ...body, stream: false },
      request.signal === undefined ? {} : { signal: request.signal },
    );
    const choice = completion.choices?.[0];
    if (choice?.message === undefined) {
      throw new IqueryError('llm_failed', `The ${this.provider} server at ${this.baseUrl} sent a reply without a message.`, {
        hint: 'Check that the base URL points at an OpenAI-compatible chat-completions API.',
      });
    }
    const message = choice.message;
    const text = message.content ?? '';
    const reasoning = reasoningOf(message as ReasoningFields);
    const toolCalls = (message.tool_calls ?? []).flatMap(readToolCall);
    if (reasoning !== '') emit(request, progress, { type: 'reasoning-delta', text: reasoning });
    if (!toolsInText) emitText(request, progress, text);
    for (const call of toolCalls) emitToolCall(request, progress, call);
    return {
      text,
      reportedText: '',
      reasoning,
      toolCalls,
      finishReason: mapFinishReason(choice.finish_reason, toolCalls.length > 0),
      usage: usageOf(completion.usage),
      raw: this.#withoutKey([completion]),
    };
  }

  async #stream(body: ChatCompletionCreateParamsBase, request: ChatRequest, progress: Progress, toolsInText: boolean): Promise<Reply> {
    // One controller for the caller's abort and for a stream that stalls: the SDK's timeout only
    // covers the wait for the response headers.
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    request.signal?.addEventListener('abort', abort, { once: true });
    let stalled = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const resetIdleTimer = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.#settings.timeoutMs);
    };
    try {
      const stream = await this.#client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal: controller.signal },
      );
      const raw: ChatCompletionChunk[] = [];
      const calls = new Map<number, PartialToolCall>();
      const held = new FenceHoldback();
      let text = '';
      let reasoning = '';
      let finishReason: string | null | undefined;
      let usage: TokenUsage | null = null;
      resetIdleTimer();
      for await (const chunk of stream) {
        resetIdleTimer();
        raw.push(chunk);
        if (chunk.usage) usage = usageOf(chunk.usage);
        const choice = chunk.choices?.[0];
        if (choice === undefined) continue;
        const delta = choice.delta ?? {};
        const reasoningPiece = reasoningOf(delta as ReasoningFields);
        if (reasoningPiece !== '') {
          reasoning += reasoningPiece;
          emit(request, progress, { type: 'reasoning-delta', text: reasoningPiece });
        }
        if (typeof delta.content === 'string' && delta.content !== '') {
          text += delta.content;
          emitText(request, progress, toolsInText ? held.release(text) : delta.content);
        }
        for (const piece of delta.tool_calls ?? []) this.#assembleToolCall(calls, piece, request, progress);
        if (choice.finish_reason) finishReason = choice.finish_reason;
        if (controller.signal.aborted) break;
      }
      if (stalled) throw new APIConnectionTimeoutError({ message: 'The stream stalled.' });
      if (isAborted(request.signal)) throw new APIUserAbortError();
      const toolCalls = [...calls.entries()]
        .sort(([left], [right]) => left - right)
        .map(([, call]) => {
          if (!call.announced) announce(call, request, progress);
          return { id: call.id, name: call.name, arguments: call.arguments };
        });
      return {
        text,
        reportedText: toolsInText ? held.reported : text,
        reasoning,
        toolCalls,
        finishReason: mapFinishReason(finishReason, toolCalls.length > 0),
        usage,
        raw: this.#withoutKey(raw),
      };
    } catch (error) {
      if (stalled) throw new APIConnectionTimeoutError({ message: 'The stream stalled.' });
      throw error;
    } finally {
      clearTimeout(idleTimer);
      request.signal?.removeEventListener('abort', abort);
    }
  }

  /**
   * Adds one delta to its call (by `index`). The id and the name may arrive in pieces or be repeated
   * whole in every delta; the arguments always arrive in pieces. A call is announced with its first
   * piece of arguments, when its id and name are complete (or at the end, for a call without arguments).
   */
  #assembleToolCall(calls: Map<number, PartialToolCall>, piece: ChatCompletionChunk.Choice.Delta.ToolCall, request: ChatRequest, progress: Progress): void {
    const index = piece.index ?? calls.size;
    const call = calls.get(index) ?? { id: '', name: '', arguments: '', announced: false };
    calls.set(index, call);
    call.id = mergePiece(call.id, piece.id ?? '');
    call.name = mergePiece(call.name, piece.function?.name ?? '');
    const argumentsPiece = piece.function?.arguments ?? '';
    call.arguments += argumentsPiece;
    if (argumentsPiece === '' || call.name === '') return;
    if (call.announced) emit(request, progress, { type: 'tool-call-delta', id: call.id, argumentsDelta: argumentsPiece });
    else announce(call, request, progress);
  }

  /** The raw replies for developer mode, with the key scrubbed should the server have echoed it. */
  #withoutKey(raw: unknown[]): unknown[] {
    const key = this.#settings.apiKey;
    if (key === undefined) return raw;
    const serialized = JSON.stringify(raw);
    const scrubbed = scrubSecret(serialized, key);
    return scrubbed === serialized ? raw : (JSON.parse(scrubbed) as unknown[]);
  }
}

/** One try's reply before the text-mode tool calls are read from it. */
interface Reply extends Omit<ChatResponse, 'toolCallsFromText'> {
  /** The part of `text` already reported in `text-delta` events. */
  reportedText: string;
}

/**
 * In text mode the JSON block that calls tools should not reach the person watching the stream:
 * text is reported up to the first code fence, and the rest once the reply is complete and read.
 */
class FenceHoldback {
  reported = '';
  #holding = false;

  /** The new text to report now, given the whole text so far. */
  release(text: string): string {
    if (this.#holding) return '';
    const fence = text.indexOf('```');
    // A trailing backtick or two may be the start of a fence: keep them until the next delta.
    const end = fence !== -1 ? fence : text.length - (text.match(/`{1,2}$/)?.[0].length ?? 0);
    if (fence !== -1) this.#holding = true;
    const released = text.slice(this.reported.length, end);
    this.reported = text.slice(0, Math.max(end, this.reported.length));
    return released;
  }
}

function emit(request: ChatRequest, progress: Progress, event: ChatEvent, reports = true): void {
  if (reports) progress.reported = true;
  try {
    request.onEvent?.(event);
  } catch (error) {
    throw new EventHandlerFailure(error);
  }
}

/** Reports the start of a streamed call and its arguments so far; a call without an id gets one. */
function announce(call: PartialToolCall, request: ChatRequest, progress: Progress): void {
  if (call.id === '') call.id = generatedId();
  call.announced = true;
  emitToolCall(request, progress, call);
}

/** A call as `tool-call-start` and one `tool-call-delta` with its arguments (none when they are empty). */
function emitToolCall(request: ChatRequest, progress: Progress, call: ToolCall): void {
  emit(request, progress, { type: 'tool-call-start', id: call.id, name: call.name });
  if (call.arguments !== '') emit(request, progress, { type: 'tool-call-delta', id: call.id, argumentsDelta: call.arguments });
}

function emitText(request: ChatRequest, progress: Progress, text: string): void {
  if (text !== '') emit(request, progress, { type: 'text-delta', text });
}

/** Joins a piece of an id or a name: servers either split them or repeat them whole. */
function mergePiece(sofar: string, piece: string): string {
  if (sofar === '' || piece.startsWith(sofar)) return piece === '' ? sofar : piece;
  return sofar + piece;
}

function readToolCall(call: ChatCompletionMessageToolCall): ToolCall[] {
  if (call.type === 'custom') return [];
  return [{ id: call.id !== '' && call.id !== undefined ? call.id : generatedId(), name: call.function.name, arguments: call.function.arguments ?? '' }];
}

function reasoningOf(fields: ReasoningFields): string {
  const value = fields.reasoning_content ?? fields.reasoning;
  return typeof value === 'string' ? value : '';
}

function usageOf(usage: CompletionUsage | null | undefined): TokenUsage | null {
  if (usage === null || usage === undefined) return null;
  const promptTokens = usage.prompt_tokens ?? 0;
  const completionTokens = usage.completion_tokens ?? 0;
  return { promptTokens, completionTokens, totalTokens: usage.total_tokens ?? promptTokens + completionTokens };
}

function generatedId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/** A function, not an inline check: TypeScript would assume the signal cannot change between two checks. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Waits, or throws `query_cancelled` as soon as the signal aborts. */
function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (isAborted(signal)) {
      reject(cancelledError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
