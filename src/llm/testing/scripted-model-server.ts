/**
 * The one test double of the project: a real HTTP server on 127.0.0.1 that speaks the OpenAI
 * chat-completions protocol, answering each request with the next reply of a script. Tests point a
 * model (or the whole agent) at `baseUrl` and read back what was sent from `requests`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedReply =
  | { kind: 'text'; text: string; reasoning?: string }
  | { kind: 'tool_calls'; calls: { name: string; arguments: string | Record<string, unknown>; id?: string }[]; text?: string }
  | { kind: 'http_error'; status: number; message?: string; code?: string; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number; then: ScriptedReply };

/** One chat-completions request as the server received it. */
export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body. `any` on purpose: tests reach into any request field without casts. */
  body: any;
}

export type Script = ScriptedReply[] | ((request: RecordedRequest, index: number) => ScriptedReply);

/** The model name `GET /v1/models` lists. */
export const scriptedModelName = 'scripted-model';

export class ScriptedModelServer {
  /** e.g. `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string;
  /** The chat-completions requests received, in order (`GET /v1/models` is not recorded). */
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #script: Script;
  /** Characters per streamed delta, for text, reasoning and tool-call arguments. */
  readonly #chunkSize: number;
  /** The names `GET /v1/models` lists. */
  readonly #models: readonly string[];

  private constructor(server: Server, script: Script, chunkSize: number, models: readonly string[]) {
    this.#server = server;
    this.#script = script;
    this.#chunkSize = chunkSize;
    this.#models = models;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  /**
   * Starts a server on a free port. A script that runs out answers 500 "script exhausted".
   * `models` is what `GET /v1/models` lists (default: `scripted-model` alone).
   */
  static async start(script: Script, options: { chunkSize?: number; models?: readonly string[] } = {}): Promise<ScriptedModelServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const scripted = new ScriptedModelServer(server, script, Math.max(1, options.chunkSize ?? 5), options.models ?? [scriptedModelName]);
    server.on('request', (request, response) => {
      scripted.#handle(request, response).catch(() => response.destroy());
    });
    return scripted;
  }

  /** Stops the server, cutting any connection still open (a delayed reply nobody waits for). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '/';
    if (request.method === 'GET' && path.endsWith('/models')) {
      sendJson(response, 200, { object: 'list', data: this.#models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'iquery' })) });
      return;
    }
    if (request.method !== 'POST' || !path.endsWith('/chat/completions')) {
      sendError(response, { kind: 'http_error', status: 404, message: `no route for ${request.method} ${path}` });
      return;
    }
    const text = await readBody(request);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendError(response, { kind: 'http_error', status: 400, message: 'the request body is not JSON' });
      return;
    }
    const recorded: RecordedRequest = { path, headers: request.headers, body };
    const index = this.requests.length;
    this.requests.push(recorded);
    let reply: ScriptedReply | undefined;
    try {
      reply = typeof this.#script === 'function' ? this.#script(recorded, index) : this.#script[index];
    } catch (error) {
      reply = { kind: 'http_error', status: 500, message: `the script failed: ${String(error)}` };
    }
    reply ??= { kind: 'http_error', status: 500, message: `script exhausted: it has ${index} replies and this is request ${index + 1}` };
    await this.#answer(recorded, reply, response);
  }

  async #answer(request: RecordedRequest, reply: ScriptedReply, response: ServerResponse): Promise<void> {
    if (reply.kind === 'delay') {
      const answered = await waitUnlessClosed(reply.ms, response);
      // The client gave up waiting (a timeout test) or the server closed: nobody is left to answer.
      if (answered) await this.#answer(request, reply.then, response);
      return;
    }
    if (reply.kind === 'http_error') {
      sendError(response, reply);
      return;
    }
    const message = assistantMessage(reply, request.body?.messages);
    if (request.body?.stream === true) this.#stream(response, message, request.body?.stream_options?.include_usage === true);
    else sendJson(response, 200, { ...envelope('chat.completion'), choices: [{ index: 0, message: message.wire, finish_reason: message.finishReason }], usage: message.usage });
  }

  #stream(response: ServerResponse, message: AssistantMessage, includeUsage: boolean): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const base = envelope('chat.completion.chunk');
    const send = (delta: Record<string, unknown>, finishReason: string | null = null): void => {
      response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`);
    };
    send({ role: 'assistant', content: '' });
    for (const piece of split(message.reasoning, this.#chunkSize)) send({ reasoning_content: piece });
    for (const piece of split(message.wire.content ?? '', this.#chunkSize)) send({ content: piece });
    message.wire.tool_calls?.forEach((call, index) => {
      send({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
      for (const piece of split(call.function.arguments, this.#chunkSize)) send({ tool_calls: [{ index, function: { arguments: piece } }] });
    });
    send({}, message.finishReason);
    if (includeUsage) response.write(`data: ${JSON.stringify({ ...base, choices: [], usage: message.usage })}\n\n`);
    response.end('data: [DONE]\n\n');
  }
}

interface AssistantMessage {
  wire: { role: 'assistant'; content: string | null; reasoning_content?: string; tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] };
  reasoning: string;
  finishReason: 'stop' | 'tool_calls';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The reply as an assistant message; tokens are counted as a quarter of the characters, rounded up. */
function assistantMessage(reply: Extract<ScriptedReply, { kind: 'text' | 'tool_calls' }>, messages: unknown): AssistantMessage {
  const reasoning = reply.kind === 'text' ? (reply.reasoning ?? '') : '';
  const calls = (reply.kind === 'tool_calls' ? reply.calls : []).map((call, index) => ({
    id: call.id ?? `call_${index + 1}`,
    type: 'function' as const,
    function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
  }));
  const content = reply.text ?? null;
  const written = (content ?? '') + reasoning + calls.map((call) => call.function.name + call.function.arguments).join('');
  const promptTokens = tokens(Array.isArray(messages) ? messages.map((message) => String((message as { content?: unknown }).content ?? '')).join('') : '');
  const completionTokens = tokens(written);
  return {
    wire: { role: 'assistant', content, ...(reasoning === '' ? {} : { reasoning_content: reasoning }), ...(calls.length === 0 ? {} : { tool_calls: calls }) },
    reasoning,
    finishReason: calls.length === 0 ? 'stop' : 'tool_calls',
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** True after `ms`; false as soon as the connection closes, so that no timer outlives the test. */
function waitUnlessClosed(ms: number, response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      response.off('close', onClose);
      resolve(true);
    }, ms);
    response.once('close', onClose);
  });
}

function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function envelope(object: string): Record<string, unknown> {
  return { id: 'chatcmpl-scripted', object, created: Math.floor(Date.now() / 1000), model: scriptedModelName };
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** An error as OpenAI shapes it: `{error: {message, type, code}}`. */
function sendError(response: ServerResponse, reply: Extract<ScriptedReply, { kind: 'http_error' }>): void {
  const type = reply.status === 429 ? 'rate_limit_error' : reply.status >= 500 ? 'server_error' : reply.status === 401 ? 'authentication_error' : 'invalid_request_error';
  const message = reply.message ?? `scripted HTTP ${reply.status}`;
  sendJson(response, reply.status, { error: { message, type, code: reply.code ?? null } }, reply.headers);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
