import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { APIConnectionError, APIError } from 'openai';
import { isRetryable, isToolsUnsupported, mapLlmError, scrubSecret } from './map-llm-error.js';

const settings = { provider: 'deepseek', model: 'deepseek-chat', baseUrl: 'https://api.deepseek.com/v1', apiKey: 'sk-0123456789abcdef', timeoutMs: 120_000 };

function connectionError(code: string): APIConnectionError {
  return new APIConnectionError({ cause: new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) }) });
}

function statusError(status: number, message: string, code?: string): APIError {
  return APIError.generate(status, { error: { message, code } }, undefined, new Headers());
}

describe('mapLlmError and isRetryable', () => {
  test('a reset connection is retried; a refused one or an unknown host is not', () => {
    assert.equal(isRetryable(connectionError('ECONNRESET')), true);
    assert.equal(isRetryable(connectionError('UND_ERR_SOCKET')), true);
    assert.equal(isRetryable(connectionError('ECONNREFUSED')), false);
    assert.equal(isRetryable(connectionError('ENOTFOUND')), false);
    const mapped = mapLlmError(connectionError('ENOTFOUND'), { settings, attempts: 1 });
    assert.equal(mapped.code, 'llm_unreachable');
    assert.match(mapped.message, /Could not reach the deepseek server at https:\/\/api\.deepseek\.com\/v1 \(ENOTFOUND\)/);
  });

  test('statuses: 429 and 5xx are retried, 400, 401, 403 and 404 are not', () => {
    assert.deepEqual([429, 500, 502, 503, 504].map((status) => isRetryable(statusError(status, 'x'))), [true, true, true, true, true]);
    assert.deepEqual([400, 401, 403, 404, 501].map((status) => isRetryable(statusError(status, 'x'))), [false, false, false, false, false]);
  });

  test('a 403, a "Model Not Exist" 400 and a "prompt is too long" 400', () => {
    assert.equal(mapLlmError(statusError(403, 'forbidden'), { settings, attempts: 1 }).code, 'llm_auth');
    assert.equal(mapLlmError(statusError(400, 'Model Not Exist'), { settings, attempts: 1 }).code, 'llm_model_not_found');
    assert.equal(mapLlmError(statusError(400, 'prompt is too long: 210000 tokens > 200000 maximum'), { settings, attempts: 1 }).code, 'llm_context_overflow');
  });

  test('servers that refuse tools, in their own words', () => {
    assert.equal(isToolsUnsupported(statusError(400, 'registry.ollama.ai/library/phi:latest does not support tools')), true);
    assert.equal(isToolsUnsupported(statusError(400, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set')), true);
    assert.equal(isToolsUnsupported(statusError(500, 'tools param requires --jinja flag')), true);
    assert.equal(isToolsUnsupported(statusError(400, "Invalid 'tools[0].function.name': string too long")), false);
    assert.equal(isToolsUnsupported(statusError(429, 'tools are not supported while rate limited')), false);
  });

  test('the key is scrubbed from the message, the hint and the cause', () => {
    const mapped = mapLlmError(statusError(401, `Invalid key ${settings.apiKey}`), { settings, attempts: 1 });
    assert.ok(!mapped.message.includes(settings.apiKey));
    assert.ok(!String(mapped.cause).includes(settings.apiKey));
    assert.equal(scrubSecret('a sk-0123456789abcdef b', settings.apiKey), 'a [redacted] b');
    assert.equal(scrubSecret('unchanged', undefined), 'unchanged');
  });
});
