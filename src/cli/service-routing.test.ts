/** Which asks the answer service may take: the offline analyst's only, never the agent's. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { serviceEnabled } from './ask-service.js';

const home = mkdtempSync(join(tmpdir(), 'iquery-routing-'));
const saved = { ...process.env };
beforeEach(() => {
  for (const name of ['IQUERY_LLM_BASE_URL', 'IQUERY_LLM_PROVIDER', 'IQUERY_LLM_MODEL', 'IQUERY_ASK_SERVICE']) delete process.env[name];
  process.env['IQUERY_HOME'] = home;
  rmSync(join(home, 'config.yaml'), { force: true });
});
after(() => {
  process.env = saved;
  rmSync(home, { recursive: true, force: true });
});

test('offline asks may use the service', () => {
  assert.equal(serviceEnabled(['ask', 'churn rate']), true);
  writeFileSync(join(home, 'config.yaml'), 'connections: {}\n');
  assert.equal(serviceEnabled(['ask', 'churn rate']), true);
});

test('asks that may reach a model never do: flags, environment, a config llm section, approvals', () => {
  assert.equal(serviceEnabled(['ask', '--llm-provider', 'deepseek', 'q']), false);
  assert.equal(serviceEnabled(['ask', '--session', 's', '--approve']), false);
  process.env['IQUERY_LLM_BASE_URL'] = 'http://127.0.0.1:1/v1';
  assert.equal(serviceEnabled(['ask', 'q']), false);
  assert.equal(serviceEnabled(['ask', '--offline', 'q']), true, '--offline goes to the service even then');
  delete process.env['IQUERY_LLM_BASE_URL'];
  writeFileSync(join(home, 'config.yaml'), 'llm:\n  provider: ollama\n  model: qwen2.5\n');
  assert.equal(serviceEnabled(['ask', 'q']), false);
});

test('standard input and the switch turn it off', () => {
  assert.equal(serviceEnabled(['ask', '--batch', '-']), false);
  process.env['IQUERY_ASK_SERVICE'] = '0';
  assert.equal(serviceEnabled(['ask', 'q']), false);
});
