/** The longest wait iquery accepts before a retry; a server asking for more is not retried. */
export const maxRetryDelayMs = 60_000;

/**
 * How long to wait before retry number `retry` (1 for the first): the server's `retry-after-ms` or
 * `retry-after` (seconds or an HTTP date) when it sent one, else `baseDelayMs · 2^(retry-1)` with
 * jitter (between half and all of it), in milliseconds. Undefined when the server asks for a wait
 * longer than `maxRetryDelayMs`: a quota that resets in an hour is not worth waiting for.
 */
export function retryDelayMs(retry: number, headers: Headers | undefined, baseDelayMs: number, random: () => number = Math.random): number | undefined {
  const asked = serverDelayMs(headers);
  if (asked !== undefined) return asked > maxRetryDelayMs ? undefined : Math.round(asked);
  const exponential = Math.min(maxRetryDelayMs, baseDelayMs * 2 ** (retry - 1));
  return Math.round(exponential * (0.5 + random() * 0.5));
}

function serverDelayMs(headers: Headers | undefined): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const retryAfter = headers?.get('retry-after');
  if (retryAfter === null || retryAfter === undefined || retryAfter.trim() === '') return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
