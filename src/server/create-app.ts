/**
 * The HTTP layer of `iquery serve` (routes of API.md): requests validated with zod, handed to the
 * session manager and the dictionary store, failures mapped to the contract's error shape in one
 * place (`onError`). No analysis happens here.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { getMimeType } from 'hono/utils/mime';
import { z } from 'zod';
import { messageOf } from '../errors.js';
import { authMiddleware } from './auth-middleware.js';
import type { DictionaryStore } from './dictionary-store.js';
import { errorResponse, httpError } from './http-errors.js';
import { openApiDocument } from './openapi-document.js';
import { defaultMaxUploadBytes, type McpHandler } from './server.js';
import type { SessionManager } from './session-manager.js';
import { modelLabel } from '../llm/llm-settings.js';
import { MemoryStore } from '../memory/memory-store.js';
import type { HttpDecision } from './http-approver.js';

export interface AppContext {
  sessions: SessionManager;
  dictionary: DictionaryStore;
  /** iquery's version, for health and the OpenAPI document. */
  version: string;
  /** The bearer token every /api (but health) and /mcp request must carry; undefined: no token (loopback only). */
  token?: string;
  /** The built web app (dist/web); when it has no index.html, `GET /` says the web app is not built. */
  webRoot?: string;
  /** The MCP hook: the MCP server's handler, mounted at /mcp. Undefined: /mcp answers 404. */
  mcp?: McpHandler;
  /** Uploads above this many bytes are refused with 413. Default 200 MB. */
  maxUploadBytes?: number;
  /** Where internal failures are logged. Default: stderr. */
  log?: (message: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

const emptyBody = z.strictObject({});

const messageBody = z.strictObject({
  question: z.string({ error: 'must be text' }).trim().min(1, { error: 'must not be empty' }).max(4000, { error: 'must be at most 4000 characters' }),
  offline: z.boolean({ error: 'must be true or false' }).optional(),
});

const approvalBody = z.discriminatedUnion(
  'action',
  [
    z
      .strictObject({ id: z.string().min(1), action: z.literal('edit'), code: z.string().min(1).optional(), plan: z.array(z.string().trim().min(1)).min(1, 'a plan needs at least one step').optional() })
      .refine((body) => (body.code === undefined) !== (body.plan === undefined), { error: 'action "edit" takes code (the code to run instead) or, for a plan review, plan (its steps)' }),
    z.strictObject({ id: z.string().min(1), action: z.enum(['run', 'skip', 'run_all']) }),
  ],
  { error: 'action must be one of run, edit, skip, run_all' },
);

const dictionaryBody = z.strictObject({ yaml: z.string({ error: 'must be the dictionary as YAML text' }) });

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length === 0 ? 'body' : issue.path.join('.')}: ${issue.message}`).join('; ');
}

/**
 * The JSON body, validated. A JSON content type is required: browsers send other types across sites
 * without asking first, and this keeps such requests out. An absent body counts as `{}` when `optional`.
 */
async function jsonBody<T>(c: Context, schema: z.ZodType<T>, options: { optional?: boolean } = {}): Promise<T> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '' || options.optional !== true) {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      throw httpError(400, 'invalid_request', 'The body must be JSON.', 'Send Content-Type: application/json.');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw httpError(400, 'invalid_request', 'The body is not valid JSON.');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw httpError(400, 'invalid_request', `The request body is not valid: ${describeIssues(parsed.error)}.`, 'See GET /api/openapi.json for the shape of each body.');
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iquery</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>iquery</h1>
<p>The server runs, but the web app is not built (no <code>dist/web/</code>).</p>
<p>The API answers under <a href="/api/health"><code>/api</code></a>; its description is at <a href="/api/openapi.json"><code>/api/openapi.json</code></a>.</p>
</body></html>
`;

/** How often a quiet event stream gets a comment line. */
const keepAliveMs = 15_000;

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/mcp' || path.startsWith('/mcp/');
}

