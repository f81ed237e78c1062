/** `iquery chat` without a model: slash commands, follow-ups, saving and reports, driven through standard input. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runIqueryAsync } from './testing/run-iquery.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-chat-'));
const home = join(folder, 'home');
after(() => rmSync(folder, { recursive: true, force: true }));
const data = join(folder, 'orders.csv');
writeFileSync(data, 'order_id,region,amount\n1,north,10.5\n2,south,20\n3,north,7.25\n4,east,3\n5,south,9\n');
const dictionary = join(folder, 'orders.dictionary.yaml');
writeFileSync(dictionary, 'name: shop\ntables:\n  orders:\n    description: 订单 / orders\n    columns:\n      region: {description: 地区 / region, values: {north: [北区], south: [南区], east: [东区]}}\n      amount: {description: 金额 / amount, unit: CNY}\n');

function chat(input: string, environment: Record<string, string> = {}) {
  return runIqueryAsync(home, ['chat', '--data', data, '--dict', dictionary, '--session', 'c1'], { input, environment });
}

test('slash commands, a follow-up, /save and /report', async () => {
  const csv = join(folder, 'saved.csv');
  const run = await chat(['/help', '/tables', '/dict', '/mode expert', '/nope', 'total amount by region', 'only north', `/save ${csv}`, '/report', '/exit'].join('\n') + '\n');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /\/report \[DIR\] +write the report of the last analysis \(Markdown, HTML, PDF\)/);
  assert.match(run.stdout, /orders +│? *5/);
  assert.match(run.stdout, /region +│? *地区 \/ region/);
  assert.match(run.stderr, /Unknown command \/nope/);
  assert.match(run.stderr, /Modes apply to the agent/);
  assert.match(run.stdout, /17\.75/);
  assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 2, 'the follow-up kept only north');
  assert.match(readFileSync(csv, 'utf8'), /north,17\.75/);
  const reports = readdirSync(join(home, 'agent', 'c1', 'reports'));
  assert.equal(reports.length, 1);
  const report = readFileSync(join(home, 'agent', 'c1', 'reports', reports[0] ?? '', 'report.md'), 'utf8');
  assert.match(report, /only north/);
  assert.match(report, /```sql\nSELECT/);
  assert.ok(existsSync(join(home, 'agent', 'c1', 'reports', reports[0] ?? '', 'report.html')));
  const chart = /\(chart: (.+\.svg)\)/.exec(run.stderr)?.[1];
  assert.ok(chart !== undefined && existsSync(chart), run.stderr);
  assert.match(readFileSync(chart, 'utf8'), /north/);
});

test('the chat speaks Chinese when the locale is Chinese', async () => {
  const run = await chat('/help\n/exit\n', { LANG: 'zh_CN.UTF-8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /列出数据表/);
  assert.match(run.stderr, /离线分析器/);
});

test('input that ends leaves the chat cleanly', async () => {
  const run = await chat('');
  assert.equal(run.status, 0, run.stderr);
  assert.ok(existsSync(home));
});
