/**
 * `iquery serve` over real HTTP: the app on a free port in this process (real DuckDB, the real offline
 * analyst, the real agent driven by the scripted model server), and once the real `bin/iquery serve`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveLlmSettings, type LlmSettings } from '../llm/llm-settings.js';
import { ScriptedModelServer, type RecordedRequest, type ScriptedReply } from '../llm/testing/scripted-model-server.js';
import { packageRoot } from '../package-root.js';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { createApp } from './create-app.js';
import { DictionaryStore } from './dictionary-store.js';
import { SessionManager } from './session-manager.js';
import { startServer } from './start-server.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-serve-data-'));
const home = mkdtempSync(join(tmpdir(), 'iquery-serve-home-'));
// The sandbox's unprivileged user must reach (not list) the home, as in the agent's own tests.
chmodSync(home, 0o711);
process.env['IQUERY_HOME'] = home;

// Ten customers of a shop: 4 in Beijing, 3 in Shanghai, 3 in Shenzhen; names confidential, phones restricted.
const data = join(folder, 'retail');
mkdirSync(data);
writeFileSync(
  join(data, 'customers.csv'),
  [
    'id,name,phone,city,segment,monthly_spend,active',
    '1,Wang Fang,13800000001,Beijing,consumer,120.5,1',
    '2,Li Na,13800000002,Beijing,business,340,1',
    '3,Zhang Wei,13800000003,Shanghai,consumer,88,0',
    '4,Liu Yang,13800000004,Shenzhen,business,410,1',
    '5,Chen Jie,13800000005,Beijing,consumer,95,0',
    '6,Yang Min,13800000006,Shanghai,business,390,1',
    '7,Zhao Lei,13800000007,Shenzhen,consumer,60,1',
    '8,Huang Li,13800000008,Beijing,business,280,0',
    '9,Zhou Qiang,13800000009,Shanghai,consumer,150,1',
    '10,Wu Xia,13800000010,Shenzhen,consumer,75,1',
  ].join('\n') + '\n',
);
const dictionaryYaml = `name: retail
tables:
  customers:
    description: 客户 / customers
    primary_key: [id]
    columns:
      id: {description: customer id}
      name: {description: 姓名 / name, sensitivity: confidential}
      phone: {description: 手机号 / phone, sensitivity: restricted}
      city: {description: 城市 / city}
      segment: {description: 客群 / segment, values: {consumer: [个人], business: [企业]}}
      monthly_spend: {description: 月消费 / monthly spend, unit: CNY}
      active: {description: 是否活跃 / active, values: {1: [活跃, active], 0: [不活跃, inactive]}}
metrics:
  active_rate:
    label: 活跃率
    synonyms: [active rate]
    sql: AVG(customers.active)
    format: percent
`;
function dictionaryFile(name: string): string {
  const path = join(folder, name);
  writeFileSync(path, dictionaryYaml);
  return path;
}

// ---------------------------------------------------------------------------------------------
// The model: answers by the question, so that sessions running at once each get their own script.

const text = (value: string): ScriptedReply => ({ kind: 'text', text: value });
const call = (name: string, args: Record<string, unknown>, before?: string): ScriptedReply => ({ kind: 'tool_calls', calls: [{ name, arguments: args }], ...(before === undefined ? {} : { text: before }) });

function scriptFor(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages as { role: string; content: string | null }[];
  const last = messages.at(-1);
  const question = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  if (question.includes('FAIL')) return { kind: 'http_error', status: 400, message: 'scripted refusal' };
  if (last?.role === 'tool') {
    if ((last.content ?? '').includes('chose not to run')) return text('Skipped, as you asked.');
    return text('Beijing has 4 customers, Shanghai 3, Shenzhen 3.');
  }
  if (question.includes('Python')) return call('run_python', { code: 'print(1 + 1)' });
  return call('run_sql', { sql: 'SELECT city, COUNT(*) AS customers FROM customers GROUP BY city ORDER BY city' }, 'Plan:\n1. Count the customers per city.\n2. Report the counts.');
}

// ---------------------------------------------------------------------------------------------
// Servers in this process, and a small client.

interface TestServer {
  url: string;
  token?: string;
  sessions: SessionManager;
  close(): Promise<void>;
}

let source: DataSource;
let model: ScriptedModelServer;
let agentServer: TestServer;
let offlineServer: TestServer;
const running: TestServer[] = [];
const logs: string[] = [];

async function startTestServer(options: { model?: LlmSettings; token?: string; dictPath: string; maxUploadBytes?: number; webRoot?: string }): Promise<TestServer> {
  const dictionary = await DictionaryStore.open(source, { home, dictPath: options.dictPath });
  const sessions = new SessionManager({
    home,
    source,
    dictionary,
    ...(options.model === undefined ? {} : { model: options.model }),
    agent: { policy: 'ask', mode: 'normal', sendValues: true, sandbox: true },
  });
  const app = createApp({
    sessions,
    dictionary,
    version: 'test',
    webRoot: options.webRoot ?? join(folder, 'no-web-app'),
    log: (message) => logs.push(message),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.maxUploadBytes === undefined ? {} : { maxUploadBytes: options.maxUploadBytes }),
  });
  const server = await startServer(app, { host: '127.0.0.1', port: 0 });
  const started: TestServer = {
    url: server.url,
    sessions,
    ...(options.token === undefined ? {} : { token: options.token }),
    close: async () => {
      await server.close();
      await sessions.closeAll();
    },
  };
  running.push(started);
  return started;
}

before(async () => {
  source = await openSource(data, { home });
  model = await ScriptedModelServer.start(scriptFor);
  const settings = resolveLlmSettings({ llmBaseUrl: model.baseUrl, llmModel: 'scripted-1' }, { IQUERY_LLM_API_KEY: 'sk-test' }, {});
  assert.ok(settings !== undefined);
  agentServer = await startTestServer({ model: { ...settings, maxRetries: 0 }, dictPath: dictionaryFile('agent-dictionary.yaml') });
  offlineServer = await startTestServer({ token: 'test-token-123', dictPath: dictionaryFile('offline-dictionary.yaml'), maxUploadBytes: 64 * 1024 });
});

after(async () => {
  for (const server of running) await server.close();
  await source?.close();
  await model?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

function send(server: TestServer, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (server.token !== undefined && !headers.has('authorization')) headers.set('authorization', `Bearer ${server.token}`);
  return fetch(server.url + path, { ...init, headers });
}

/** Request options whose body may be a value, sent as JSON. */
type JsonInit = Omit<RequestInit, 'body'> & { body?: unknown };

