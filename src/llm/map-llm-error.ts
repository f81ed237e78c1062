/**
 * What went wrong talking to a model server, as an `IqueryError` with a code, a message that says what
 * was wrong and a hint that says what to do; and which failures are worth a retry. The API key never
 * appears in any of it, even when the server echoes it back.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { IqueryError, messageOf, type ErrorCode } from '../errors.js';
import type { LlmSettings } from './llm-settings.js';
import { findPreset } from './presets.js';

/** What the error messages need to know about the call. */
export interface LlmErrorContext {
  settings: Pick<LlmSettings, 'provider' | 'model' | 'baseUrl' | 'apiKey' | 'timeoutMs'>;
  /** How many times the request was sent. */
  attempts: number;
}

/** The error for a model call the caller cancelled through its AbortSignal. */
export function cancelledError(): IqueryError {
  return new IqueryError('query_cancelled', 'The model call was cancelled.');
}

/**
 * The `IqueryError` for a failed model call: `llm_auth` (401, 403), `llm_model_not_found`,
 * `llm_rate_limited`, `llm_timeout`, `llm_context_overflow`, `llm_unreachable`, `llm_failed` for the
 * rest, and `query_cancelled` for an abort. An `IqueryError` passes through, with the key scrubbed.
 */
export function mapLlmError(error: unknown, context: LlmErrorContext): IqueryError {
  const mapped = describe(error, context);
  const secret = context.settings.apiKey;
  const cause = error instanceof Error ? Object.assign(new Error(scrubSecret(error.message, secret)), { name: error.name }) : undefined;
  return new IqueryError(mapped.code, scrubSecret(mapped.message, secret), {
    ...(mapped.hint === undefined ? {} : { hint: scrubSecret(mapped.hint, secret) }),
    ...(cause === undefined ? {} : { cause }),
    details: {
      provider: context.settings.provider,
      model: context.settings.model,
      baseUrl: context.settings.baseUrl,
      attempts: context.attempts,
      ...(error instanceof APIError && error.status !== undefined ? { status: error.status } : {}),
    },
  });
}

