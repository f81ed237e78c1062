/** Tool calling for models without it: JSON in the text, over the scripted server and as pure parsing. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import type { ChatEvent, ChatMessage, ToolDefinition } from './llm.js';
import type { LlmSettings } from './llm-settings.js';
import { createLanguageModel } from './openai-compatible.js';
import { ScriptedModelServer, type ScriptedReply } from './testing/scripted-model-server.js';
import { parseTextToolCalls } from './text-tool-calling.js';

const runSql: ToolDefinition = {
  name: 'run_sql',
  description: 'Runs one read-only SQL query.',
  parameters: { type: 'object', properties: { sql: { type: 'string' } }, required: ['sql'] },
};

const fencedCall = 'Let me count them.\n```json\n{"tool": "run_sql", "arguments": {"sql": "SELECT count(*) FROM telco"}}\n```';

function settingsFor(server: ScriptedModelServer, overrides: Partial<LlmSettings> = {}): LlmSettings {
  return {
    provider: 'ollama',
    baseUrl: server.baseUrl,
    model: 'scripted-model',
    stream: true,
    toolCalling: 'text',
    timeoutMs: 10_000,
    maxRetries: 0,
    retryBaseDelayMs: 1,
    ...overrides,
  };
}

async function withServer(script: ScriptedReply[], work: (server: ScriptedModelServer) => Promise<void>): Promise<void> {
  const server = await ScriptedModelServer.start(script, { chunkSize: 4 });
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

const question: ChatMessage[] = [
  { role: 'system', content: 'You are a data analyst.' },
  { role: 'user', content: 'How many customers are there?' },
];

describe('text mode over HTTP', () => {
  for (const stream of [true, false]) {
    test(`tools are described in the system message and a fenced JSON reply becomes a tool call (${stream ? 'streamed' : 'not streamed'})`, async () => {
      await withServer([{ kind: 'text', text: fencedCall }], async (server) => {
        const events: ChatEvent[] = [];
        const response = await createLanguageModel(settingsFor(server, { stream })).chat({
          messages: question,
          tools: [runSql],
          onEvent: (event) => events.push(event),
        });
        const body = server.requests[0]?.body;
        assert.equal(body.tools, undefined);
        assert.equal(body.tool_choice, undefined);
        const system: string = body.messages[0].content;
        assert.ok(system.startsWith('You are a data analyst.\n\n## Tools'), system);
        assert.ok(system.includes('### run_sql\nRuns one read-only SQL query.'));
        assert.ok(system.includes(JSON.stringify(runSql.parameters)));
        assert.ok(system.includes('"tool": "TOOL_NAME"'));

        assert.equal(response.toolCalls.length, 1);
        assert.equal(response.toolCalls[0]?.name, 'run_sql');
        assert.equal(response.toolCalls[0]?.arguments, '{"sql":"SELECT count(*) FROM telco"}');
        assert.match(response.toolCalls[0]?.id ?? '', /^call_[0-9a-f]{16}$/);
        assert.equal(response.toolCallsFromText, true);
        assert.equal(response.finishReason, 'tool_calls');
        assert.equal(response.text, 'Let me count them.');
        // The JSON block is not shown as text while it streams; the call is reported as a tool call.
        const texts = events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : []));
        assert.equal(texts.join('').trim(), 'Let me count them.');
        assert.deepEqual(
          events.filter((event) => event.type === 'tool-call-start').map((event) => event.type === 'tool-call-start' && event.name),
          ['run_sql'],
        );
      });
    });
  }

  test('tool calls and results go back as text: the JSON block and a user message per result', async () => {
    await withServer([{ kind: 'text', text: 'There are 7043 customers.' }], async (server) => {
      const response = await createLanguageModel(settingsFor(server)).chat({
        tools: [runSql],
        messages: [
          ...question,
          { role: 'assistant', content: 'Let me count them.', toolCalls: [{ id: 'call_7', name: 'run_sql', arguments: '{"sql":"SELECT count(*) FROM telco"}' }] },
          { role: 'tool', toolCallId: 'call_7', name: 'run_sql', content: '[{"count":7043}]' },
        ],
      });
      assert.equal(response.text, 'There are 7043 customers.');
      assert.deepEqual(response.toolCalls, []);
      const messages = server.requests[0]?.body.messages;
      assert.deepEqual(messages.slice(1), [
        { role: 'user', content: 'How many customers are there?' },
        { role: 'assistant', content: 'Let me count them.\n\n```json\n{"tool":"run_sql","arguments":{"sql":"SELECT count(*) FROM telco"}}\n```' },
        { role: 'user', content: 'Result of tool run_sql (call call_7):\n[{"count":7043}]' },
      ]);
    });
  });

  test('auto mode: a 400 "does not support tools" switches to text for good, retrying that request once', async () => {
    const refusal: ScriptedReply = { kind: 'http_error', status: 400, message: 'registry.ollama.ai/library/gemma:2b does not support tools' };
    await withServer([refusal, { kind: 'text', text: fencedCall }, { kind: 'text', text: 'There are 7043 customers.' }], async (server) => {
      const model = createLanguageModel(settingsFor(server, { toolCalling: 'auto' }));
      const events: ChatEvent[] = [];
      const response = await model.chat({ messages: question, tools: [runSql], onEvent: (event) => events.push(event) });
      assert.equal(response.toolCallsFromText, true);
      assert.equal(response.toolCalls[0]?.name, 'run_sql');
      assert.equal(events.filter((event) => event.type === 'retry').length, 0, 'the switch is not a retry');
      assert.equal(server.requests[0]?.body.tools.length, 1);
      assert.equal(server.requests[1]?.body.tools, undefined);

      await model.chat({ messages: question, tools: [runSql] });
      assert.equal(server.requests.length, 3);
      assert.equal(server.requests[2]?.body.tools, undefined, 'text mode stays on');
      assert.match(server.requests[2]?.body.messages[0].content, /## Tools/);
    });
  });

  test('native mode does not switch: the refusal is llm_failed with a hint to use text mode', async () => {
    const refusal: ScriptedReply = { kind: 'http_error', status: 400, message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set' };
    await withServer([refusal], async (server) => {
      await assert.rejects(createLanguageModel(settingsFor(server, { toolCalling: 'native' })).chat({ messages: question, tools: [runSql] }), (error) => {
        assert.ok(error instanceof IqueryError);
        assert.equal(error.code, 'llm_failed');
        assert.match(error.hint ?? '', /tool_calling: text/);
        return true;
      });
      assert.equal(server.requests.length, 1);
    });
  });

  test("toolChoice 'none' leaves the tools out and reads no calls", async () => {
    await withServer([{ kind: 'text', text: fencedCall }], async (server) => {
      const response = await createLanguageModel(settingsFor(server)).chat({ messages: question, tools: [runSql], toolChoice: 'none' });
      assert.equal(server.requests[0]?.body.messages[0].content, 'You are a data analyst.');
      assert.deepEqual(response.toolCalls, []);
      assert.equal(response.text, fencedCall);
      assert.equal(response.toolCallsFromText, false);
    });
  });
});

describe('reading tool calls from text', () => {
  const names = ['run_sql', 'run_python'];

  test('a fenced block: the call, and the text without the block', () => {
    const read = parseTextToolCalls(fencedCall, names);
    assert.equal(read.text, 'Let me count them.');
    assert.deepEqual(read.toolCalls.map(({ name, arguments: text }) => ({ name, text })), [{ name: 'run_sql', text: '{"sql":"SELECT count(*) FROM telco"}' }]);
  });

  test('an array of calls, with name/parameters and arguments given as a string', () => {
    const reply = '```\n[{"name": "run_sql", "parameters": {"sql": "SELECT 1"}}, {"tool": "run_python", "arguments": "{\\"code\\": \\"print(1)\\"}"}]\n```';
    const read = parseTextToolCalls(reply, names);
    assert.equal(read.text, '');
    assert.deepEqual(read.toolCalls.map(({ name, arguments: text }) => ({ name, text })), [
      { name: 'run_sql', text: '{"sql":"SELECT 1"}' },
      { name: 'run_python', text: '{"code": "print(1)"}' },
    ]);
    assert.notEqual(read.toolCalls[0]?.id, read.toolCalls[1]?.id);
  });

  test('a bare object in the text, braces inside strings included', () => {
    const read = parseTextToolCalls('I will run {"tool": "run_sql", "arguments": {"sql": "SELECT \'}\' AS brace"}} now.', names);
    assert.equal(read.text, 'I will run  now.');
    assert.equal(read.toolCalls[0]?.arguments, '{"sql":"SELECT \'}\' AS brace"}');
  });

  test('a block cut off before its closing fence still counts', () => {
    const read = parseTextToolCalls('```json\n{"tool": "run_sql", "arguments": {"sql": "SELECT 2"}}\n', names);
    assert.equal(read.toolCalls[0]?.arguments, '{"sql":"SELECT 2"}');
  });

  test('JSON data in an answer is not a call', () => {
    const answer = 'The top customer:\n```json\n{"name": "Alice", "charges": 118.75}\n```';
    const read = parseTextToolCalls(answer, names);
    assert.deepEqual(read.toolCalls, []);
    assert.equal(read.text, answer);
    assert.deepEqual(parseTextToolCalls('Plain text, {not json}.', names).toolCalls, []);
  });
});