async function json(server: TestServer, path: string, init: JsonInit = {}): Promise<{ status: number; body: any }> {
  const { body: value, ...rest } = init;
  const body = value === undefined || typeof value === 'string' || value instanceof FormData ? value : JSON.stringify(value);
  const headers = new Headers(init.headers);
  if (value !== undefined && !(value instanceof FormData) && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await send(server, path, { ...rest, headers, ...(body === undefined ? {} : { body }) });
  const textBody = await response.text();
  return { status: response.status, body: textBody === '' ? undefined : JSON.parse(textBody) };
}

async function newSession(server: TestServer): Promise<string> {
  const created = await json(server, '/api/sessions', { method: 'POST', body: {} });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id as string;
}

interface SseEvent {
  event: string;
  data: any;
}

/** A message's event stream, read as it arrives. */
class MessageStream {
  readonly events: SseEvent[] = [];
  private readonly reader: AsyncGenerator<SseEvent>;

  constructor(readonly response: Response) {
    this.reader = readEvents(response);
  }

  async next(): Promise<SseEvent | undefined> {
    const { done, value } = await this.reader.next();
    if (done) return undefined;
    this.events.push(value);
    return value;
  }

  /** Reads up to and including the first event of this type. */
  async until(type: string): Promise<SseEvent> {
    for (;;) {
      const event = await this.next();
      if (event === undefined) throw new Error(`the stream ended without "${type}"; got ${this.types().join(', ')}`);
      if (event.event === type) return event;
    }
  }

  /** Reads to the end of the stream. */
  async rest(): Promise<SseEvent[]> {
    while ((await this.next()) !== undefined);
    return this.events;
  }

  types(): string[] {
    return this.events.map((event) => event.event);
  }

  of(type: string): SseEvent[] {
    return this.events.filter((event) => event.event === type);
  }
}

async function* readEvents(response: Response): AsyncGenerator<SseEvent> {
  assert.ok(response.body !== null);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const lines: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) lines.push(line.slice('data: '.length));
      }
      // Comment lines (keep-alive) carry no event.
      if (lines.length > 0) yield { event, data: JSON.parse(lines.join('\n')) };
    }
  }
}