/** Whether another try may succeed: 429 (except an exhausted quota), 500, 502, 503, 504, a reset connection. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) return false;
  if (error instanceof APIError && error.status !== undefined) {
    if (error.status === 429) return !isQuotaExhausted(error);
    return [500, 502, 503, 504].includes(error.status);
  }
  const code = networkErrorCode(error);
  return code !== undefined && droppedConnectionCodes.has(code);
}

/** Whether the server refused the request because the model or server cannot call tools. */
export function isToolsUnsupported(error: unknown): boolean {
  if (!(error instanceof APIError) || error.status === undefined || error.status === 429 || error.status < 400) return false;
  const message = serverMessage(error).toLowerCase();
  const mentionsTools = /\btools?\b|tool[ _]?(call|choice)|function[ _]?call/.test(message);
  const refuses = /not supported|unsupported|(does not|doesn't|do not|not) support|not enabled|--jinja|--enable-auto-tool-choice|--tool-call-parser/.test(message);
  return mentionsTools && refuses;
}

/** A short account of a failure, for `retry` events. */
export function describeFailure(error: unknown, secret: string | undefined): string {
  if (error instanceof APIError && error.status !== undefined) return scrubSecret(`${error.status}: ${serverMessage(error)}`, secret);
  const code = networkErrorCode(error);
  return scrubSecret(code === undefined ? messageOf(error) : `connection failed (${code})`, secret);
}

/** The text with every occurrence of the secret replaced; unchanged when there is no secret. */
export function scrubSecret(text: string, secret: string | undefined): string {
  // Shorter "keys" (placeholders such as "x") would mangle ordinary words and protect nothing.
  if (secret === undefined || secret.length < 6) return text;
  return text.split(secret).join('[redacted]');
}

const droppedConnectionCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

interface Described {
  code: ErrorCode;
  message: string;
  hint?: string;
}

function describe(error: unknown, { settings, attempts }: LlmErrorContext): Described {
  if (error instanceof IqueryError) return { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  const server = `the ${settings.provider} server at ${settings.baseUrl}`;
  const tries = attempts === 1 ? '' : ` after ${attempts} attempts`;
  if (error instanceof APIUserAbortError) return { code: 'query_cancelled', message: 'The model call was cancelled.' };
  if (error instanceof APIConnectionTimeoutError) {
    return {
      code: 'llm_timeout',
      message: `${capitalize(server)} did not answer within ${settings.timeoutMs / 1000} s.`,
      hint: 'Try again; if it keeps happening raise timeout_seconds under llm: in the config file, or use a faster model.',
    };
  }
  if (error instanceof APIError && error.status !== undefined) return describeStatus(error, error.status, server, tries, settings);
  if (error instanceof APIError && !(error instanceof APIConnectionError)) {
    return { code: 'llm_failed', message: `${capitalize(server)} reported an error in the middle of its reply: ${serverMessage(error)}`, hint: 'Try again.' };
  }
  const networkCode = networkErrorCode(error);
  if (error instanceof APIConnectionError || networkCode !== undefined) {
    return {
      code: 'llm_unreachable',
      message: `Could not reach ${server}${networkCode === undefined ? '' : ` (${networkCode})`}${tries}.`,
      hint: 'Check that the server is running and that --llm-base-url, IQUERY_LLM_BASE_URL or base_url under llm: in the config file is right.',
    };
  }
  if (error instanceof SyntaxError) {
    return { code: 'llm_failed', message: `${capitalize(server)} sent a reply that is not valid JSON: ${error.message}`, hint: 'Check that the base URL points at an OpenAI-compatible API.' };
  }
  return { code: 'llm_failed', message: `The call to ${server} failed: ${messageOf(error)}`, hint: 'Try again; run with --debug to see the cause.' };
}

function describeStatus(error: APIError, status: number, server: string, tries: string, settings: LlmErrorContext['settings']): Described {
  const said = `(${status}: ${serverMessage(error)})`;
  const model = `'${settings.model}'`;
  if (status === 401 || status === 403) {
    const vendorVariable = findPreset(settings.provider)?.keyEnvironmentVariable ?? null;
    return {
      code: 'llm_auth',
      message: settings.apiKey === undefined ? `${capitalize(server)} wants an API key and none was sent ${said}.` : `${capitalize(server)} refused the API key ${said}.`,
      hint:
        `Check the key in IQUERY_LLM_API_KEY or --llm-api-key${vendorVariable === null ? '' : ` (or ${vendorVariable})`}, ` +
        `and that it belongs to this server and may use the model ${model}.`,
    };
  }
  if (status === 404 || isModelMissing(error)) {
    return {
      code: 'llm_model_not_found',
      message: `${capitalize(server)} does not know the model ${model} ${said}.`,
      hint:
        `Check the model name (--llm-model, IQUERY_LLM_MODEL or model: under llm: in the config file; GET ${settings.baseUrl}/models ` +
        'lists them), and that the base URL ends with the API version path (often /v1).',
    };
  }
  if (status === 429) {
    if (isQuotaExhausted(error)) {
      return { code: 'llm_rate_limited', message: `The account has no quota left on ${server} ${said}.`, hint: "Check the account's plan and billing, or use another provider." };
    }
    return {
      code: 'llm_rate_limited',
      message: `${capitalize(server)} kept limiting the rate of requests ${said}${tries}.`,
      hint: "Wait a minute and try again, raise max_retries under llm: in the config file, or check the account's rate limits.",
    };
  }
  if (status === 413 || isContextOverflow(error)) {
    return {
      code: 'llm_context_overflow',
      message: `The conversation is longer than the model ${model} can read ${said}.`,
      hint: 'Start a new conversation, or use a model with a longer context window.',
    };
  }
  if (isToolsUnsupported(error)) {
    return {
      code: 'llm_failed',
      message: `The model ${model} on ${server} cannot call tools ${said}.`,
      hint: 'Set tool_calling: text (or auto) under llm: in the config file, so that tools are described in the prompt instead.',
    };
  }
  if (status >= 500) {
    return { code: 'llm_failed', message: `${capitalize(server)} failed ${said}${tries}.`, hint: 'Try again later; if you run the server yourself, look at its log.' };
  }
  return { code: 'llm_failed', message: `${capitalize(server)} refused the request ${said}.`, hint: 'The message above says what the server did not accept.' };
}

function isQuotaExhausted(error: APIError): boolean {
  return error.code === 'insufficient_quota';
}

function isContextOverflow(error: APIError): boolean {
  if (error.code === 'context_length_exceeded' || error.code === 'string_above_max_length') return true;
  return /context[ _]length|maximum context|context window|too many tokens|prompt is too long|input is too long|exceeds? the (model's )?(maximum|max)|reduce the length/i.test(
    serverMessage(error),
  );
}

function isModelMissing(error: APIError): boolean {
  if (error.code === 'model_not_found') return true;
  return /model\b.{0,80}\b(does not exist|not exist|not found)|(unknown|invalid) model/i.test(serverMessage(error));
}

/** The server's own message: `error.message` of its JSON body, else the SDK's message. Cut at 300 characters. */
function serverMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  const message = typeof body?.message === 'string' && body.message !== '' ? body.message : error.message;
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** The first `code` (ECONNREFUSED, ENOTFOUND, …) along the chain of causes, as Node and undici set it. */
function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    const inner = current instanceof AggregateError ? current.errors[0] : undefined;
    current = (current as { cause?: unknown }).cause ?? inner;
  }
  return undefined;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
