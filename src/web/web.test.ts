/**
 * The web app end to end: the real `bin/iquery serve` (real DuckDB; the offline analyst, or the agent
 * driven by the scripted model server over real HTTP) serving the built app (`npm run build:web`) to
 * headless Chromium. Screenshots land in test-artifacts/web/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { ScriptedModelServer } from '../llm/testing/scripted-model-server.js';
import { packageRoot } from '../package-root.js';

const chromiumPath = '/usr/bin/chromium';
const builtApp = join(packageRoot(), 'dist', 'web', 'index.html');
const artifacts = join(packageRoot(), 'test-artifacts', 'web');
const noChromium = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}: \`npm run setup\` installs Debian's chromium package`;

const folder = mkdtempSync(join(tmpdir(), 'iquery-web-'));
const servers: ChildProcess[] = [];
const models: ScriptedModelServer[] = [];
let browser: Browser | undefined;

after(async () => {
  await browser?.close();
  await Promise.all(servers.map(stopServer));
  for (const model of models) await model.close();
  rmSync(folder, { recursive: true, force: true });
});

// Fifteen cities with four orders each: "revenue by city" has 15 rows, two pages of the table.
const cities = ['Beijing', 'Shanghai', 'Guangzhou', 'Shenzhen', 'Chengdu', 'Hangzhou', 'Wuhan', 'Xian', 'Nanjing', 'Tianjin', 'Suzhou', 'Chongqing', 'Qingdao', 'Dalian', 'Xiamen'];
const data = join(folder, 'shop');
mkdirSync(data);
writeFileSync(
  join(data, 'orders.csv'),
  ['order_id,city,channel,amount', ...cities.flatMap((city, index) => [0, 1, 2, 3].map((k) => `${index * 4 + k + 1},${city},${k % 2 === 0 ? 'store' : 'online'},${(index + 1) * 10 + k * 3}`))].join('\n') + '\n',
);
const dictionary = join(folder, 'shop.dictionary.yaml');
writeFileSync(
  dictionary,
  `name: shop
tables:
  orders:
    description: 订单 / orders
    primary_key: [order_id]
    columns:
      order_id: {description: order id}
      city: {description: 城市 / city}
      channel: {description: 渠道 / sales channel, values: {online: [线上], store: [门店]}}
      amount: {description: 金额 / order amount, unit: CNY}
metrics:
  revenue:
    label: 销售额
    synonyms: [revenue, sales]
    sql: SUM(orders.amount)
    format: currency
`,
);

/** Starts `iquery serve` with its own home and resolves with the address it prints once it listens. */
async function startServer(extra: readonly string[] = []): Promise<string> {
  const home = mkdtempSync(join(folder, 'home-'));
  // No model unless the test gives one: the machine's own IQUERY_LLM_* settings stay out.
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('IQUERY_LLM_')));
  const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'iquery'), 'serve', '--port', '0', '--data', data, '--dict', dictionary, ...extra], {
    env: { ...environment, IQUERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`iquery serve printed no address within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const address = /Open (https?:\/\/\S+)/.exec(output)?.[1];
      if (address === undefined) return;
      clearTimeout(timer);
      resolve(address);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`iquery serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function openApp(address: string, options: BrowserContextOptions = {}): Promise<Page> {
  browser ??= await chromium.launch({ executablePath: chromiumPath });
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 }, ...options });
  const page = await context.newPage();
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(error.message));
  await page.goto(address);
  await page.locator('.composer').waitFor();
  assert.deepEqual(failures, []);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

async function ask(page: Page, question: string): Promise<void> {
  await page.locator('.question-input').fill(question);
  await page.locator('.question-input').press('Enter');
}

/** In the page (a string: the test's own compiler has no DOM types): the side panel has slid into view. */
const panelOnScreen = "document.querySelector('.side-panel').getBoundingClientRect().left >= 0";

/** The first cell of the table's first row on the page shown. */
const firstCell = (page: Page) => page.locator('.data-table tbody tr').first().locator('td').first();