async function message(server: TestServer, id: string, body: unknown, signal?: AbortSignal): Promise<MessageStream> {
  const response = await send(server, `/api/sessions/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal === undefined ? {} : { signal }) });
  if (response.status !== 200) assert.fail(`status ${response.status}: ${await response.text()}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  return new MessageStream(response);
}

function approve(server: TestServer, id: string, body: unknown): Promise<{ status: number; body: any }> {
  return json(server, `/api/sessions/${id}/approvals`, { method: 'POST', body });
}

/** The order of first appearance of these event types. */
function assertOrder(stream: MessageStream, expected: string[]): void {
  const types = stream.types();
  const positions = expected.map((type) => types.indexOf(type));
  assert.ok(positions.every((position) => position >= 0), `missing events: ${expected.filter((_, index) => positions[index]! < 0).join(', ')} in ${types.join(', ')}`);
  assert.deepEqual([...positions].sort((left, right) => left - right), positions, `order: ${types.join(', ')}`);
  assert.equal(types.at(-1), 'done');
}

/** fetch cannot set Host: a plain node:http request does. */
function statusWithHost(server: TestServer, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(server.url + path);
    const request = httpRequest({ hostname: target.hostname, port: target.port, path: target.pathname, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

function upload(server: TestServer, id: string, name: string, content: string | Uint8Array): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.set('file', new Blob([content]), name);
  return json(server, `/api/sessions/${id}/files`, { method: 'POST', body: form });
}

// ---------------------------------------------------------------------------------------------

describe('the HTTP API, in process', () => {
  test('health: the data, the analyst and the model, without a token', async () => {
    const agent = await json(agentServer, '/api/health');
    assert.equal(agent.status, 200);
    assert.deepEqual(agent.body, { status: 'ok', version: 'test', data: data, analyst: 'agent', model: 'custom · scripted-1' });
    const response = await fetch(`${offlineServer.url}/api/health`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as any).analyst, 'offline');
  });

  test('the OpenAPI document describes the routes', async () => {
    const { status, body } = await json(offlineServer, '/api/openapi.json');
    assert.equal(status, 200);
    assert.equal(body.openapi, '3.1.0');
    for (const path of ['/api/health', '/api/sessions', '/api/sessions/{id}/messages', '/api/sessions/{id}/approvals', '/api/sessions/{id}/files', '/api/dictionary', '/mcp']) assert.ok(body.paths[path], path);
  });

  test('sessions: create, list, get, delete', async () => {
    const created = await json(offlineServer, '/api/sessions', { method: 'POST', body: {} });
    assert.equal(created.status, 201);
    assert.match(created.body.id, /^web-\d{8}-[0-9a-f]{12}$/);
    assert.equal(created.body.turns, 0);
    assert.equal(created.body.title, 'New session');
    assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)));
    const withoutBody = await send(offlineServer, '/api/sessions', { method: 'POST' });
    assert.equal(withoutBody.status, 201);
    const listed = await json(offlineServer, '/api/sessions');
    assert.ok(listed.body.sessions.some((session: any) => session.id === created.body.id));
    const got = await json(offlineServer, `/api/sessions/${created.body.id}`);
    assert.deepEqual(got.body, { ...created.body, turns: [] });
    assert.equal((await send(offlineServer, `/api/sessions/${created.body.id}`, { method: 'DELETE' })).status, 204);
    const gone = await json(offlineServer, `/api/sessions/${created.body.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'not_found');
    assert.equal((await json(offlineServer, `/api/sessions/${created.body.id}`, { method: 'DELETE' })).status, 404);
  });

  test('without a model the offline analyst answers: table, chart, answer, done, and the turn is kept', async () => {
    const id = await newSession(offlineServer);
    const stream = await message(offlineServer, id, { question: '各城市有多少客户' });
    await stream.rest();
    assert.deepEqual(stream.types().slice(-2), ['answer', 'done']);
    const answer = stream.of('answer')[0]!.data;
    assert.equal(answer.analyst, 'offline');
    assert.equal(answer.status, 'answered');
    assert.deepEqual(answer.rows, [['Beijing', 4], ['Shanghai', 3], ['Shenzhen', 3]]);
    assert.deepEqual(stream.of('table')[0]!.data, { columns: ['city', 'count'], rows: [['Beijing', 4], ['Shanghai', 3], ['Shenzhen', 3]], truncated: false });
    assert.equal(stream.of('chart')[0]!.data.data.rows.length, 3);
    assert.deepEqual(stream.of('done')[0]!.data, { status: 'answered' });
    const session = await json(offlineServer, `/api/sessions/${id}`);
    assert.equal(session.body.title, '各城市有多少客户');
    assert.equal(session.body.turns[0].status, 'answered');
    assert.equal(session.body.turns[0].analyst, 'offline');
    assert.match(session.body.turns[0].sql, /GROUP BY/);
    // A follow-up builds on the turn before.
    const followUp = await message(offlineServer, id, { question: '只看企业客户呢' });
    await followUp.rest();
    const second = followUp.of('answer')[0]!.data;
    assert.equal(second.status, 'answered', second.answer);
    assert.deepEqual(second.rows, [['Beijing', 2], ['Shanghai', 1], ['Shenzhen', 1]]);
  });

  test('with the model: plan, code, approval_request; after the approval the table, the answer, done', async () => {
    const id = await newSession(agentServer);
    const stream = await message(agentServer, id, { question: 'Customers per city?' });
    const request = await stream.until('approval_request');
    assert.equal(request.data.language, 'sql');
    assert.equal(request.data.tool, 'run_sql');
    assert.match(request.data.code, /GROUP BY city/);
    assert.ok(Array.isArray(request.data.findings));
    const approved = await approve(agentServer, id, { id: request.data.id, action: 'run' });
    assert.deepEqual(approved, { status: 202, body: { ok: true } });
    await stream.rest();
    assertOrder(stream, ['plan', 'code', 'approval_request', 'table', 'answer', 'done']);
    assert.deepEqual(stream.of('plan')[0]!.data.steps, ['Count the customers per city.', 'Report the counts.']);
    assert.equal(stream.of('code')[0]!.data.id, request.data.id);
    assert.deepEqual(stream.of('table')[0]!.data, { columns: ['city', 'customers'], rows: [['Beijing', 4], ['Shanghai', 3], ['Shenzhen', 3]], truncated: false });
    const step = stream.of('output').find((event) => event.data.kind === 'step');
    assert.equal(step?.data.step.status, 'ok');
    assert.ok(stream.of('output').some((event) => event.data.kind === 'text'), 'the answer text streams');
    const answer = stream.of('answer')[0]!.data;
    assert.equal(answer.status, 'answered');
    assert.equal(answer.analyst, 'agent');
    assert.equal(answer.answer, 'Beijing has 4 customers, Shanghai 3, Shenzhen 3.');
    assert.equal(answer.steps[0].approval, 'user');
    assert.deepEqual(stream.of('done')[0]!.data, { status: 'answered' });
    const session = await json(agentServer, `/api/sessions/${id}`);
    assert.equal(session.body.turns[0].steps[0].tool, 'run_sql');
    assert.deepEqual(session.body.turns[0].table.rows, [['Beijing', 4], ['Shanghai', 3], ['Shenzhen', 3]]);
    // The approval was used up.
    assert.equal((await approve(agentServer, id, { id: request.data.id, action: 'run' })).body.error.code, 'no_such_approval');
  });

  test('skip: the code does not run, the model is told, and answers', async () => {
    const id = await newSession(agentServer);
    const stream = await message(agentServer, id, { question: 'Run some Python' });
    const request = await stream.until('approval_request');
    assert.equal(request.data.language, 'python');
    const unknown = await approve(agentServer, id, { id: 'no-such-request', action: 'run' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'no_such_approval');
    assert.equal((await approve(agentServer, id, { id: request.data.id, action: 'skip' })).status, 202);
    await stream.rest();
    assert.equal(stream.of('table').length, 0);
    const answer = stream.of('answer')[0]!.data;
    assert.equal(answer.answer, 'Skipped, as you asked.');
    assert.equal(answer.steps[0].status, 'skipped');
  });

  test('edit: the edited code runs instead, checked by the guard again', async () => {
    const id = await newSession(agentServer);
    const stream = await message(agentServer, id, { question: 'Customers per city?' });
    const request = await stream.until('approval_request');
    // A plan is no answer to code, and an edit takes code or a plan, not both: 400, and the code still waits.
    const planForCode = await approve(agentServer, id, { id: request.data.id, action: 'edit', plan: ['Count the customers.'] });
    assert.equal(planForCode.status, 400);
    assert.equal(planForCode.body.error.code, 'invalid_request');
    const both = await approve(agentServer, id, { id: request.data.id, action: 'edit', code: 'SELECT 1', plan: ['x'] });
    assert.equal(both.status, 400);
    const edited = await approve(agentServer, id, { id: request.data.id, action: 'edit', code: "SELECT COUNT(*) AS customers FROM customers WHERE city = 'Beijing'" });
    assert.equal(edited.status, 202);
    await stream.rest();
    assert.deepEqual(stream.of('table')[0]!.data.rows, [[4]]);
    assert.equal(stream.of('answer')[0]!.data.steps[0].approval, 'edited');
    const hostile = await message(agentServer, id, { question: 'Customers per city, again?' });
    const second = await hostile.until('approval_request');
    assert.equal((await approve(agentServer, id, { id: second.data.id, action: 'edit', code: 'DELETE FROM customers' })).status, 202);
    await hostile.rest();
    assert.equal(hostile.of('answer')[0]!.data.steps[0].status, 'refused');
    assert.equal(hostile.of('table').length, 0);
  });

  test('sessions are isolated: a failing one does not touch a waiting one; a second message in a busy session is 409', async () => {
    const waiting = await newSession(agentServer);
    const failing = await newSession(agentServer);
    const first = await message(agentServer, waiting, { question: 'Customers per city?' });
    const request = await first.until('approval_request');
    const busy = await json(agentServer, `/api/sessions/${waiting}/messages`, { method: 'POST', body: { question: 'And another?' } });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'session_busy');
    assert.equal((await upload(agentServer, waiting, 'more.csv', 'a\n1\n')).status, 409);
    const failed = await message(agentServer, failing, { question: 'FAIL on purpose' });
    await failed.rest();
    assert.equal(failed.of('error')[0]!.data.code, 'llm_failed');
    assert.deepEqual(failed.of('done')[0]!.data, { status: 'error' });
    // The failed session takes the next message.
    const again = await message(agentServer, failing, { question: 'Customers per city, now?' });
    const second = await again.until('approval_request');
    assert.equal((await approve(agentServer, failing, { id: second.data.id, action: 'run' })).status, 202);
    await again.rest();
    assert.equal(again.of('answer')[0]!.data.status, 'answered');
    // The first session still waits, and goes on when approved.
    assert.equal((await approve(agentServer, waiting, { id: request.data.id, action: 'run' })).status, 202);
    await first.rest();
    assert.deepEqual(first.of('table')[0]!.data.rows, [['Beijing', 4], ['Shanghai', 3], ['Shenzhen', 3]]);
    assert.deepEqual(first.of('done')[0]!.data, { status: 'answered' });
  });

  test('a reader that goes away stops its message, and frees the session', async () => {
    const id = await newSession(agentServer);
    const controller = new AbortController();
    const stream = await message(agentServer, id, { question: 'Customers per city?' }, controller.signal);
    await stream.until('approval_request');
    controller.abort();
    let status = 409;
    for (let attempt = 0; attempt < 50 && status === 409; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const session = await json(agentServer, `/api/sessions/${id}`);
      status = session.body.turns[0].status === 'running' ? 409 : 200;
    }
    assert.equal(status, 200, 'the stopped message ended');
    const session = await json(agentServer, `/api/sessions/${id}`);
    assert.equal(session.body.turns[0].status, 'stopped');
    const next = await message(agentServer, id, { question: 'Customers per city?', offline: true });
    await next.rest();
    assert.equal(next.of('answer')[0]!.data.analyst, 'offline');
  });

  test('an upload becomes a table, and the session questions its uploads from then on', async () => {
    const id = await newSession(offlineServer);
    const orders = 'order_id,customer_id,amount\n1,1,10\n2,2,20\n3,2,30\n4,5,40\n5,9,50\n';
    const stored = await upload(offlineServer, id, 'orders.csv', orders);
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.deepEqual(stored.body, { name: 'orders.csv', bytes: orders.length, table: 'orders' });
    const count = await message(offlineServer, id, { question: 'How many orders are there?' });
    await count.rest();
    assert.deepEqual(count.of('answer')[0]!.data.rows, [[5]]);
    const total = await message(offlineServer, id, { question: 'total amount of orders' });
    await total.rest();
    assert.deepEqual(total.of('answer')[0]!.data.rows, [[150]]);
    // Other sessions still question the server's data.
    const other = await newSession(offlineServer);
    const customers = await message(offlineServer, other, { question: 'How many customers are there?' });
    await customers.rest();
    assert.deepEqual(customers.of('answer')[0]!.data.rows, [[10]]);
    // What cannot be loaded is refused, and changes nothing.
    const unknown = await upload(offlineServer, id, 'notes.docx', 'hello');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'bad_input');
    const tooLarge = await upload(offlineServer, id, 'big.csv', 'x\n' + '1\n'.repeat(40 * 1024));
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.body.error.code, 'too_large');
    const noFile = await json(offlineServer, `/api/sessions/${id}/files`, { method: 'POST', body: new FormData() });
    assert.equal(noFile.status, 400);
    assert.equal(noFile.body.error.code, 'invalid_request');
  });

  test('files: listed and downloaded; traversal, symbolic links and bookkeeping refused', async () => {
    const id = await newSession(offlineServer);
    const content = 'sku,price\nA,1.5\nB,2\n';
    assert.equal((await upload(offlineServer, id, 'prices.csv', content)).status, 201);
    const sessionFolder = join(home, 'agent', id);
    writeFileSync(join(sessionFolder, 'session.json'), '{"secret": true}');
    symlinkSync('/etc/passwd', join(sessionFolder, 'uploads', 'passwd.csv'));
    const listed = await json(offlineServer, `/api/sessions/${id}/files`);
    assert.deepEqual(listed.body.files.map((file: any) => file.path), ['uploads/prices.csv']);
    assert.equal(listed.body.files[0].bytes, content.length);
    const download = await send(offlineServer, `/api/sessions/${id}/files/uploads/prices.csv`);
    assert.equal(download.status, 200);
    assert.match(download.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(await download.text(), content);
    for (const path of ['..%2F..%2F..%2Fetc%2Fpasswd', 'uploads%2F..%2F..%2Fsession.json', '%2Fetc%2Fpasswd']) {
      const refused = await json(offlineServer, `/api/sessions/${id}/files/${path}`);
      assert.equal(refused.status, 400, path);
      assert.equal(refused.body.error.code, 'bad_input');
    }
    for (const path of ['uploads/passwd.csv', 'session.json', 'uploads/missing.csv']) {
      const missing = await json(offlineServer, `/api/sessions/${id}/files/${path}`);
      assert.equal(missing.status, 404, path);
    }
  });

  test('reports: a Markdown report of the last turn, in the session folder', async () => {
    const id = await newSession(offlineServer);
    const empty = await json(offlineServer, `/api/sessions/${id}/reports`, { method: 'POST' });
    assert.equal(empty.status, 409);
    assert.equal(empty.body.error.code, 'nothing_to_report');
    await (await message(offlineServer, id, { question: '各城市有多少客户' })).rest();
    const report = await json(offlineServer, `/api/sessions/${id}/reports`, { method: 'POST' });
    assert.equal(report.status, 201);
    assert.equal(report.body.format, 'markdown');
    assert.match(report.body.path, /^reports\/\d{8}T\d+Z\/report\.md$/);
    const folder = report.body.path.slice(0, -'report.md'.length);
    for (const name of ['report.json', 'report.md', 'report.html']) assert.ok(report.body.files.includes(`${folder}${name}`), name);
    const text = await (await send(offlineServer, `/api/sessions/${id}/files/${report.body.path}`)).text();
    assert.match(text, /^# 各城市有多少客户/);
    assert.match(text, /## 使用的数据/);
    assert.match(text, /\| Beijing \| 4 \|/);
    assert.match(text, /```sql\nSELECT/);
    const html = await (await send(offlineServer, `/api/sessions/${id}/files/${folder}report.html`)).text();
    assert.match(html, /<h1>各城市有多少客户<\/h1>/);
    assert.doesNotMatch(html, /<script|(?:src|href)=["']?https?:/);
    const model = JSON.parse(await (await send(offlineServer, `/api/sessions/${id}/files/${folder}report.json`)).text());
    assert.equal(model.language, 'zh');
    assert.equal(model.steps[0].result.rowCount, model.steps[0].result.rows.length);
  });

  test('dictionary: read; a bad edit is 422 with lines and changes nothing; a good one is saved and new sessions use it', async () => {
    const read = await json(offlineServer, '/api/dictionary');
    assert.equal(read.status, 200);
    assert.equal(read.body.yaml, dictionaryYaml);
    assert.equal(read.body.file, join(folder, 'offline-dictionary.yaml'));
    assert.equal(read.body.dictionary.name, 'retail');
    assert.deepEqual(read.body.dictionary.tables.map((table: any) => table.name), ['customers']);
    assert.equal(read.body.dictionary.metrics[0].name, 'active_rate');
    assert.ok(!JSON.stringify(read.body.dictionary).includes('"location"'));

    const bad = await json(offlineServer, '/api/dictionary', { method: 'PUT', body: { yaml: dictionaryYaml.replace('      city: {description: 城市 / city}', '      city: {descripton: 城市 / city}') } });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'dictionary_invalid');
    assert.equal(bad.body.problems[0].line, 10);
    assert.match(bad.body.problems[0].message, /descripton/);
    const broken = await json(offlineServer, '/api/dictionary', { method: 'PUT', body: { yaml: 'name: retail\ntables:\n  customers: [unclosed\n' } });
    assert.equal(broken.status, 422);
    assert.ok(broken.body.problems[0].line >= 3, JSON.stringify(broken.body.problems));
    assert.equal(readFileSync(join(folder, 'offline-dictionary.yaml'), 'utf8'), dictionaryYaml);

    const before = await newSession(offlineServer);
    const edited = dictionaryYaml.replace('    description: 客户 / customers\n', '    description: 客户 / customers\n    synonyms: [patrons]\n');
    const saved = await json(offlineServer, '/api/dictionary', { method: 'PUT', body: { yaml: edited } });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.match(saved.body.version, /^[0-9a-f]{12}$/);
    assert.notEqual(saved.body.version, read.body.dictionary.version);
    assert.equal(readFileSync(join(folder, 'offline-dictionary.yaml'), 'utf8'), edited);
    assert.equal((await json(offlineServer, '/api/dictionary')).body.dictionary.version, saved.body.version);
    const after = await newSession(offlineServer);
    const answered = await message(offlineServer, after, { question: 'How many patrons are there?' });
    await answered.rest();
    assert.deepEqual(answered.of('answer')[0]!.data.rows, [[10]]);
    // A session started before keeps the dictionary it started with.
    const older = await message(offlineServer, before, { question: 'How many patrons are there?' });
    await older.rest();
    assert.equal(older.of('answer')[0]!.data.status, 'abstained');
  });

  test('memory: empty at first; a bad status is 400; an unknown note is 404 on confirm and delete', async () => {
    const listed = await json(offlineServer, '/api/memory');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body, { notes: [] });
    const bad = await json(offlineServer, '/api/memory?status=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_request');
    for (const [path, method] of [['/api/memory/m-abcdef/confirm', 'POST'], ['/api/memory/m-abcdef', 'DELETE']] as const) {
      const missing = await json(offlineServer, path, { method });
      assert.equal(missing.status, 404, path);
      assert.equal(missing.body.error.code, 'not_found');
      assert.match(missing.body.error.message, /m-abcdef/);
    }
  });

  test('bad requests are 400 with the error shape', async () => {
    const id = await newSession(offlineServer);
    const cases: [string, JsonInit][] = [
      [`/api/sessions/${id}/messages`, { method: 'POST', body: {} }],
      [`/api/sessions/${id}/messages`, { method: 'POST', body: { question: 5 } }],
      [`/api/sessions/${id}/messages`, { method: 'POST', body: { question: '   ' } }],
      [`/api/sessions/${id}/messages`, { method: 'POST', body: { question: 'hi', extra: true } }],
      [`/api/sessions/${id}/messages`, { method: 'POST', body: '{"question": ', headers: { 'content-type': 'application/json' } }],
      [`/api/sessions/${id}/messages`, { method: 'POST', body: '{"question": "hi"}', headers: { 'content-type': 'text/plain' } }],
      [`/api/sessions/${id}/approvals`, { method: 'POST', body: { id: 'x', action: 'approve' } }],
      [`/api/sessions/${id}/approvals`, { method: 'POST', body: { id: 'x', action: 'edit' } }],
      ['/api/dictionary', { method: 'PUT', body: { yml: 'name: x' } }],
      ['/api/sessions', { method: 'POST', body: { name: 'x' } }],
    ];
    for (const [path, init] of cases) {
      const { status, body } = await json(offlineServer, path, init);
      assert.equal(status, 400, `${path} ${JSON.stringify(init.body)}`);
      assert.equal(body.error.code, 'invalid_request');
      assert.equal(typeof body.error.message, 'string');
    }
    const missingQuestion = await json(offlineServer, `/api/sessions/${id}/messages`, { method: 'POST', body: {} });
    assert.match(missingQuestion.body.error.message, /question/);
    const unknownRoute = await json(offlineServer, '/api/nothing-here');
    assert.equal(unknownRoute.status, 404);
    assert.equal(unknownRoute.body.error.code, 'not_found');
    const unknownSession = await json(offlineServer, '/api/sessions/web-20200101-000000000000/messages', { method: 'POST', body: { question: 'hi' } });
    assert.equal(unknownSession.status, 404);
  });

  test('auth: 401 without the token or with a wrong one; without a token, other sites are refused', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic dGVzdA==' }]) {
      const response = await fetch(`${offlineServer.url}/api/sessions`, { headers });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await response.json()) as any).error.code, 'unauthorized');
    }
    assert.equal((await fetch(`${offlineServer.url}/api/dictionary`, { method: 'PUT', body: '{}' })).status, 401);
    assert.equal((await fetch(`${offlineServer.url}/mcp`, { method: 'POST' })).status, 401);
    assert.equal((await send(offlineServer, '/api/sessions')).status, 200);
    // The server without a token: this machine's pages and programs only.
    const foreign = await fetch(`${agentServer.url}/api/sessions`, { headers: { origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.equal(((await foreign.json()) as any).error.code, 'forbidden');
    // DNS rebinding: a page of evil.example that reaches this port sends its own host name.
    assert.equal(await statusWithHost(agentServer, '/api/sessions', 'evil.example'), 403);
    assert.equal(await statusWithHost(agentServer, '/api/sessions', `localhost:${new URL(agentServer.url).port}`), 200);
    assert.equal((await fetch(`${agentServer.url}/api/sessions`, { headers: { origin: 'http://localhost:5173' } })).status, 200);
  });

  test('the web app: its files, index.html for other pages, a note when it is not built', async () => {
    const notBuilt = await fetch(`${offlineServer.url}/`);
    assert.equal(notBuilt.status, 200);
    assert.match(await notBuilt.text(), /web app is not built/);
    const webRoot = join(folder, 'web');
    mkdirSync(join(webRoot, 'assets'), { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>iquery web</title>');
    writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log(1);');
    const web = await startTestServer({ dictPath: dictionaryFile('web-dictionary.yaml'), webRoot });
    const script = await fetch(`${web.url}/assets/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.equal(await script.text(), 'console.log(1);');
    for (const page of ['/', '/sessions/abc']) assert.match(await (await fetch(web.url + page)).text(), /iquery web/);
    const api = await fetch(`${web.url}/api/nothing`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as any).error.code, 'not_found');
    assert.equal((await fetch(`${web.url}/mcp`, { method: 'POST' })).status, 404);
  });

  test('deleting a session stops its message and removes its folder', async () => {
    const id = await newSession(agentServer);
    const stream = await message(agentServer, id, { question: 'Customers per city?' });
    await stream.until('approval_request');
    assert.ok(existsSync(join(home, 'agent', id)));
    assert.equal((await send(agentServer, `/api/sessions/${id}`, { method: 'DELETE' })).status, 204);
    await stream.rest();
    assert.deepEqual(stream.of('done')[0]!.data, { status: 'stopped' });
    assert.ok(!existsSync(join(home, 'agent', id)));
    assert.deepEqual(logs, [], 'no internal failure was logged');
  });
});

describe('iquery serve, the real command', () => {
  test('beyond loopback a token is generated and printed once; health is open, the API and /mcp need the token; SIGTERM stops it', async () => {
    const serveHome = mkdtempSync(join(tmpdir(), 'iquery-serve-cli-'));
    chmodSync(serveHome, 0o711);
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'iquery'), 'serve', '--port', '0', '--host', '0.0.0.0', '--data', data, '--dict', join(folder, 'agent-dictionary.yaml')], {
      env: { ...process.env, IQUERY_HOME: serveHome, IQUERY_SERVE_TOKEN: '', IQUERY_LLM_BASE_URL: '', IQUERY_LLM_PROVIDER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const started = Date.now();
      while (!/#token=\S+/.test(stderr) && Date.now() - started < 30_000 && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
      const match = /Open http:\/\/0\.0\.0\.0:(\d+)\/#token=(\S+)/.exec(stderr);
      assert.ok(match !== null, `no URL with a token in: ${stderr}`);
      const [, port, token] = match;
      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/api/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as any).analyst, 'offline');
      assert.equal((await fetch(`${base}/api/sessions`)).status, 401);
      assert.equal((await fetch(`${base}/api/sessions`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'server-test', version: '1' } } };
      const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      assert.equal((await fetch(`${base}/mcp`, { method: 'POST', headers: mcpHeaders, body: JSON.stringify(initialize) })).status, 401);
      const mcp = await fetch(`${base}/mcp`, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body: JSON.stringify(initialize) });
      assert.equal(mcp.status, 200);
      assert.match(await mcp.text(), /"serverInfo"/);
      assert.equal(stderr.split(token!).length - 1, 1, 'the token is printed once');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: closing the sessions/);
    rmSync(serveHome, { recursive: true, force: true });
  });
});
