/** The OpenAI-compatible model against the scripted server, over real HTTP. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IqueryError, type ErrorCode } from '../errors.js';
import type { ChatEvent, ChatRequest, ChatResponse, ToolDefinition } from './llm.js';
import type { LlmSettings } from './llm-settings.js';
import { createLanguageModel } from './openai-compatible.js';
import { ScriptedModelServer, type Script, type ScriptedReply } from './testing/scripted-model-server.js';

const apiKey = 'sk-test-4f9a1c2b7d';

const runSql: ToolDefinition = {
  name: 'run_sql',
  description: 'Runs one read-only SQL query.',
  parameters: { type: 'object', properties: { sql: { type: 'string' } }, required: ['sql'] },
};

function settingsFor(server: ScriptedModelServer, overrides: Partial<LlmSettings> = {}): LlmSettings {
  return {
    provider: 'custom',
    baseUrl: server.baseUrl,
    apiKey,
    model: 'scripted-model',
    stream: true,
    toolCalling: 'native',
    timeoutMs: 10_000,
    maxRetries: 3,
    retryBaseDelayMs: 1,
    ...overrides,
  };
}

/** Runs a test against a fresh server, closed afterwards. */
async function withServer(
  script: Script,
  work: (server: ScriptedModelServer) => Promise<void>,
  options: { chunkSize?: number; models?: readonly string[] } = {},
): Promise<void> {
  const server = await ScriptedModelServer.start(script, options);
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

/** A chat call that collects its events. */
async function chat(settings: LlmSettings, request: Partial<ChatRequest> = {}): Promise<{ response: ChatResponse; events: ChatEvent[] }> {
  const events: ChatEvent[] = [];
  const response = await createLanguageModel(settings).chat({
    messages: [{ role: 'user', content: 'How many customers churned?' }],
    onEvent: (event) => events.push(event),
    ...request,
  });
  return { response, events };
}

/** Awaits a chat call that must fail with an IqueryError of the given code; returns the error and the events. */
async function chatFailure(settings: LlmSettings, code: ErrorCode, request: Partial<ChatRequest> = {}): Promise<{ error: IqueryError; events: ChatEvent[] }> {
  const events: ChatEvent[] = [];
  try {
    await chat(settings, { onEvent: (event) => events.push(event), ...request });
  } catch (error) {
    assert.ok(error instanceof IqueryError, `expected an IqueryError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return { error, events };
  }
  assert.fail(`expected an error with code ${code}`);
}

function textOf(events: ChatEvent[], type: 'text-delta' | 'reasoning-delta'): string[] {
  return events.flatMap((event) => (event.type === type ? [event.text] : []));
}

function retriesOf(events: ChatEvent[]): Extract<ChatEvent, { type: 'retry' }>[] {
  return events.flatMap((event) => (event.type === 'retry' ? [event] : []));
}

describe('text replies', () => {
  const text = 'About 26.5% of the customers churned last year.';

  test('streamed: in deltas of the chunk size, with usage from the last chunk', async () => {
    await withServer([{ kind: 'text', text }], async (server) => {
      const { response, events } = await chat(settingsFor(server));
      assert.equal(response.text, text);
      assert.deepEqual(textOf(events, 'text-delta').slice(0, 2), ['About', ' 26.5']);
      assert.equal(textOf(events, 'text-delta').join(''), text);
      assert.equal(response.finishReason, 'stop');
      assert.deepEqual(response.toolCalls, []);
      assert.equal(response.reasoning, '');
      assert.equal(response.toolCallsFromText, false);
      const prompt = Math.ceil('How many customers churned?'.length / 4);
      const completion = Math.ceil(text.length / 4);
      assert.deepEqual(response.usage, { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion });
      assert.ok(response.raw.length > 2, 'one raw entry per chunk');

      const [request] = server.requests;
      assert.equal(request?.body.stream, true);
      assert.deepEqual(request?.body.stream_options, { include_usage: true });
      assert.equal(request?.body.model, 'scripted-model');
      assert.equal(request?.headers['authorization'], `Bearer ${apiKey}`);
    });
  });

  test('not streamed: one completion, reported as one text event', async () => {
    await withServer([{ kind: 'text', text }], async (server) => {
      const { response, events } = await chat(settingsFor(server, { stream: false }));
      assert.equal(response.text, text);
      assert.deepEqual(textOf(events, 'text-delta'), [text]);
      assert.equal(response.usage?.completionTokens, Math.ceil(text.length / 4));
      assert.equal(response.raw.length, 1);
      assert.notEqual(server.requests[0]?.body.stream, true);
    });
  });

  test('reasoning passes through, streamed and not', async () => {
    const reasoning = 'The churn column is Churn; count the Yes rows.';
    for (const stream of [true, false]) {
      await withServer([{ kind: 'text', text: 'About 26.5%.', reasoning }], async (server) => {
        const { response, events } = await chat(settingsFor(server, { stream }));
        assert.equal(response.reasoning, reasoning);
        assert.equal(textOf(events, 'reasoning-delta').join(''), reasoning);
        assert.equal(response.text, 'About 26.5%.');
      });
    }
  });

  test('a server without a key is sent a placeholder, never an empty header', async () => {
    await withServer([{ kind: 'text', text: 'ok' }], async (server) => {
      const settings = settingsFor(server);
      delete settings.apiKey;
      await chat(settings);
      assert.equal(server.requests[0]?.headers['authorization'], 'Bearer not-needed');
    });
  });
});

describe('native tool calls', () => {
  const first = { sql: 'SELECT "Contract", count(*) AS customers FROM telco GROUP BY 1 ORDER BY 2 DESC' };
  const second = { sql: "SELECT avg(\"MonthlyCharges\") FROM telco WHERE \"Churn\" = 'Yes'", note: 'quotes "inside" and 中文' };
  const script: ScriptedReply[] = [
    {
      kind: 'tool_calls',
      calls: [
        { id: 'call_first', name: 'run_sql', arguments: first },
        { id: 'call_second', name: 'run_sql', arguments: JSON.stringify(second) },
      ],
    },
  ];

  for (const stream of [true, false]) {
    test(`two parallel calls are reassembled exactly (${stream ? 'arguments split across many deltas' : 'not streamed'})`, async () => {
      await withServer(
        script,
        async (server) => {
          const { response, events } = await chat(settingsFor(server, { stream }), { tools: [runSql] });
          assert.deepEqual(response.toolCalls, [
            { id: 'call_first', name: 'run_sql', arguments: JSON.stringify(first) },
            { id: 'call_second', name: 'run_sql', arguments: JSON.stringify(second) },
          ]);
          assert.equal(response.finishReason, 'tool_calls');
          assert.equal(response.toolCallsFromText, false);
          const starts = events.filter((event) => event.type === 'tool-call-start');
          assert.deepEqual(starts, [
            { type: 'tool-call-start', id: 'call_first', name: 'run_sql' },
            { type: 'tool-call-start', id: 'call_second', name: 'run_sql' },
          ]);
          const deltas = events.flatMap((event) => (event.type === 'tool-call-delta' ? [event] : []));
          if (stream) assert.ok(deltas.length > 10, 'the arguments arrived in many pieces');
          for (const call of response.toolCalls) {
            const streamed = deltas.filter((delta) => delta.id === call.id).map((delta) => delta.argumentsDelta);
            assert.equal(streamed.join(''), call.arguments);
          }

          const body = server.requests[0]?.body;
          assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'run_sql', description: runSql.description, parameters: runSql.parameters } }]);
          assert.equal(body.tool_choice, 'auto');
        },
        { chunkSize: 3 },
      );
    });
  }

  test('the history goes out as OpenAI messages: tool_calls of type function, tool results by tool_call_id', async () => {
    await withServer([{ kind: 'text', text: 'Month-to-month has the most customers.' }], async (server) => {
      await chat(settingsFor(server), {
        tools: [runSql],
        toolChoice: 'none',
        messages: [
          { role: 'system', content: 'You are a data analyst.' },
          { role: 'user', content: 'Which contract has the most customers?' },
          { role: 'assistant', content: null, reasoning: 'Group by contract.', toolCalls: [{ id: 'call_1', name: 'run_sql', arguments: '{"sql":"SELECT 1"}' }] },
          { role: 'tool', toolCallId: 'call_1', name: 'run_sql', content: '[{"Contract":"Month-to-month","customers":3875}]' },
        ],
      });
      const body = server.requests[0]?.body;
      assert.deepEqual(body.messages, [
        { role: 'system', content: 'You are a data analyst.' },
        { role: 'user', content: 'Which contract has the most customers?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'run_sql', arguments: '{"sql":"SELECT 1"}' } }],
          reasoning_content: 'Group by contract.',
        },
        { role: 'tool', tool_call_id: 'call_1', content: '[{"Contract":"Month-to-month","customers":3875}]' },
      ]);
      assert.equal(body.tool_choice, 'none');
    });
  });
});

describe('failures', () => {
  test('401 is llm_auth with a hint, not retried, and never shows the key even when the server echoes it', async () => {
    await withServer([{ kind: 'http_error', status: 401, message: `Incorrect API key provided: ${apiKey}.`, code: 'invalid_api_key' }], async (server) => {
      const { error, events } = await chatFailure(settingsFor(server), 'llm_auth');
      assert.match(error.message, /refused the API key/);
      assert.match(error.hint ?? '', /IQUERY_LLM_API_KEY/);
      assert.match(error.hint ?? '', /--llm-api-key/);
      const everything = JSON.stringify({ message: error.message, hint: error.hint, details: error.details, cause: String(error.cause) });
      assert.ok(!everything.includes(apiKey), everything);
      assert.match(error.message, /\[redacted\]/);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(retriesOf(events), []);
    });
  });

  test('404 for the model is llm_model_not_found', async () => {
    await withServer([{ kind: 'http_error', status: 404, message: 'The model `gpt-9` does not exist.', code: 'model_not_found' }], async (server) => {
      const { error } = await chatFailure(settingsFor(server, { model: 'gpt-9' }), 'llm_model_not_found');
      assert.match(error.message, /'gpt-9'/);
      assert.match(error.hint ?? '', /--llm-model/);
      assert.equal(server.requests.length, 1);
    });
  });

  test('429 twice then an answer: the answer, after two retry events', async () => {
    const rateLimited: ScriptedReply = { kind: 'http_error', status: 429, message: 'Rate limit reached for requests' };
    await withServer([rateLimited, rateLimited, { kind: 'text', text: 'Done.' }], async (server) => {
      const { response, events } = await chat(settingsFor(server));
      assert.equal(response.text, 'Done.');
      const retries = retriesOf(events);
      assert.deepEqual(retries.map((retry) => retry.attempt), [1, 2]);
      assert.match(retries[0]?.reason ?? '', /^429: Rate limit reached/);
      assert.equal(server.requests.length, 3);
    });
  });

  test('a retry waits as long as retry-after-ms asks', async () => {
    await withServer([{ kind: 'http_error', status: 503, headers: { 'retry-after-ms': '7' } }, { kind: 'text', text: 'Done.' }], async (server) => {
      const { events } = await chat(settingsFor(server));
      assert.deepEqual(retriesOf(events).map((retry) => retry.delayMs), [7]);
    });
  });

  test('429 until the retries run out is llm_rate_limited', async () => {
    await withServer(() => ({ kind: 'http_error', status: 429, message: 'Too many requests' }), async (server) => {
      const { error, events } = await chatFailure(settingsFor(server, { maxRetries: 2 }), 'llm_rate_limited');
      assert.match(error.message, /after 3 attempts/);
      assert.equal(retriesOf(events).length, 2);
      assert.equal(server.requests.length, 3);
    });
  });

  test('an exhausted quota is llm_rate_limited at once: waiting would not help', async () => {
    await withServer(() => ({ kind: 'http_error', status: 429, message: 'You exceeded your current quota', code: 'insufficient_quota' }), async (server) => {
      const { error } = await chatFailure(settingsFor(server), 'llm_rate_limited');
      assert.match(error.hint ?? '', /billing/);
      assert.equal(server.requests.length, 1);
    });
  });

  test('500 is retried, then llm_failed', async () => {
    await withServer(() => ({ kind: 'http_error', status: 500, message: 'The server had an error while processing your request.' }), async (server) => {
      const { error, events } = await chatFailure(settingsFor(server, { maxRetries: 1 }), 'llm_failed');
      assert.match(error.message, /500: The server had an error/);
      assert.equal(retriesOf(events).length, 1);
      assert.equal(server.requests.length, 2);
    });
  });

  for (const stream of [true, false]) {
    test(`a server slower than the timeout is llm_timeout (${stream ? 'streamed' : 'not streamed'})`, async () => {
      await withServer([{ kind: 'delay', ms: 5_000, then: { kind: 'text', text: 'too late' } }], async (server) => {
        const { error } = await chatFailure(settingsFor(server, { stream, timeoutMs: 50 }), 'llm_timeout');
        assert.match(error.hint ?? '', /timeout_seconds/);
        assert.equal(server.requests.length, 1, 'a timeout is not retried');
      });
    });
  }

  test('400 context_length_exceeded is llm_context_overflow', async () => {
    const replies: ScriptedReply[] = [
      { kind: 'http_error', status: 400, message: 'Please reduce your prompt.', code: 'context_length_exceeded' },
      { kind: 'http_error', status: 400, message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens." },
    ];
    await withServer(replies, async (server) => {
      const settings = settingsFor(server);
      await chatFailure(settings, 'llm_context_overflow');
      const { error } = await chatFailure(settings, 'llm_context_overflow');
      assert.match(error.hint ?? '', /new conversation/);
      assert.equal(server.requests.length, 2);
    });
  });

  test('an unreachable server is llm_unreachable', async () => {
    const server = await ScriptedModelServer.start([]);
    await server.close();
    const { error } = await chatFailure(settingsFor(server), 'llm_unreachable');
    assert.match(error.message, /ECONNREFUSED/);
    assert.match(error.hint ?? '', /--llm-base-url/);
  });

  test('a script that runs out answers 500 "script exhausted"', async () => {
    await withServer([], async (server) => {
      const { error } = await chatFailure(settingsFor(server, { maxRetries: 0 }), 'llm_failed');
      assert.match(error.message, /script exhausted/);
    });
  });
});

describe('a server asked for its model (no model name set)', () => {
  test('a server with one model: that model is used, and named from then on', async () => {
    await withServer([{ kind: 'text', text: 'Hello.' }], async (server) => {
      const model = createLanguageModel(settingsFor(server, { model: '' }));
      assert.equal(model.model, '');
      const response = await model.chat({ messages: [{ role: 'user', content: 'Hi' }] });
      assert.equal(response.text, 'Hello.');
      assert.equal(server.requests[0]?.body.model, 'scripted-model');
      assert.equal(model.model, 'scripted-model');
    }, { models: ['scripted-model'] });
  });

  test('a server with several models: llm_not_configured, listing them, and no chat request is sent', async () => {
    await withServer([{ kind: 'text', text: 'never' }], async (server) => {
      const { error } = await chatFailure(settingsFor(server, { model: '' }), 'llm_not_configured');
      assert.match(error.message, /serves several: qwen2\.5:14b, llama3\.1:8b/);
      assert.match(error.hint ?? '', /--llm-model/);
      assert.equal(server.requests.length, 0);
    }, { models: ['qwen2.5:14b', 'llama3.1:8b'] });
  });

  test('a server with no models, and one that cannot be reached', async () => {
    await withServer([], async (server) => {
      const { error } = await chatFailure(settingsFor(server, { model: '' }), 'llm_not_configured');
      assert.match(error.message, /lists no models/);
    }, { models: [] });
    const gone = await ScriptedModelServer.start([]);
    await gone.close();
    await chatFailure(settingsFor(gone, { model: '' }), 'llm_unreachable');
  });
});

describe('cancellation', () => {
  test('aborting the signal stops a stream: query_cancelled, no more deltas', async () => {
    await withServer([{ kind: 'text', text: 'x'.repeat(500) }], async (server) => {
      const controller = new AbortController();
      const deltas: string[] = [];
      const { error } = await chatFailure(settingsFor(server), 'query_cancelled', {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type !== 'text-delta') return;
          deltas.push(event.text);
          controller.abort();
        },
      });
      assert.equal(error.message, 'The model call was cancelled.');
      assert.equal(deltas.length, 1);
    });
  });

  test('an already aborted signal sends nothing', async () => {
    await withServer([{ kind: 'text', text: 'unused' }], async (server) => {
      await chatFailure(settingsFor(server), 'query_cancelled', { signal: AbortSignal.abort() });
      assert.equal(server.requests.length, 0);
    });
  });

  test('aborting during the wait before a retry stops at once', async () => {
    await withServer(() => ({ kind: 'http_error', status: 503 }), async (server) => {
      const controller = new AbortController();
      await chatFailure(settingsFor(server, { retryBaseDelayMs: 60_000 }), 'query_cancelled', {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'retry') controller.abort();
        },
      });
      assert.equal(server.requests.length, 1);
    });
  });

  test('an exception thrown by onEvent reaches the caller unchanged', async () => {
    await withServer([{ kind: 'text', text: 'Hello there.' }], async (server) => {
      const thrown = new Error('the consumer broke');
      await assert.rejects(
        createLanguageModel(settingsFor(server)).chat({
          messages: [{ role: 'user', content: 'Hi' }],
          onEvent: () => {
            throw thrown;
          },
        }),
        (error) => error === thrown,
      );
      assert.equal(server.requests.length, 1);
    });
  });
});
