/**
 * Who may call the API. With a token: `Authorization: Bearer <token>` on every request this guards.
 * Without one (only on a loopback address), a browser page of another site must still not drive the
 * server: requests whose `Origin` is not this machine, or whose `Host` is not a loopback name (DNS
 * rebinding), are refused with 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorResponse, httpError } from './http-errors.js';

/** True for localhost, 127.0.0.0/8, ::1 and names under .localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

function hostnameOf(value: string, withScheme: boolean): string | undefined {
  try {
    return new URL(withScheme ? value : `http://${value}`).hostname;
  } catch {
    return undefined;
  }
}

function sameToken(given: string, expected: string): boolean {
  // Digests have one length, so the comparison takes the same time whatever was given.
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function authMiddleware(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token !== undefined) {
      const header = c.req.header('authorization') ?? '';
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      if (given === undefined || !sameToken(given, token)) {
        const { status, body } = errorResponse(
          httpError(401, 'unauthorized', given === undefined ? 'This server needs a token.' : 'The token is wrong.', 'Send Authorization: Bearer <token>, the token `iquery serve` printed (or --token / IQUERY_SERVE_TOKEN).'),
        );
        return c.json(body, status, { 'WWW-Authenticate': 'Bearer' });
      }
      return next();
    }
    const host = hostnameOf(c.req.header('host') ?? '', false);
    const origin = c.req.header('origin');
    const originHost = origin === undefined ? undefined : hostnameOf(origin, true);
    if (host === undefined || !isLoopbackHost(host) || (origin !== undefined && (originHost === undefined || !isLoopbackHost(originHost)))) {
      throw httpError(403, 'forbidden', 'Without a token this server answers only pages and programs on this machine.', 'Open it at http://127.0.0.1:PORT/, or start it with --token.');
    }
    return next();
  };
}
