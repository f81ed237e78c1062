/**
 * The MCP server over streamable HTTP, for `iquery serve` to mount at `/mcp`. Each client gets its
 * own session (its own server, Python session and masking salt), so Python state is kept across one
 * client's calls and never shared between clients.
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { createIqueryMcpServer, type IqueryMcpContext } from './mcp-server.js';

export interface McpHttpHandlerOptions {
  /** A session unused for this long is closed, with its Python session. Milliseconds; default 30 minutes. */
  idleTimeoutMs?: number;
  /** Most sessions open at once; a new client beyond it is answered 503. Default 32. */
  maxSessions?: number;
}

export interface McpHttpHandler {
  /** Answers one request to the MCP endpoint (POST, GET or DELETE); never throws for a bad request. */
  handle(request: Request): Promise<Response>;
  /** Sessions open now. */
  readonly sessionCount: number;
  /** Closes every session and stops their Python sessions; later requests are answered 503. The source stays open. */
  close(): Promise<void>;
}

interface Session {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
}

const defaultIdleTimeoutMs = 30 * 60_000;
const defaultMaxSessions = 32;

function jsonRpcError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'Content-Type': 'application/json' } });
}

/**
 * Creates the handler of the MCP endpoint: a Web `Request` in, a `Response` out (a JSON body, or an
 * SSE stream while a call runs), the SDK's streamable HTTP transport with sessions
 * (`Mcp-Session-Id`). A request without a session id starts a session when it is an `initialize`;
 * a session ends when the client sends DELETE, after `idleTimeoutMs` without requests, or on
 * `close()`. Authentication is the caller's: put the handler behind it. `handle` needs no `this`.
 *
 * `context` may be a function: each new session then reads it, so that a dictionary saved while the
 * server runs (new sensitivity marks included) applies to sessions started after; a session keeps
 * the context it started with.
 *
 * Mounting it in hono (with @hono/node-server, `c.req.raw` is a Web Request):
 * ```ts
 * const mcp = createMcpHttpHandler({ source, dictionary, sandbox: true });
 * app.all('/mcp', (c) => mcp.handle(c.req.raw));
 * // on shutdown, before closing the source:
 * await mcp.close();
 * ```
 * On a plain `node:http` server, `getRequestListener((request) => mcp.handle(request))` from
 * @hono/node-server does the conversion.
 */
export function createMcpHttpHandler(context: IqueryMcpContext | (() => IqueryMcpContext), options: McpHttpHandlerOptions = {}): McpHttpHandler {
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
  const maxSessions = options.maxSessions ?? defaultMaxSessions;
  const sessions = new Map<string, Session>();
  let closed = false;

  const closeSession = async (id: string): Promise<void> => {
    const session = sessions.get(id);
    if (session === undefined) return;
    sessions.delete(id);
    await session.server.close();
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, session] of sessions) if (now - session.lastUsed > idleTimeoutMs) void closeSession(id);
  }, Math.min(idleTimeoutMs, 60_000));
  sweep.unref();

  return {
    get sessionCount() {
      return sessions.size;
    },

    async handle(request: Request): Promise<Response> {
      if (closed) return jsonRpcError(503, -32000, 'The MCP endpoint is shutting down.');
      const id = request.headers.get('mcp-session-id');
      if (id !== null) {
        const session = sessions.get(id);
        // 404 tells the client to start a new session (the MCP specification's rule).
        if (session === undefined) return jsonRpcError(404, -32001, 'Session not found: it ended or expired. Start a new session.');
        session.lastUsed = Date.now();
        return session.transport.handleRequest(request);
      }
      if (sessions.size >= maxSessions) {
        return jsonRpcError(503, -32000, `Too many MCP sessions are open (${maxSessions}); end one with DELETE, or wait for idle ones to expire.`);
      }
      // A fresh server and transport: the transport itself checks that this is an initialize request
      // (and answers 400 when it is not), so the body is read once, by the SDK, within its size limit.
      const server = createIqueryMcpServer(typeof context === 'function' ? context() : context);
      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sessionId) => {
          sessions.set(sessionId, { server, transport, lastUsed: Date.now() });
        },
        onsessionclosed: (sessionId) => {
          sessions.delete(sessionId);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      };
      await server.connect(transport);
      const response = await transport.handleRequest(request);
      if (transport.sessionId === undefined) await server.close();
      return response;
    },

    async close(): Promise<void> {
      closed = true;
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map(closeSession));
    },
  };
}