before(() => {
  if (noChromium === false) assert.ok(existsSync(builtApp), `the web app is not built (${builtApp}): run npm run build:web`);
});

describe('the web app, served by iquery serve, in headless Chromium', { skip: noChromium }, () => {
  let offline: string;
  before(async () => {
    offline = await startServer();
  });

  test('the offline analyst answers: the text, a table that pages, a chart that renders', async () => {
    const page = await openApp(offline);
    await ask(page, 'revenue by city');
    const answer = page.locator('.answer-text').last();
    await answer.waitFor();
    assert.match(await answer.innerText(), /Revenue by city/i);
    await page.locator('.data-table').waitFor();
    assert.equal(await firstCell(page).innerText(), 'Beijing');
    assert.equal(await page.locator('.data-table tbody tr').count(), 10);
    assert.match(await page.locator('.table-footer').innerText(), /Rows 1–10 of 15/);
    // The chart: an echarts canvas with a real size inside the chart container.
    const canvas = page.locator('.chart-canvas canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    assert.ok(box !== null && box.width > 100 && box.height > 100, `chart canvas box ${JSON.stringify(box)}`);
    await screenshot(page, 'offline-answer');
    await page.getByRole('button', { name: 'Next' }).click();
    assert.equal(await firstCell(page).innerText(), 'Suzhou');
    assert.equal(await page.locator('.data-table tbody tr').count(), 5);
    assert.match(await page.locator('.table-footer').innerText(), /Rows 11–15 of 15/);
    await page.locator('.chart').scrollIntoViewIfNeeded();
    await screenshot(page, 'offline-table-page-2');
    // The chat is listed under its question.
    await page.locator('.session-item', { hasText: 'revenue by city' }).waitFor();
    await page.context().close();
  });

  test('the UI switches to Chinese, and a Chinese browser starts in Chinese', async () => {
    const page = await openApp(offline);
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('button', { name: 'English' }).waitFor();
    assert.equal(await page.locator('.question-input').getAttribute('placeholder'), '问一个数据问题…');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByRole('button', { name: '数据字典' }).waitFor();
    await ask(page, '各城市的销售额');
    await page.locator('.table-footer', { hasText: '共 15 行' }).waitFor();
    assert.match(await page.locator('.answer-text').last().innerText(), /销售额/);
    await screenshot(page, 'chinese');
    await page.context().close();

    const chinese = await openApp(offline, { locale: 'zh-CN' });
    await chinese.getByRole('button', { name: '新对话' }).waitFor();
    await chinese.context().close();
  });

  test('on a phone the chat input shows, and the side panel opens from the menu', async () => {
    const viewport = { width: 390, height: 844 };
    const page = await openApp(offline, { viewport, isMobile: true, hasTouch: true });
    const input = await page.locator('.question-input').boundingBox();
    assert.ok(input !== null && input.width > 150 && input.y + input.height <= viewport.height && input.x >= 0, `input box ${JSON.stringify(input)}`);
    const panel = page.locator('.side-panel');
    const hidden = await panel.boundingBox();
    assert.ok(hidden === null || hidden.x + hidden.width <= 0, `the side panel shows on a phone before it is opened: ${JSON.stringify(hidden)}`);
    await screenshot(page, 'phone');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('button', { name: 'Dictionary' }).waitFor();
    await page.waitForFunction(panelOnScreen);
    await screenshot(page, 'phone-menu');
    // Choosing a view closes the panel again.
    await page.getByRole('button', { name: 'Dictionary' }).click();
    await page.locator('.yaml-editor').waitFor();
    await page.waitForFunction(`!(${panelOnScreen})`);
    // An answer fits the phone: the table scrolls inside itself, the chart takes the width.
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    await ask(page, 'revenue by city');
    await page.locator('.chart-canvas canvas').waitFor();
    const chart = await page.locator('.chart').boundingBox();
    assert.ok(chart !== null && chart.x >= 0 && chart.x + chart.width <= viewport.width, `chart box ${JSON.stringify(chart)}`);
    await screenshot(page, 'phone-answer');
    await page.context().close();
  });

  test('an uploaded CSV is what the chat asks about; its report shows and downloads', async () => {
    const page = await openApp(offline);
    await page.locator('.composer input[type=file]').setInputFiles({
      name: 'products.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('product,units\nTea,12\nCoffee,30\nJuice,8\nWater,50\n'),
    });
    await page.locator('.notice', { hasText: 'uploaded as table products' }).waitFor();
    await ask(page, 'total units by product');
    await page.locator('.answer-text', { hasText: 'Water' }).waitFor();
    assert.equal(await firstCell(page).innerText(), 'Coffee');
    await page.getByRole('button', { name: 'Report' }).click();
    // The HTML report, in a frame with no permissions: its title, its result table, its inline chart.
    const report = page.frameLocator('.preview iframe.preview-report');
    await report.locator('h1', { hasText: 'total units by product' }).waitFor();
    await report.getByRole('cell', { name: 'Water' }).waitFor();
    await report.locator('figure.chart svg').waitFor();
    assert.equal(await page.locator('.preview iframe.preview-report').getAttribute('sandbox'), '');
    assert.equal(await page.locator('.files-table td', { hasText: 'uploads/products.csv' }).count(), 1);
    await screenshot(page, 'report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.preview').getByRole('button', { name: 'Download' }).click()]);
    assert.equal(download.suggestedFilename(), 'report.html');
    await page.context().close();
  });

  test('the dictionary editor lists what is wrong, by line, when a save is refused', async () => {
    const page = await openApp(offline);
    await page.getByRole('button', { name: 'Dictionary' }).click();
    const editor = page.locator('.yaml-editor');
    await editor.waitFor();
    assert.match(await editor.inputValue(), /revenue:/);
    await page.locator('.dictionary-table summary', { hasText: 'orders' }).click();
    await page.getByRole('cell', { name: 'channel', exact: true }).waitFor();
    await editor.fill((await editor.inputValue()).replace('format: currency', 'format: money'));
    await page.getByRole('button', { name: 'Save' }).click();
    const problems = page.locator('.problems li');
    await problems.first().waitFor();
    assert.match(await problems.first().innerText(), /line \d+, column \d+: .*format/);
    await screenshot(page, 'dictionary-problems');
    await page.context().close();
  });
});

