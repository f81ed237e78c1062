import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoAnalyses } from './analyses.js';
import { withDatabase } from './demo-test-database.js';
import { generateDemoDatabase } from './generate.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-demo-analyses-'));
const path = join(folder, 'telco.duckdb');

before(async () => {
  await generateDemoDatabase({ path, scale: 0.2, seed: 42 });
});

after(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('demoAnalyses', () => {
  it('has 6 to 8 analyses with unique kebab-case ids and Chinese / English titles', () => {
    assert.ok(demoAnalyses.length >= 6 && demoAnalyses.length <= 8);
    assert.equal(new Set(demoAnalyses.map((analysis) => analysis.id)).size, demoAnalyses.length);
    for (const analysis of demoAnalyses) {
      assert.match(analysis.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.match(analysis.title, /^\p{Script=Han}.* \/ [A-Z][\x20-\x7e]+$/u, analysis.title);
    }
  });

  it('are single read-only SELECT or WITH statements', () => {
    for (const analysis of demoAnalyses) {
      assert.match(analysis.sql.trimStart(), /^(SELECT|WITH)\b/i, analysis.id);
      assert.doesNotMatch(analysis.sql, /;/, analysis.id);
    }
  });

  it('run on the demo database and return rows', async () => {
    await withDatabase(path, async (run) => {
      for (const analysis of demoAnalyses) {
        const rows = await run(analysis.sql);
        assert.ok(rows.length > 0, `${analysis.id} returned no rows`);
      }
    });
  });

  it('cover the last six bill months, ending in the snapshot month', async () => {
    const analysis = demoAnalyses.find((candidate) => candidate.id === 'revenue-last-6-months');
    assert.ok(analysis);
    const rows = await withDatabase(path, (run) => run(analysis.sql));
    assert.deepEqual(
      rows.map((row) => row['bill_month']),
      ['2026-05-01', '2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01', '2026-10-01'],
    );
  });
});
