/**
 * The edge: every failure becomes `{error: {code, message, hint?}}` with a status here and nowhere
 * else. An `IqueryError` keeps its code (its status from the table below); conditions only HTTP has
 * (no token, a busy session, a body too large) are Hono's `HTTPException` with one of `httpErrorCodes`.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { IqueryError, messageOf, type ErrorCode } from '../errors.js';

/** Codes of conditions only HTTP has. */
export const httpErrorCodes = [
  /** No bearer token, or a wrong one. */
  'unauthorized',
  /** A browser page from another site, or a host name that is not this machine, while the token is off. */
  'forbidden',
  /** The body or a parameter does not fit the contract. */
  'invalid_request',
  /** No such route. */
  'not_found',
  /** The session is answering a message or storing an upload. */
  'session_busy',
  /** No approval request with that id waits. */
  'no_such_approval',
  /** The session has no finished turn to report on. */
  'nothing_to_report',
  /** An upload over the size limit. */
  'too_large',
] as const;
export type HttpErrorCode = (typeof httpErrorCodes)[number];

const statusOfCode: Record<ErrorCode, ContentfulStatusCode> = {
  usage: 400,
  bad_input: 400,
  not_found: 404,
  sql_refused: 400,
  query_failed: 400,
  query_timeout: 504,
  query_cancelled: 400,
  connection_failed: 502,
  dictionary_invalid: 422,
  config_invalid: 500,
  llm_not_configured: 500,
  llm_auth: 502,
  llm_model_not_found: 502,
  llm_rate_limited: 503,
  llm_timeout: 504,
  llm_context_overflow: 502,
  llm_unreachable: 502,
  llm_failed: 502,
  internal: 500,
};

export function httpError(status: ContentfulStatusCode, code: HttpErrorCode, message: string, hint?: string): HTTPException {
  return new HTTPException(status, { message, cause: { code, hint } });
}

export interface ErrorBody {
  error: { code: string; message: string; hint?: string };
  /** 422 only: what is wrong with the dictionary, where. */
  problems?: { line?: number; column?: number; message: string }[];
}

/** The status and body for any thrown value. */
export function errorResponse(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (error instanceof HTTPException) {
    const cause = error.cause as { code?: string; hint?: string } | undefined;
    const code = cause?.code ?? (error.status === 413 ? 'too_large' : error.status === 401 ? 'unauthorized' : error.status >= 500 ? 'internal' : 'invalid_request');
    const message = error.message === '' ? `HTTP ${error.status}` : error.message;
    return { status: error.status, body: { error: { code, message, ...(cause?.hint === undefined ? {} : { hint: cause.hint }) } } };
  }
  if (error instanceof IqueryError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) } };
    const problems = error.details?.['problems'];
    if (error.code === 'dictionary_invalid' && Array.isArray(problems)) {
      body.problems = (problems as { severity?: string; line?: number; column?: number; message: string }[])
        .filter((problem) => problem.severity !== 'warning')
        .map((problem) => ({ ...(problem.line === undefined ? {} : { line: problem.line }), ...(problem.column === undefined ? {} : { column: problem.column }), message: problem.message }));
    }
    return { status: statusOfCode[error.code], body };
  }
  return { status: 500, body: { error: { code: 'internal', message: `internal error: ${messageOf(error)}`, hint: 'This is a bug in iquery; the server log has details.' } } };
}
