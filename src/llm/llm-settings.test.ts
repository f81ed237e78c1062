/** Which model iquery talks to: flags, then environment, then config file, then preset. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readConfig, type LlmConfig } from '../config/config-file.js';
import { IqueryError, type ErrorCode } from '../errors.js';
import { describeLlm, modelLabel, resolveLlmSettings, type LlmFlags } from './llm-settings.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-llm-settings-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** The environment of a test: only what it sets, and a home without a config file. */
function environment(variables: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { IQUERY_HOME: home, ...variables };
}

function resolve(flags: LlmFlags, variables: Record<string, string> = {}, llm?: LlmConfig) {
  return resolveLlmSettings(flags, environment(variables), llm === undefined ? {} : { llm });
}

function failure(work: () => unknown, code: ErrorCode): IqueryError {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof IqueryError, `expected an IqueryError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected an error with code ${code}`);
}

describe('resolveLlmSettings', () => {
  test('no provider and no base URL anywhere: no model', () => {
    assert.equal(resolve({}, { IQUERY_LLM_MODEL: 'qwen-max', DEEPSEEK_API_KEY: 'sk-unused' }), undefined);
  });

  test('a preset fills in the base URL, the model and the defaults; its vendor variable gives the key', () => {
    assert.deepEqual(resolve({ llmProvider: 'deepseek' }, { DEEPSEEK_API_KEY: 'sk-vendor' }), {
      provider: 'deepseek',
      baseUrl: 'https://api.deepseek.com/v1',
      apiKey: 'sk-vendor',
      model: 'deepseek-chat',
      stream: true,
      toolCalling: 'auto',
      timeoutMs: 120_000,
      maxRetries: 3,
    });
  });

  test('flag beats environment beats config file beats preset', () => {
    const file: LlmConfig = { provider: 'qwen', model: 'from-file', api_key: 'sk-file' };
    const variables = { IQUERY_LLM_MODEL: 'from-environment', IQUERY_LLM_API_KEY: 'sk-environment', DASHSCOPE_API_KEY: 'sk-vendor' };
    const flags = { llmModel: 'from-flag', llmApiKey: 'sk-flag' };
    const all = resolve(flags, variables, file);
    assert.equal(all?.model, 'from-flag');
    assert.equal(all?.apiKey, 'sk-flag');
    const withoutFlags = resolve({}, variables, file);
    assert.equal(withoutFlags?.model, 'from-environment');
    assert.equal(withoutFlags?.apiKey, 'sk-environment');
    const fileOnly = resolve({}, { DASHSCOPE_API_KEY: 'sk-vendor' }, file);
    assert.equal(fileOnly?.model, 'from-file');
    assert.equal(fileOnly?.apiKey, 'sk-file');
    const presetOnly = resolve({}, { DASHSCOPE_API_KEY: 'sk-vendor' }, { provider: 'qwen' });
    assert.equal(presetOnly?.model, 'qwen-plus');
    assert.equal(presetOnly?.apiKey, 'sk-vendor');
    assert.equal(presetOnly?.baseUrl, 'https://dashscope.aliyuncs.com/compatible-mode/v1');
  });

  test('the base URL and the provider follow the same order', () => {
    const file: LlmConfig = { base_url: 'http://file-host:8000/v1', model: 'm' };
    assert.equal(resolve({ llmBaseUrl: 'http://flag-host:8000/v1/' }, { IQUERY_LLM_BASE_URL: 'http://environment-host:8000/v1' }, file)?.baseUrl, 'http://flag-host:8000/v1');
    assert.equal(resolve({}, { IQUERY_LLM_BASE_URL: 'http://environment-host:8000/v1' }, file)?.baseUrl, 'http://environment-host:8000/v1');
    assert.equal(resolve({}, {}, file)?.baseUrl, 'http://file-host:8000/v1');
    assert.equal(resolve({ llmProvider: 'ollama', llmModel: 'qwen2.5' }, { IQUERY_LLM_PROVIDER: 'vllm' })?.provider, 'ollama');
  });

  test('the config file: api_key_env names the variable with the key, and the other settings', () => {
    const settings = resolve({}, { MY_KEY: 'sk-from-my-key' }, {
      provider: 'glm',
      api_key_env: 'MY_KEY',
      stream: false,
      tool_calling: 'text',
      timeout_seconds: 30,
      max_retries: 0,
    });
    assert.equal(settings?.apiKey, 'sk-from-my-key');
    assert.equal(settings?.model, 'glm-4-plus');
    assert.equal(settings?.stream, false);
    assert.equal(settings?.toolCalling, 'text');
    assert.equal(settings?.timeoutMs, 30_000);
    assert.equal(settings?.maxRetries, 0);
  });

  test('a provider named above ignores the model and the key the config file has for another provider', () => {
    const settings = resolve({ llmProvider: 'kimi' }, { MOONSHOT_API_KEY: 'sk-moonshot' }, { provider: 'deepseek', model: 'deepseek-reasoner', api_key: 'sk-deepseek', stream: false });
    assert.equal(settings?.model, 'kimi-k2.5');
    assert.equal(settings?.apiKey, 'sk-moonshot');
    assert.equal(settings?.stream, false, 'settings that are not about the server still apply');
  });

  test('a base URL given above keeps the config file provider and model (the same server elsewhere)', () => {
    const settings = resolve({ llmBaseUrl: 'http://gpu-box:11434/v1' }, {}, { provider: 'ollama', model: 'qwen2.5:14b' });
    assert.deepEqual([settings?.provider, settings?.baseUrl, settings?.model, settings?.apiKey], ['ollama', 'http://gpu-box:11434/v1', 'qwen2.5:14b', undefined]);
  });

  test("a preset's base URL names the preset; any other is custom and needs no key", () => {
    assert.equal(resolve({ llmBaseUrl: 'https://api.openai.com/v1/' }, { OPENAI_API_KEY: 'sk-openai' })?.provider, 'openai');
    const custom = resolve({ llmBaseUrl: 'https://llm.example.com/v1', llmModel: 'our-model' });
    assert.equal(custom?.provider, 'custom');
    assert.equal(custom?.apiKey, undefined);
  });

  test('without a model name the model is left to the server (asked at the first call), and named so', () => {
    const settings = resolve({ llmProvider: 'ollama' });
    assert.equal(settings?.model, '');
    assert.equal(modelLabel(settings!), "ollama · the server's model");
    assert.equal(modelLabel({ provider: 'custom', model: 'm1' }), 'custom · m1');
    // A preset with a default keeps it.
    assert.equal(resolve({ llmProvider: 'deepseek' }, { DEEPSEEK_API_KEY: 'sk-d' })?.model, 'deepseek-chat');
  });

  test('a missing required key says how to set it', () => {
    const error = failure(() => resolve({ llmProvider: 'openai' }), 'llm_not_configured');
    assert.match(error.message, /openai server needs an API key/);
    assert.match(error.hint ?? '', /IQUERY_LLM_API_KEY or OPENAI_API_KEY/);
    assert.match(error.hint ?? '', /--llm-api-key/);
    assert.match(error.hint ?? '', /api_key_env/);
    const unset = failure(() => resolve({}, {}, { provider: 'openai', api_key_env: 'TEAM_OPENAI_KEY' }), 'llm_not_configured');
    assert.match(unset.message, /api_key_env names TEAM_OPENAI_KEY, which is not set/);
  });

  test('a bad base URL or provider is an error naming where it came from', () => {
    assert.match(failure(() => resolve({ llmBaseUrl: 'ftp://models.example.com' }), 'usage').message, /--llm-base-url must start with http:\/\/ or https:\/\//);
    assert.match(failure(() => resolve({}, { IQUERY_LLM_BASE_URL: 'localhost:11434' }), 'bad_input').message, /IQUERY_LLM_BASE_URL/);
    assert.match(failure(() => resolve({}, {}, { base_url: 'not a url', model: 'm' }), 'config_invalid').message, /llm\.base_url/);
    assert.match(failure(() => resolve({ llmBaseUrl: 'https://user:sk-secret@llm.example.com/v1', llmModel: 'm' }), 'usage').message, /credentials/);
    const unknown = failure(() => resolve({ llmProvider: 'claude' }), 'usage');
    assert.match(unknown.message, /Unknown model provider 'claude' in --llm-provider; the known ones are openai, deepseek/);
    assert.match(unknown.hint ?? '', /--llm-base-url/);
  });

  test('the config file is read from IQUERY_HOME by default', () => {
    const configured = mkdtempSync(join(tmpdir(), 'iquery-llm-config-'));
    try {
      writeFileSync(join(configured, 'config.yaml'), 'llm:\n  provider: vllm\n  model: Qwen/Qwen2.5-7B-Instruct\n  tool_calling: native\n');
      const settings = resolveLlmSettings({}, { IQUERY_HOME: configured });
      assert.deepEqual([settings?.provider, settings?.baseUrl, settings?.model, settings?.toolCalling], ['vllm', 'http://127.0.0.1:8000/v1', 'Qwen/Qwen2.5-7B-Instruct', 'native']);
      writeFileSync(join(configured, 'config.yaml'), 'llm:\n  provider: vllm\n  tool_calling: sometimes\n');
      const error = failure(() => readConfig(configured), 'config_invalid');
      assert.match(error.message, /llm\.tool_calling/);
      assert.match(error.hint ?? '', /tool_calling \(auto, native, text\)/);
    } finally {
      rmSync(configured, { recursive: true, force: true });
    }
  });
});

describe('describeLlm', () => {
  test('provider, model and base URL, never the key', () => {
    const settings = resolve({ llmProvider: 'deepseek', llmApiKey: 'sk-secret-123456' });
    assert.ok(settings !== undefined);
    const described = describeLlm(settings);
    assert.equal(described, 'deepseek · deepseek-chat at https://api.deepseek.com/v1');
    assert.ok(!described.includes('sk-secret'));
  });
});