export function createApp(context: AppContext): Hono {
  const { sessions, dictionary } = context;
  const maxUploadBytes = context.maxUploadBytes ?? defaultMaxUploadBytes;
  const log = context.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const app = new Hono();

  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) log(`iquery serve: ${c.req.method} ${c.req.path} failed: ${error instanceof Error && error.stack !== undefined ? error.stack : messageOf(error)}`);
    return c.json(body, status);
  });
  app.notFound((c) => {
    const { status, body } = errorResponse(httpError(404, 'not_found', `No route ${c.req.method} ${c.req.path}.`, 'GET /api/openapi.json lists the routes.'));
    return c.json(body, status);
  });

  const auth = authMiddleware(context.token);
  app.use('/api/*', async (c, next) => (c.req.method === 'GET' && c.req.path === '/api/health' ? next() : auth(c, next)));
  app.use('/mcp', auth);
  app.use('/mcp/*', auth);

  app.get('/api/health', (c) => {
    const { source, model } = sessions.settings;
    return c.json({ status: 'ok', version: context.version, data: source.label, analyst: sessions.analyst, ...(model === undefined ? {} : { model: modelLabel(model) }) });
  });

  app.get('/api/openapi.json', (c) => c.json(openApiDocument(context.version)));

  app.get('/api/sessions', (c) => c.json({ sessions: sessions.list() }));

  app.post('/api/sessions', async (c) => {
    await jsonBody(c, emptyBody, { optional: true });
    return c.json(sessions.create().summary(), 201);
  });

  app.get('/api/sessions/:id', (c) => c.json(sessions.get(c.req.param('id')).view()));

  app.delete('/api/sessions/:id', async (c) => {
    await sessions.delete(c.req.param('id'));
    return c.body(null, 204);
  });

  app.post('/api/sessions/:id/messages', async (c) => {
    const session = sessions.get(c.req.param('id'));
    const body = await jsonBody(c, messageBody);
    const message = session.startMessage(body.question, { offline: body.offline ?? false });
    if (message === undefined) throw httpError(409, 'session_busy', `Session ${session.id} is already answering a message.`, 'Wait for its `done` event, or use another session.');
    return streamSSE(c, async (stream) => {
      // The reader went away (a closed tab): nobody can approve or read the answer, so the work stops.
      stream.onAbort(() => message.stop());
      // A comment line now and then keeps proxies from closing a stream that waits for an approval.
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), keepAliveMs);
      try {
        for await (const event of message.events) await stream.writeSSE({ event: event.type, data: JSON.stringify(event.data) });
      } finally {
        clearInterval(keepAlive);
      }
    });
  });

  app.post('/api/sessions/:id/approvals', async (c) => {
    const session = sessions.get(c.req.param('id'));
    const body = await jsonBody(c, approvalBody);
    const decision: HttpDecision = body.action !== 'edit' ? { action: body.action } : body.plan !== undefined ? { action: 'edit', plan: body.plan } : { action: 'edit', code: body.code ?? '' };
    const answered = session.answerApproval(body.id, decision);
    if (answered === 'unknown') throw httpError(404, 'no_such_approval', `No request "${body.id}" waits in session ${session.id}.`, 'Answer the id of the latest approval_request, share_request or plan_review event while its message runs.');
    if (answered === 'mismatch') throw httpError(400, 'invalid_request', `That answer does not fit request "${body.id}".`, 'Code takes run, edit with code, skip or run_all; a share takes run or skip; a plan takes run, edit with plan, or skip.');
    return c.json({ ok: true }, 202);
  });

  app.post(
    '/api/sessions/:id/files',
    // The form's boundaries and headers come on top of the file itself.
    bodyLimit({ maxSize: maxUploadBytes + 64 * 1024, onError: () => { throw tooLarge(maxUploadBytes); } }),
    async (c) => {
      const session = sessions.get(c.req.param('id'));
      if (!/^multipart\/form-data\b/i.test(c.req.header('content-type') ?? '')) throw httpError(400, 'invalid_request', 'Upload the file as multipart/form-data.', 'Send a form with the file in the field "file".');
      let form: Record<string, unknown>;
      try {
        form = await c.req.parseBody();
      } catch (error) {
        throw httpError(400, 'invalid_request', `The form could not be read: ${messageOf(error)}.`);
      }
      const file = form['file'];
      if (!(file instanceof File)) throw httpError(400, 'invalid_request', 'The form has no file in the field "file".', 'Send a form with the file in the field "file".');
      if (file.size > maxUploadBytes) throw tooLarge(maxUploadBytes);
      const stored = session.upload(file.name, new Uint8Array(await file.arrayBuffer()));
      if (stored === undefined) throw httpError(409, 'session_busy', `Session ${session.id} is busy.`, 'Upload once its message is done.');
      return c.json(await stored, 201);
    },
  );

  app.get('/api/sessions/:id/files', (c) => c.json({ files: sessions.get(c.req.param('id')).files() }));

  app.get('/api/sessions/:id/files/:path{.+}', (c) => {
    const { path, info } = sessions.get(c.req.param('id')).file(c.req.param('path'));
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream;
    return c.body(body, 200, {
      'Content-Type': getMimeType(path) ?? 'application/octet-stream',
      'Content-Length': String(info.size),
      // A file is data, never a page that runs in this origin.
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': 'sandbox',
    });
  });

  app.post('/api/sessions/:id/reports', async (c) => {
    const session = sessions.get(c.req.param('id'));
    const report = await session.writeReport();
    if (report === undefined) throw httpError(409, 'nothing_to_report', `Session ${session.id} has no finished turn to report on.`, 'Ask a question first.');
    return c.json(report, 201);
  });

  // Long-term memory: the notes the agent proposed wait here for the user, as they do for `iquery memory`.
  const memoryStatuses = ['pending', 'saved', 'all'] as const;
  app.get('/api/memory', (c) => {
    const status = c.req.query('status') ?? 'all';
    if (!(memoryStatuses as readonly string[]).includes(status)) throw httpError(400, 'invalid_request', `status=${status} is not one of ${memoryStatuses.join(', ')}.`);
    return c.json({ notes: MemoryStore.open(sessions.settings.home).list({ status: status as (typeof memoryStatuses)[number] }) });
  });
  app.post('/api/memory/:id/confirm', (c) => c.json({ note: MemoryStore.open(sessions.settings.home).confirm(c.req.param('id')) }));
  app.delete('/api/memory/:id', (c) => c.json({ note: MemoryStore.open(sessions.settings.home).delete(c.req.param('id')) }));

  app.get('/api/dictionary', (c) => c.json(dictionary.view()));

  app.put('/api/dictionary', async (c) => {
    const body = await jsonBody(c, dictionaryBody);
    return c.json({ version: dictionary.save(body.yaml).version });
  });

  // The MCP hook: `iquery serve` passes the MCP server's handler (src/mcp) as `context.mcp`.
  const mcp = async (c: Context): Promise<Response> => {
    if (context.mcp === undefined) throw httpError(404, 'not_found', 'This server has no MCP endpoint.', 'Use `iquery mcp` for MCP over stdio.');
    return context.mcp(c.req.raw);
  };
  app.all('/mcp', mcp);
  app.all('/mcp/*', mcp);

  app.all('/api/*', (c) => {
    throw httpError(404, 'not_found', `No route ${c.req.method} ${c.req.path}.`, 'GET /api/openapi.json lists the routes.');
  });

  // The web app: its files, and index.html for every other page path (the app routes itself).
  const webRoot = context.webRoot;
  const index = webRoot === undefined ? undefined : join(webRoot, 'index.html');
  if (webRoot !== undefined && index !== undefined && existsSync(index)) {
    app.use('*', serveStatic({ root: webRoot }));
    app.get('*', (c) => (isApiPath(c.req.path) ? c.notFound() : c.html(readFileSync(index, 'utf8'))));
  } else {
    app.get('*', (c) => (isApiPath(c.req.path) ? c.notFound() : c.html(notBuiltPage)));
  }
  return app;
}

function tooLarge(maxBytes: number): Error {
  const limit = maxBytes >= 1024 * 1024 ? `${Math.round(maxBytes / 1024 / 1024)} MB` : `${maxBytes} bytes`;
  return httpError(413, 'too_large', `The upload is larger than ${limit}.`, 'Upload a smaller file, or aggregate or split it first.');
}
