/**
 * The one error base of iquery. Every failure the user can act on is an `IqueryError` with a stable
 * `code`; the CLI, HTTP and MCP edges map the code to an exit code or a status, nothing deeper does.
 */
export const errorCodes = [
  /** Flags or arguments were wrong. */
  'usage',
  /** A file, folder, URL or value the user gave cannot be used. */
  'bad_input',
  /** A named table, column, connection or file does not exist. */
  'not_found',
  /** The SQL guard refused a statement. */
  'sql_refused',
  /** The database rejected or failed a query. */
  'query_failed',
  /** A query ran past its time limit and was stopped. */
  'query_timeout',
  /** The caller cancelled a query or a model call. */
  'query_cancelled',
  /** The database could not be reached or refused the login. */
  'connection_failed',
  /** A data or metric dictionary is malformed or does not fit the data. */
  'dictionary_invalid',
  /** The config file under IQUERY_HOME is malformed. */
  'config_invalid',
  /** No language model is configured, or its model name or API key is missing. */
  'llm_not_configured',
  /** The model server refused the API key (401 or 403). */
  'llm_auth',
  /** The model server does not know the model (404, or a "model does not exist" message). */
  'llm_model_not_found',
  /** The model server kept answering 429 until the retries ran out, or the account has no quota. */
  'llm_rate_limited',
  /** The model server did not answer, or stopped streaming, within the time limit. */
  'llm_timeout',
  /** The conversation is longer than the model's context window. */
  'llm_context_overflow',
  /** The model server could not be reached: connection refused, unknown host, connection reset. */
  'llm_unreachable',
  /** The model server failed (5xx after the retries), sent a reply that cannot be read, or refused the request. */
  'llm_failed',
  /** A bug or an environment failure inside iquery. */
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface IqueryErrorOptions {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  cause?: unknown;
  /** Extra structured facts for machine output (never secrets). */
  details?: Record<string, unknown>;
}

export class IqueryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: IqueryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IqueryError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Exit code for a failure: 2 for internal failures, 1 for everything the user can act on. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof IqueryError && error.code !== 'internal' ? 1 : 2;
}

/** The message of any thrown value, for wrapping driver errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
