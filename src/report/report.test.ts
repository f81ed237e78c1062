/**
 * Reports end to end, through the real `bin/iquery`: `ask --report` with the offline analyst (Chinese
 * and English, one question and a batch) and with the agent (a scripted model over real HTTP, real
 * DuckDB, the real sandbox), then `rerun` on what was written. Every format is checked for what a
 * reader relies on: the sections, the numbers, the charts, self-containment, and the flagged numbers.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runIqueryAsync, stackLine, type Run } from '../cli/testing/run-iquery.js';
import { ScriptedModelServer, type ScriptedReply } from '../llm/testing/scripted-model-server.js';
import { findChromium } from './render-report.js';
import type { Report } from './report.js';
import { hashResult } from './result-hash.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-report-'));
const servers: ScriptedModelServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
  rmSync(folder, { recursive: true, force: true });
});

const data = join(folder, 'shop');
mkdirSync(data);
const orders = ['id,region,product,amount', '1,east,tea,3', '2,north,tea,10.5', '3,north,coffee,7.25', '4,south,coffee,20', '5,south,juice,9'];
writeFileSync(join(data, 'orders.csv'), orders.join('\n') + '\n');
const dictionary = join(folder, 'shop.dictionary.yaml');
writeFileSync(
  dictionary,
  `name: shop
tables:
  orders:
    description: 订单 / orders
    primary_key: [id]
    columns:
      id: {description: order id}
      region: {description: 地区 / region, values: {east: [华东], north: [华北], south: [华南]}}
      product: {description: 产品 / product}
      amount: {description: 金额 / amount, unit: CNY}
metrics:
  revenue:
    label: 销售额
    synonyms: [revenue, sales]
    sql: SUM(orders.amount)
`,
);

const home = mkdtempSync(join(folder, 'home-'));
const noPdf = findChromium() === undefined ? 'no Chromium on this machine: `npm run setup` installs Debian\'s chromium package' : false;

function iquery(args: readonly string[], environment: Record<string, string> = {}): Promise<Run> {
  return runIqueryAsync(home, args, { environment });
}

function lastJson(run: Run): Record<string, any> {
  assert.ok(run.stdout.trim() !== '', `no output; stderr: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as Record<string, any>;
}

function readReport(reportFolder: string): Report {
  return JSON.parse(readFileSync(join(reportFolder, 'report.json'), 'utf8')) as Report;
}

/** The HTML fetches nothing: no script, no external source, link or stylesheet import. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /(?:src|href)\s*=\s*["']?(?:https?:|\/\/|file:)/i);
  assert.doesNotMatch(html, /url\(\s*["']?(?:https?:|\/\/)/i);
  assert.doesNotMatch(html, /@import/i);
}

describe('ask --report with the offline analyst', () => {
  test('a Chinese question: report.json, Markdown with a PNG chart, self-contained HTML with an inline SVG, and a PDF', async () => {
    const target = join(folder, 'zh-report');
    const run = await iquery(['ask', '--json', '--data', data, '--dict', dictionary, '--report', target, '各地区的销售额']);
    assert.equal(run.status, 0, run.stderr);
    const result = lastJson(run);
    assert.equal(result['status'], 'answered');
    assert.equal(result['report'].folder, target);
    assert.deepEqual(result['report'].warnings, []);

    const report = readReport(target);
    assert.equal(report.language, 'zh');
    assert.equal(report.analyst, 'offline');
    assert.equal(report.question, '各地区的销售额');
    assert.equal(report.data.spec, data);
    assert.deepEqual(report.data.inputs.map((input) => [input.table, input.rows, input.exact]), [['orders', 5, true]]);
    assert.match(report.data.inputs[0]?.hash ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(report.data.metrics.map((metric) => metric.name), ['revenue']);
    assert.equal(report.steps.length, 1);
    const step = report.steps[0]!;
    assert.equal(step.code, result['sql']);
    assert.deepEqual(step.result?.rows, result['rows']);
    // The fingerprint is the hash of exactly the rows the answer shows.
    assert.equal(step.result?.hash, hashResult(result['columns'], result['rows']));
    assert.deepEqual(report.numbers.unsupported, []);
    assert.ok(report.numbers.checked >= 3, `numbers checked: ${report.numbers.checked}`);

    const markdown = readFileSync(join(target, 'report.md'), 'utf8');
    const headings = [...markdown.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    assert.deepEqual(headings, ['问题', '使用的数据', '数据清洗', '数据探索', '发现', '方法说明', '局限', '后续步骤', '附录：如何复现']);
    assert.match(markdown, /\| south \| 29 \|/);
    assert.match(markdown, /`SUM\(orders\.amount\)`/);
    assert.match(markdown, new RegExp(`sha256 ${step.result?.hash}`));
    assert.match(markdown, /```sql\nSELECT/);
    assert.match(markdown, /iquery rerun /);
    const image = /!\[[^\]]*\]\((charts\/chart-1\.png)\)/.exec(markdown)?.[1];
    assert.ok(image !== undefined, 'the Markdown shows its chart');
    const png = readFileSync(join(target, image));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    const html = readFileSync(join(target, 'report.html'), 'utf8');
    assertSelfContained(html);
    assert.match(html, /<html lang="zh-CN">/);
    assert.match(html, /<figure class="chart"[^>]*><svg[\s\S]*?<\/svg><\/figure>/);
    assert.match(html, /<td>south<\/td><td class="number">29<\/td>/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  test('the PDF is printed by headless Chromium', { skip: noPdf }, () => {
    const pdf = readFileSync(join(folder, 'zh-report', 'report.pdf'));
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pdf.length > 10_000, `a PDF of ${pdf.length} bytes is too small to hold the report`);
  });

  test('an English question gets an English report; rates read as percent in its tables', async () => {
    const target = join(folder, 'en-report');
    const run = await iquery(['ask', '--data', data, '--dict', dictionary, '--report', target, "what share of orders does each region have?"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /report: .*report\.html/);
    const markdown = readFileSync(join(target, 'report.md'), 'utf8');
    assert.match(markdown, /^## Data used$/m);
    assert.match(markdown, /^## Appendix: how to reproduce$/m);
    assert.match(markdown, /\| north \| 40\.0% \|/);
    assert.equal(readReport(target).language, 'en');
  });

  test('a batch writes one report per question, q1, q2…; a question the analyst abstains on gets none', async () => {
    const batch = join(folder, 'questions.txt');
    writeFileSync(batch, 'revenue by region\nhow many orders are there?\nwhat is the weather on Mars?\n');
    const target = join(folder, 'batch-report');
    const run = await iquery(['ask', '--json', '--data', data, '--dict', dictionary, '--batch', batch, '--report', target]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readdirSync(target).sort(), ['q1', 'q2']);
    assert.equal(readReport(join(target, 'q2')).steps[0]?.result?.rows[0]?.[0], 5);
  });

  test('a question the analyst does not answer writes no report, and says why', async () => {
    const target = join(folder, 'abstained-report');
    const run = await iquery(['ask', '--data', data, '--dict', dictionary, '--report', target, 'what is the weather on Mars?']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /\(no report: the question was not answered\)/);
    assert.equal(existsSync(target), false);
  });

  test('a folder that cannot be written is a clear error that keeps the answer', async () => {
    const blocker = join(folder, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const run = await iquery(['ask', '--data', data, '--dict', dictionary, '--report', join(blocker, 'report'), 'revenue by region']);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /south/);
    assert.match(run.stderr, /report/i);
    assert.doesNotMatch(run.stderr, stackLine);
  });
});

async function scripted(script: ScriptedReply[]): Promise<ScriptedModelServer> {
  const server = await ScriptedModelServer.start(script);
  servers.push(server);
  return server;
}

const call = (name: string, args: Record<string, unknown>): ScriptedReply => ({ kind: 'tool_calls', calls: [{ name, arguments: args }] });

describe('reports of the agent, written by a scripted model', () => {
  test('cleaning, exploration and analysis steps; the Python figure; a number no result supports is flagged everywhere', async () => {
    const server = await scripted([
      { kind: 'tool_calls', text: 'Plan:\n1. Look at the orders.\n2. Clean the amounts.\n3. Sum revenue by region.', calls: [{ name: 'run_sql', arguments: { sql: 'SELECT COUNT(*) AS orders, COUNT(DISTINCT region) AS regions FROM orders' } }] },
      call('load_data', { sql: 'SELECT region, amount FROM orders', name: 'sales' }),
      call('run_python', { code: 'sales = sales.dropna()\nsales["amount"] = sales["amount"].astype(float)\nprint(len(sales))' }),
      call('run_python', { code: 'import matplotlib.pyplot as plt\nsales.groupby("region")["amount"].sum().plot(kind="bar")\nprint(sales["amount"].mean())' }),
      call('run_sql', { sql: "SELECT region, SUM(amount) AS revenue FROM orders WHERE amount > 0 GROUP BY region ORDER BY region" }),
      call('show_chart', { spec: { type: 'bar', title: 'Revenue by region', x: 'region', y: 'revenue' } }),
      { kind: 'text', text: 'South leads with 29 CNY of revenue, north follows with 17.75, and east has 3. The average order is 9.95 CNY.\n\nSouth alone is 58.3% of all revenue, and revenue will reach 120 next quarter <script>alert(1)</script>.' },
    ]);
    const target = join(folder, 'agent-report');
    const run = await iquery(['ask', '--json', '-y', '--data', data, '--dict', dictionary, '--llm-base-url', server.baseUrl, '--llm-model', 'scripted-1', '--session', 'r1', '--report', target, 'Which region brings the most revenue?'], { IQUERY_LLM_API_KEY: 'sk-test-report-secret' });
    assert.equal(run.status, 0, run.stderr);
    const result = lastJson(run);
    assert.equal(result['status'], 'answered');
    // 58.3% is south's share of the total (29 / 49.75), 9.95 the mean Python printed; 120 is invented.
    assert.deepEqual(result['numbers'].unsupported, ['120']);

    const report = readReport(target);
    assert.equal(report.analyst, 'agent');
    assert.equal(report.session, 'r1');
    assert.deepEqual(report.plan, ['Look at the orders.', 'Clean the amounts.', 'Sum revenue by region.']);
    assert.deepEqual(
      report.steps.map((step) => [step.tool, step.stage, step.status]),
      [
        ['run_sql', 'exploration', 'ok'],
        ['load_data', 'exploration', 'ok'],
        ['run_python', 'cleaning', 'ok'],
        ['run_python', 'analysis', 'ok'],
        ['run_sql', 'analysis', 'ok'],
      ],
    );
    assert.equal(report.steps[1]?.frame, 'sales');
    assert.deepEqual(report.data.filters, ['amount > 0']);
    assert.deepEqual(report.numbers.unsupported, ['120']);
    assert.equal(report.steps[3]?.figures.length, 1);
    assert.ok(JSON.stringify(report).includes('sk-test-report-secret') === false);

    const markdown = readFileSync(join(target, 'report.md'), 'utf8');
    assert.match(markdown, /reach \*\*120\*\*⚠/);
    assert.match(markdown, /Numbers no result supports: 120\./);
    assert.match(markdown, /!\[Figure · Step 4\]\(figures\/step-4-[^)]+\.png\)/);
    assert.match(markdown, /## Cleaning\n\n- Step 3:/);
    const figure = /\((figures\/step-4-[^)]+\.png)\)/.exec(markdown)?.[1] ?? '';
    assert.ok(existsSync(join(target, figure)), figure);

    const html = readFileSync(join(target, 'report.html'), 'utf8');
    assertSelfContained(html);
    assert.match(html, /<mark class="unsupported"[^>]*>120 ⚠<\/mark>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /<img src="data:image\/png;base64,/);
    assert.match(html, /<figure class="chart"[^>]*><svg/);
    assert.doesNotMatch(html, /sk-test-report-secret/);
  });

  test('the write_report tool: the model asks for the report and is told which numbers were flagged', async () => {
    const server = await scripted([
      call('run_sql', { sql: 'SELECT product, SUM(amount) AS revenue FROM orders GROUP BY product ORDER BY revenue DESC' }),
      call('write_report', { title: 'Revenue by product', summary: 'Coffee sells most, 27.25 CNY, ahead of tea at 13.5 and juice at 9.5.' }),
      { kind: 'text', text: 'Coffee sells most (27.25 CNY). The report is written.' },
    ]);
    const run = await iquery(['ask', '--json', '-y', '--data', data, '--dict', dictionary, '--llm-base-url', server.baseUrl, '--llm-model', 'scripted-1', '--session', 'r2', 'Which product sells most? Write a report.'], { IQUERY_LLM_API_KEY: 'sk-test-report-secret' });
    assert.equal(run.status, 0, run.stderr);
    const toolReply = (server.requests.at(-1)?.body as { messages: { role: string; content: string }[] }).messages.filter((message) => message.role === 'tool').at(-1)?.content ?? '';
    // Juice made 9 CNY, not 9.5: the model is told so through the tool's result.
    assert.match(toolReply, /9\.5/);
    assert.match(toolReply, /unsupported/i);
    const reports = join(home, 'agent', 'r2', 'reports');
    const [written] = readdirSync(reports);
    const report = readReport(join(reports, written ?? ''));
    assert.equal(report.title, 'Revenue by product');
    assert.deepEqual(report.numbers.unsupported, ['9.5']);
    assert.match(readFileSync(join(reports, written ?? '', 'report.md'), 'utf8'), /^# Revenue by product$/m);
  });

  test('rerun of the agent report: the same numbers, and its Python steps run again in the sandbox', async () => {
    const run = await iquery(['rerun', '--json', join(folder, 'agent-report')]);
    assert.equal(run.status, 0, run.stderr);
    const rerun = lastJson(run);
    assert.equal(rerun['changedNumbers'], 0);
    assert.deepEqual(
      rerun['steps'].map((step: { status: string }) => step.status),
      ['same', 'same', 'same', 'same', 'same'],
    );
    assert.equal(rerun['steps'][3].python.status, 'ok');
  });
});
