/**
 * The MCP server with the official SDK's client: over stdio against the real `bin/iquery mcp` (real
 * DuckDB, the real sandbox), and over streamable HTTP through the handler `iquery serve` mounts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getRequestListener } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { writeShopData } from '../agent/testing/shop-data.js';
import { loadDictionary } from '../dictionary/load-dictionary.js';
import { packageRoot } from '../package-root.js';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { createMcpHttpHandler, type McpHttpHandler } from './mcp-http-handler.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-mcp-data-'));
const home = mkdtempSync(join(tmpdir(), 'iquery-mcp-home-'));
// Reachable (not listable) by the sandbox's unprivileged uid, so session workspaces stay in here and go with it.
chmodSync(home, 0o711);
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

const { data, dictionary: dictionaryPath } = writeShopData(folder, { dictionaryName: 'shop-dictionary.yaml', churnMetric: false });

const iqueryBin = join(packageRoot(), 'bin', 'iquery');
const environment = { IQUERY_HOME: home, IQUERY_ASK_SERVICE: '0', PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

function textOf(result: CallToolResult): string {
  return result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe('iquery mcp over stdio', () => {
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  const transportErrors: Error[] = [];

  before(async () => {
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [iqueryBin, '--data', data, '--dict', dictionaryPath, 'mcp'],
      env: environment,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    client = new Client({ name: 'iquery-test', version: '1.0.0' });
    client.onerror = (error) => transportErrors.push(error);
    await client.connect(transport);
  });

  after(async () => {
    await client.close();
  });

  test('lists exactly the five tools', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['ask', 'describe_table', 'list_tables', 'run_python', 'run_sql']);
    const runSql = tools.find((tool) => tool.name === 'run_sql');
    assert.deepEqual(runSql?.inputSchema.required, ['sql']);
  });

  test('list_tables gives row and column counts and the dictionary\'s description', async () => {
    const result = await call(client, 'list_tables');
    assert.equal(result.isError, undefined);
    assert.match(textOf(result), /customers \(12 rows, 7 columns\): 客户 \/ customers/);
  });

  test('describe_table shows meanings and statistics, but no values of sensitive columns', async () => {
    const result = await call(client, 'describe_table', { table: 'customers' });
    const text = textOf(result);
    assert.equal(result.isError, undefined, text);
    assert.match(text, /Primary key: id \(per the dictionary/);
    assert.match(text, /- monthly_fee DOUBLE.*月费 \/ monthly fee; unit CNY/);
    assert.match(text, /- plan VARCHAR.*values: basic \(基础版\) ×6, premium \(高级版\) ×6/);
    assert.match(text, /- national_id .*RESTRICTED.*12 distinct, 0 null/);
    assert.match(text, /- full_name .*CONFIDENTIAL/);
    assert.doesNotMatch(text, /Alice|Zhang|110101199001011234/);
  });

  test('describe_table of an unknown table is a tool error naming the tables', async () => {
    const result = await call(client, 'describe_table', { table: 'orders' });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /No table "orders"\. The tables are: customers/);
  });

  test('run_sql returns a text table and structured content', async () => {
    const result = await call(client, 'run_sql', { sql: 'SELECT city, COUNT(*) AS customers, SUM(monthly_fee) AS fees FROM customers GROUP BY city ORDER BY city' });
    assert.equal(result.isError, undefined, textOf(result));
    assert.deepEqual(result.structuredContent, {
      columns: ['city', 'customers', 'fees'],
      rows: [['Beijing', 4, 215.5], ['Guangzhou', 4, 210], ['Shanghai', 4, 237]],
      truncated: false,
    });
    assert.match(textOf(result), /^city\tcustomers\tfees\nBeijing\t4\t215\.5\n/);
    assert.match(textOf(result), /\(3 rows\)/);
  });

  test('run_sql caps the rows and says so', async () => {
    const result = await call(client, 'run_sql', { sql: 'SELECT * FROM range(250) AS numbers(n)' });
    const content = result.structuredContent as { rows: unknown[][]; truncated: boolean };
    assert.equal(content.rows.length, 200);
    assert.equal(content.truncated, true);
    assert.match(textOf(result), /first 200 rows shown/);
  });

  test('a DELETE is refused by the guard as a tool error, and the data is unchanged', async () => {
    const refused = await call(client, 'run_sql', { sql: 'DELETE FROM customers' });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /^sql_refused: Refused DELETE statement: iquery only runs read-only queries/);
    assert.match(textOf(refused), /hint: /);
    const count = await call(client, 'run_sql', { sql: 'SELECT COUNT(*) AS n FROM customers' });
    assert.deepEqual((count.structuredContent as { rows: unknown[][] }).rows, [[12]]);
  });

  test('a query error is a tool error', async () => {
    const result = await call(client, 'run_sql', { sql: 'SELECT no_such_column FROM customers' });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /^query_failed: .*no_such_column/);
  });

  test('a restricted column is refused; it may only be counted', async () => {
    const refused = await call(client, 'run_sql', { sql: 'SELECT national_id FROM customers' });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /restricted column .*national_id/);
    const counted = await call(client, 'run_sql', { sql: 'SELECT COUNT(DISTINCT national_id) AS ids FROM customers' });
    assert.equal(counted.isError, undefined, textOf(counted));
    assert.deepEqual((counted.structuredContent as { rows: unknown[][] }).rows, [[12]]);
  });

  test('a confidential column comes back masked, the same value the same way', async () => {
    const result = await call(client, 'run_sql', { sql: "SELECT full_name, city FROM customers WHERE id IN (1, 2) UNION ALL SELECT full_name, city FROM customers WHERE id = 1" });
    assert.equal(result.isError, undefined, textOf(result));
    const rows = (result.structuredContent as { rows: unknown[][] }).rows;
    assert.equal(rows.length, 3);
    for (const row of rows) assert.match(String(row[0]), /^‹masked:[0-9a-f]{12}›$/);
    assert.deepEqual(rows.map((row) => row[1]), ['Beijing', 'Beijing', 'Beijing']);
    const alice = rows.filter((row) => row[0] === rows[2]?.[0]);
    assert.equal(alice.length, 2);
    assert.doesNotMatch(textOf(result), /Alice|Bob/);
    assert.match(textOf(result), /confidential columns masked: full_name/);
  });

  test('run_python keeps state across calls', async () => {
    const first = await call(client, 'run_python', { code: 'x = 21' });
    assert.equal(first.isError, undefined, textOf(first));
    const second = await call(client, 'run_python', { code: 'print(x * 2)' });
    assert.equal(second.isError, undefined, textOf(second));
    assert.equal(textOf(second), '42');
    const last = await call(client, 'run_python', { code: 'x + 1' });
    assert.equal(textOf(last), '22');
  });

  test('run_python returns a matplotlib figure as a PNG image', async () => {
    const result = await call(client, 'run_python', { code: "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [2, 4, 1])\nplt.title('sales')\nprint('drawn')" });
    assert.equal(result.isError, undefined, textOf(result));
    const image = result.content.find((part) => part.type === 'image');
    assert.ok(image !== undefined && image.type === 'image', JSON.stringify(result.content).slice(0, 300));
    assert.equal(image.mimeType, 'image/png');
    assert.deepEqual([...Buffer.from(image.data, 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.match(textOf(result), /drawn/);
  });

  test('a Python exception is a tool error with its name, value and traceback', async () => {
    const result = await call(client, 'run_python', { code: 'def f():\n    return 1 / 0\nf()' });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /^ZeroDivisionError: division by zero/);
    assert.match(text, /return 1 \/ 0/);
    assert.doesNotMatch(text, /\x1b\[/);
  });

  test('ask answers with the offline analyst: the answer, the SQL and the table', async () => {
    const result = await call(client, 'ask', { question: 'how many customers are there' });
    const text = textOf(result);
    assert.equal(result.isError, undefined, text);
    const answer = result.structuredContent as { status: string; answer: string; sql: string; rows: unknown[][]; analyst: string };
    assert.equal(answer.status, 'answered');
    assert.equal(answer.analyst, 'offline');
    assert.deepEqual(answer.rows, [[12]]);
    assert.match(answer.answer, /12/);
    assert.match(text, /SQL: SELECT COUNT\(\*\)/i);
  });

  test('ask keeps to the protection rules: restricted columns refused, confidential ones masked', async () => {
    const restricted = await call(client, 'ask', { question: 'show national id of customers' });
    assert.equal(restricted.isError, true);
    assert.match(textOf(restricted), /^Refused: .*restricted column .*national_id/);
    assert.doesNotMatch(textOf(restricted), /\d{9}/);

    const confidential = await call(client, 'ask', { question: 'average monthly fee by full_name' });
    const text = textOf(confidential);
    assert.equal(confidential.isError, undefined, text);
    const answer = confidential.structuredContent as { status: string; answer: string; rows: unknown[][] };
    assert.equal(answer.status, 'answered');
    assert.equal(answer.rows.length, 12);
    for (const row of answer.rows) assert.match(String(row[0]), /^‹masked:[0-9a-f]{12}›$/);
    assert.match(answer.answer, /masked/);
    assert.doesNotMatch(text, /Alice|Bob/);
  });

  test('bad arguments are a tool error', async () => {
    const result = await call(client, 'run_sql', {});
    assert.equal(result.isError, true);
    assert.match(textOf(result), /Invalid arguments for run_sql/);
  });

  test('an unknown tool is a protocol error', async () => {
    await assert.rejects(call(client, 'drop_tables'), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, ErrorCode.InvalidParams);
      assert.match(error.message, /Unknown tool: drop_tables/);
      return true;
    });
  });

  test('nothing but protocol messages reached standard output; notes went to stderr', () => {
    assert.deepEqual(transportErrors, []);
    assert.match(stderr, /iquery MCP server on standard input\/output/);
  });
});

describe('iquery mcp lifetime', () => {
  test('it stops by itself when standard input closes, printing nothing to stdout', async () => {
    const child = spawn(process.execPath, [iqueryBin, '--data', data, 'mcp'], { env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // Close only once it serves, so that the test is about shutting down, not starting.
      if (stderr.includes('MCP server on standard input')) child.stdin.end();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0, stderr);
    assert.equal(stdout, '');
  });
});

describe('MCP over streamable HTTP', () => {
  let source: DataSource;
  let handler: McpHttpHandler;
  let server: Server;
  let url: URL;

  before(async () => {
    source = await openSource(data, { home });
    const dictionary = loadDictionary(dictionaryPath);
    handler = createMcpHttpHandler(() => ({ source, dictionary }));
    server = createServer(getRequestListener((request) => handler.handle(request)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  });

  after(async () => {
    await handler.close();
    await new Promise((resolve) => server.close(resolve));
    await source.close();
  });

  test('list_tables and run_sql, each client in its own session', async () => {
    const client = new Client({ name: 'iquery-http-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
    assert.equal(handler.sessionCount, 1);
    assert.ok(transport.sessionId !== undefined);

    const tables = await call(client, 'list_tables');
    assert.match(textOf(tables), /customers \(12 rows, 7 columns\)/);
    const result = await call(client, 'run_sql', { sql: 'SELECT plan, ROUND(AVG(monthly_fee), 2) AS fee FROM customers GROUP BY plan ORDER BY plan' });
    assert.equal(result.isError, undefined, textOf(result));
    assert.deepEqual(result.structuredContent, { columns: ['plan', 'fee'], rows: [['basic', 20.92], ['premium', 89.5]], truncated: false });
    const restricted = await call(client, 'run_sql', { sql: 'SELECT national_id FROM customers' });
    assert.equal(restricted.isError, true);

    const other = new Client({ name: 'iquery-http-test-2', version: '1.0.0' });
    const otherTransport = new StreamableHTTPClientTransport(url);
    await other.connect(otherTransport);
    assert.equal(handler.sessionCount, 2);
    assert.notEqual(otherTransport.sessionId, transport.sessionId);

    await transport.terminateSession();
    await client.close();
    await otherTransport.terminateSession();
    await other.close();
    assert.equal(handler.sessionCount, 0);
  });

  test('a request without a session that is not an initialize is refused, and leaves no session', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(response.status, 400);
    const unknown = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': 'no-such-session' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(unknown.status, 404);
    assert.equal(handler.sessionCount, 0);
  });
});
