import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeReport } from './render-report.js';
import type { Report } from './report.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-render-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const hostile = '</td><script>alert(1)</script><img src=https://example.com/x.png>';

function report(overrides: Partial<Report> = {}): Report {
  return {
    version: 1,
    title: `Sales ${hostile}`,
    language: 'en',
    question: `Sales by region? ${hostile}`,
    createdAt: '2026-11-21T08:00:00.000Z',
    analyst: 'agent',
    model: 'custom · m1',
    session: 's1',
    data: { source: '/data/shop', dialect: 'duckdb', inputs: [{ table: 'orders', rows: 5, exact: true, hash: 'a'.repeat(64) }], filters: ["region <> 'x'"], metrics: [], dictionaryVersion: 'abc123' },
    plan: ['Sum the amounts by region.'],
    steps: [
      {
        index: 1,
        tool: 'run_sql',
        language: 'sql',
        code: "SELECT region, SUM(amount) AS revenue FROM orders WHERE region <> 'x' GROUP BY region -- ```",
        stage: 'analysis',
        status: 'ok',
        summary: '2 rows',
        result: { columns: ['region', 'revenue'], rowCount: 2, truncated: false, hash: 'b'.repeat(64), rows: [[hostile, 29], ['north|south', 17.75]] },
        figures: [],
      },
    ],
    findings: [{ text: `South leads with 29, north has 17.75 and the rest 40 ${hostile}.`, step: 1, chart: { type: 'bar', title: hostile, columns: ['region', 'revenue'], rows: [[hostile, 29], ['north', 17.75]] } }],
    answer: 'South leads.',
    methodNotes: ['Ran read-only.'],
    limitations: ['Association, not cause.'],
    nextSteps: ['Look at months.'],
    numbers: { checked: 3, unsupported: ['40'] },
    ...overrides,
  };
}

test('text from the data and the model is escaped everywhere in the HTML; nothing is fetched', async () => {
  const target = join(folder, 'escaped');
  const rendered = await writeReport(report(), target, { formats: ['html'] });
  assert.deepEqual(rendered.files.map((file) => file.format), ['json', 'html']);
  const html = readFileSync(join(target, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img src=https/);
  assert.match(html, /<td>&lt;\/td&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /<title>Sales &lt;\/td&gt;/);
  assert.match(html, /<mark class="unsupported"[^>]*>40 ⚠<\/mark>/);
  // 29 and 17.75 are supported and stay plain.
  assert.doesNotMatch(html, /<mark[^>]*>29/);
  // The code is shown exactly, escaped once.
  assert.match(html, /WHERE region &lt;&gt; &#39;x&#39; GROUP BY region -- ```<\/code>/);
});

test('Markdown: cells cannot break the table, code fences outlast backticks in the code, unsupported numbers are marked', async () => {
  const target = join(folder, 'markdown');
  await writeReport(report(), target, { formats: ['markdown'] });
  const markdown = readFileSync(join(target, 'report.md'), 'utf8');
  assert.match(markdown, /\| north\\\|south \| 17\.75 \|/);
  assert.match(markdown, /````sql\nSELECT[^\n]*-- ```\n````/);
  assert.match(markdown, /the rest \*\*40\*\*⚠/);
  assert.match(markdown, /> \*\*Answer:\*\* South leads\./);
  assert.ok(existsSync(join(target, 'charts', 'chart-1.png')));
  assert.equal(existsSync(join(target, 'report.html')), false);
});

test('without Chromium the PDF is a warning that says what to do, and the other files are written', async () => {
  const target = join(folder, 'no-chromium');
  const rendered = await writeReport(report(), target, { chromium: join(folder, 'no-such-chromium') });
  assert.deepEqual(rendered.files.map((file) => file.format), ['json', 'markdown', 'html']);
  assert.equal(rendered.warnings.length, 1);
  assert.match(rendered.warnings[0] ?? '', /^no PDF: /);
  assert.equal(existsSync(join(target, 'report.pdf')), false);
  const previous = process.env['IQUERY_CHROMIUM'];
  process.env['IQUERY_CHROMIUM'] = join(folder, 'no-such-chromium');
  try {
    const again = await writeReport(report(), join(folder, 'no-chromium-2'));
    assert.match(again.warnings.join('\n'), /Chromium was not found \(install it with `apt-get install chromium`, or set IQUERY_CHROMIUM\)/);
  } finally {
    if (previous === undefined) delete process.env['IQUERY_CHROMIUM'];
    else process.env['IQUERY_CHROMIUM'] = previous;
  }
});

test('a Chinese report has Chinese sections and the report.json round-trips', async () => {
  const target = join(folder, 'zh');
  const original = report({ language: 'zh', title: '各地区销售额', question: '各地区销售额', findings: [{ text: '华南最高，为 29。' }], numbers: { checked: 1, unsupported: [] } });
  await writeReport(original, target, { formats: ['markdown'] });
  assert.deepEqual(JSON.parse(readFileSync(join(target, 'report.json'), 'utf8')), original);
  const markdown = readFileSync(join(target, 'report.md'), 'utf8');
  assert.match(markdown, /^## 发现$/m);
  assert.match(markdown, /^## 附录：如何复现$/m);
  assert.match(markdown, /发现中检查的 1 个数字都与结果一致/);
});