describe('the web app behind a token', { skip: noChromium }, () => {
  test('the app takes the token from #token= once, and every call carries it', async () => {
    const token = 'web-test-token-5c1e';
    const address = await startServer(['--token', token]);
    const page = await openApp(`${address}#token=${token}`);
    assert.doesNotMatch(page.url(), /token/);
    await ask(page, 'revenue by city');
    await page.locator('.answer-text', { hasText: /revenue by city/i }).waitFor();
    await page.locator('.session-item', { hasText: 'revenue by city' }).waitFor();
    await page.context().close();
  });
});

describe('the web app with the agent, driven by a scripted model over HTTP', { skip: noChromium }, () => {
  test('the model proposes SQL, Approve runs it, the answer and the table appear', async () => {
    const sql = 'SELECT city, SUM(amount) AS revenue FROM orders GROUP BY city ORDER BY city';
    const model = await ScriptedModelServer.start([
      { kind: 'tool_calls', text: 'Plan:\n1. Sum the orders by city.\n2. Name the top city.', calls: [{ name: 'run_sql', arguments: { sql } }] },
      { kind: 'text', text: 'Xiamen has the highest revenue: 642.' },
    ]);
    models.push(model);
    const address = await startServer(['--llm-base-url', model.baseUrl, '--llm-model', 'scripted', '--llm-api-key', 'sk-test-web', '--approval', 'ask']);
    const page = await openApp(address);
    await ask(page, 'Which city has the highest revenue?');
    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.waitFor();
    assert.match(await page.locator('.code-block.awaiting pre').innerText(), /SUM\(amount\)/);
    assert.equal(await page.locator('.data-table').count(), 0, 'a table before the SQL was approved');
    await screenshot(page, 'agent-approval');
    await approve.click();
    await page.locator('.answer-text', { hasText: 'Xiamen has the highest revenue' }).waitFor();
    await page.locator('.data-table').waitFor();
    assert.equal(await firstCell(page).innerText(), 'Beijing');
    assert.match(await page.locator('.table-footer').innerText(), /of 15/);
    assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0);
    assert.equal(model.requests.length, 2);
    await screenshot(page, 'agent-answer');
    await page.context().close();
  });

  test('a figure the Python sandbox saved shows under the answer', async () => {
    const model = await ScriptedModelServer.start([
      { kind: 'tool_calls', calls: [{ name: 'load_data', arguments: { sql: 'SELECT city, amount FROM orders', name: 'orders_df' } }] },
      { kind: 'tool_calls', calls: [{ name: 'run_python', arguments: { code: 'orders_df.groupby("city")["amount"].sum().plot(kind="bar")' } }] },
      { kind: 'text', text: 'The figure shows revenue by city.' },
    ]);
    models.push(model);
    const address = await startServer(['--llm-base-url', model.baseUrl, '--llm-model', 'scripted', '--llm-api-key', 'sk-test-web', '-y']);
    const page = await openApp(address);
    await ask(page, 'Plot revenue by city');
    await page.locator('.answer-text', { hasText: 'The figure shows' }).waitFor({ timeout: 60_000 });
    const figure = page.locator('img.figure');
    await figure.waitFor();
    assert.ok(await figure.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth > 100), 'the figure did not load');
    assert.deepEqual(await page.locator('.code-block .code-language').allInnerTexts(), ['SQL', 'Python']);
    await screenshot(page, 'agent-figure');
    await page.context().close();
  });

  test('notes the model proposes wait under the answer: Remember saves one, Discard drops the other', async () => {
    const model = await ScriptedModelServer.start([
      { kind: 'tool_calls', calls: [{ name: 'remember', arguments: { note: 'Revenue is in CNY.', kind: 'definition' } }] },
      { kind: 'tool_calls', calls: [{ name: 'remember', arguments: { note: 'Ignore Xiamen.', kind: 'preference' } }] },
      { kind: 'text', text: 'Noted, once you confirm.' },
    ]);
    models.push(model);
    const address = await startServer(['--llm-base-url', model.baseUrl, '--llm-model', 'scripted', '--llm-api-key', 'sk-test-web', '-y']);
    const page = await openApp(address);
    await ask(page, 'Remember that revenue is in CNY, and ignore Xiamen');
    await page.locator('.answer-text', { hasText: 'Noted' }).waitFor();
    const proposals = page.locator('.memory-proposal');
    assert.equal(await proposals.count(), 2);
    const pending = (await (await fetch(new URL('api/memory?status=pending', address))).json()) as { notes: { note: string }[] };
    assert.deepEqual(pending.notes.map((note) => note.note), ['Revenue is in CNY.', 'Ignore Xiamen.']);
    await proposals.nth(0).getByRole('button', { name: 'Remember' }).click();
    await proposals.nth(0).getByText('Remembered.').waitFor();
    await proposals.nth(1).getByRole('button', { name: 'Discard' }).click();
    await proposals.nth(1).getByText('Discarded.').waitFor();
    const notes = (await (await fetch(new URL('api/memory', address))).json()) as { notes: { note: string; status: string }[] };
    assert.deepEqual(notes.notes.map((note) => [note.note, note.status]), [['Revenue is in CNY.', 'saved']]);
    await screenshot(page, 'agent-memory');
    await page.context().close();
  });

  test('expert mode: the plan waits in the page, is edited, and the model works to the edited plan', async () => {
    const model = await ScriptedModelServer.start([
      { kind: 'text', text: 'Plan:\n1. Sum revenue by city.\n2. Name the top city.' },
      { kind: 'tool_calls', calls: [{ name: 'run_sql', arguments: { sql: 'SELECT city, SUM(amount) AS revenue FROM orders GROUP BY city ORDER BY revenue DESC' } }] },
      { kind: 'text', text: 'Xiamen leads.' },
    ]);
    models.push(model);
    const address = await startServer(['--llm-base-url', model.baseUrl, '--llm-model', 'scripted', '--llm-api-key', 'sk-test-web', '--mode', 'expert', '--approval', 'auto-sql']);
    const page = await openApp(address);
    await ask(page, 'Which city sells most?');
    const editor = page.locator('.plan-review textarea');
    await editor.waitFor();
    assert.equal(await editor.inputValue(), 'Sum revenue by city.\nName the top city.');
    assert.equal(model.requests.length, 1, 'nothing but the plan before the review');
    await screenshot(page, 'agent-plan-review');
    await editor.fill('Sum revenue by city.\nLeave out refunds.\nName the top city.');
    await page.getByRole('button', { name: 'Run this plan' }).click();
    await page.locator('.answer-text', { hasText: 'Xiamen leads.' }).waitFor();
    await page.locator('.plan-review', { hasText: 'Edited plan accepted.' }).waitFor();
    assert.match(JSON.stringify(model.requests[1]?.body), /Leave out refunds\./);
    await page.context().close();
  });

  test('schema-only: an aggregate waits in the page; Share sends it to the model, Withhold does not', async () => {
    const sql = 'SELECT city, COUNT(*) AS orders FROM orders GROUP BY city ORDER BY city';
    const model = await ScriptedModelServer.start([
      { kind: 'tool_calls', calls: [{ name: 'run_sql', arguments: { sql } }] },
      { kind: 'tool_calls', calls: [{ name: 'run_sql', arguments: { sql: sql.replace('COUNT(*)', 'SUM(amount)').replace('AS orders', 'AS revenue') } }] },
      { kind: 'text', text: 'Counted.' },
    ]);
    models.push(model);
    const address = await startServer(['--llm-base-url', model.baseUrl, '--llm-model', 'scripted', '--llm-api-key', 'sk-test-web', '--schema-only', '--approval', 'auto-sql']);
    const page = await openApp(address);
    await ask(page, 'Orders and revenue by city');
    const first = page.locator('.share-request').nth(0);
    await first.waitFor();
    assert.match(await first.locator('pre').innerText(), /Beijing/);
    await first.getByRole('button', { name: 'Share with the model' }).click();
    const second = page.locator('.share-request').nth(1);
    await second.waitFor();
    await second.getByRole('button', { name: 'Withhold' }).click();
    await page.locator('.answer-text', { hasText: 'Counted.' }).waitFor();
    const tools = (model.requests.at(-1)?.body as { messages: { role: string; content: string }[] }).messages.filter((message) => message.role === 'tool');
    assert.match(tools[0]?.content ?? '', /Beijing/);
    assert.match(tools[1]?.content ?? '', /withheld/);
    assert.doesNotMatch(tools[1]?.content ?? '', /Beijing/);
    await page.context().close();
  });

  test('Edit runs the edited SQL instead', async () => {
    const model = await ScriptedModelServer.start([
      { kind: 'tool_calls', calls: [{ name: 'run_sql', arguments: { sql: 'SELECT city, SUM(amount) AS revenue FROM orders GROUP BY city ORDER BY city' } }] },
      { kind: 'text', text: 'Here is revenue by city, highest first.' },
    ]);
    models.push(model);
    const address = await startServer(['--llm-base-url', model.baseUrl, '--llm-model', 'scripted', '--llm-api-key', 'sk-test-web', '--approval', 'ask']);
    const page = await openApp(address);
    await ask(page, 'Revenue by city, highest first');
    await page.getByRole('button', { name: 'Edit' }).click();
    const editor = page.locator('.code-editor');
    await editor.fill((await editor.inputValue()).replace('ORDER BY city', 'ORDER BY revenue DESC'));
    await page.getByRole('button', { name: 'Run edited code' }).click();
    await page.locator('.answer-text', { hasText: 'highest first' }).waitFor();
    await page.locator('.data-table').waitFor();
    assert.equal(await firstCell(page).innerText(), 'Xiamen');
    assert.match(await page.locator('.code-block pre').first().innerText(), /ORDER BY revenue DESC/);
    await page.context().close();
  });
});
