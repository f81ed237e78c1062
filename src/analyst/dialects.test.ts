/**
 * The offline analyst writes SQL for the source's dialect. The demo data is copied into MariaDB and
 * PostgreSQL, and the same questions must give the same numbers there as on DuckDB: grouping, joins
 * through the hub table, semi-joins to bills, date truncation, bins, year-over-year and correlation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openSource } from '../sources/open-source.js';
import type { DataSource, SqlValue } from '../sources/source.js';
import { createScratchDatabase, type ScratchDatabase } from '../sources/testing/test-databases.js';
import { OfflineAnalyst } from './analyst.js';
import { sameResult } from './eval/compare-results.js';
import { evalToday, openDemoAnalyst, type DemoAnalyst } from './testing/demo-analyst.js';

const questions = [
  '各合同类型的流失率',
  'What is the average monthly charge of female customers?',
  '按在网时长每12个月分组的用户数',
  '老年和非老年用户的流失率对比',
  '过去3个月的总收入',
  '2025年按季度的收入',
  '2026年9月收入的同比增长率',
  '流失率最高的3种支付方式',
  '2023年有多少客户至少逾期过一次？',
  'what percentage of customers use fiber',
  '各合同类型的用户占比',
  '总费用为空的用户有多少',
  '在网时长和月费的相关系数',
  '支付方式有哪些',
  'How many customers have no bills at all?',
  '按性别和合同类型的流失率',
];

const tableTypes: Record<string, string> = {
  customerID: 'VARCHAR(20)',
  tenure: 'INTEGER',
  SeniorCitizen: 'INTEGER',
  MonthlyCharges: 'DOUBLE PRECISION',
  TotalCharges: 'DOUBLE PRECISION',
  amount: 'DOUBLE PRECISION',
  bill_month: 'DATE',
  paid_late: 'BOOLEAN',
};

function literal(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** Copies every demo table into the scratch database, with keys, in batches. */
async function copyDemo(from: DataSource, to: ScratchDatabase): Promise<void> {
  const quote = (name: string): string => (to.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`);
  for (const table of await from.listTables()) {
    const columns = table.columns.map((column) => `${quote(column.name)} ${tableTypes[column.name] ?? 'VARCHAR(40)'}`);
    const key = table.primaryKey.length > 0 ? `, PRIMARY KEY (${table.primaryKey.map(quote).join(', ')})` : '';
    await to.run(`CREATE TABLE ${quote(table.name)} (${columns.join(', ')}${key})`);
    const result = await from.query(`SELECT * FROM "${table.name}"`, { maxRows: 1_000_000 });
    for (let start = 0; start < result.rows.length; start += 5000) {
      const values = result.rows.slice(start, start + 5000).map((row) => `(${row.map(literal).join(', ')})`);
      await to.run(`INSERT INTO ${quote(table.name)} VALUES ${values.join(', ')}`);
    }
  }
}

let demo: DemoAnalyst;
const expected = new Map<string, { columns: string[]; rows: SqlValue[][] }>();
before(async () => {
  demo = await openDemoAnalyst();
  for (const question of questions) {
    const result = await demo.analyst.ask(question);
    assert.equal(result.status, 'answered', `${question} on DuckDB: ${result.answer}`);
    expected.set(question, { columns: result.columns, rows: result.rows });
  }
});
after(async () => {
  await demo?.close();
});

for (const dialect of ['postgres', 'mysql'] as const) {
  describe(`the same answers on ${dialect}`, () => {
    let scratch: ScratchDatabase;
    let source: DataSource;
    let analyst: OfflineAnalyst;
    before(async () => {
      scratch = await createScratchDatabase(dialect);
      await copyDemo(demo.source, scratch);
      source = await openSource(scratch.spec, { home: demo.folder });
      analyst = await OfflineAnalyst.create(source, demo.dictionary, { today: evalToday });
    });
    after(async () => {
      await source?.close();
      await scratch?.drop();
    });

    for (const question of questions) {
      test(question, async () => {
        const result = await analyst.ask(question, { maxRows: 100_000 });
        assert.equal(result.status, 'answered', `${result.answer}\n${result.sql ?? ''}`);
        const reference = expected.get(question) as { columns: string[]; rows: SqlValue[][] };
        const ordered = question.includes('最高');
        assert.ok(sameResult(reference, { columns: result.columns, rows: result.rows }, ordered), `${result.sql}\n got ${JSON.stringify(result.rows.slice(0, 3))}\n expected ${JSON.stringify(reference.rows.slice(0, 3))}`);
      });
    }

    test('medians: PostgreSQL computes them, the MySQL family is refused with a reason', async () => {
      const result = await analyst.ask('月费的中位数是多少');
      if (dialect === 'postgres') {
        assert.equal(result.status, 'answered', result.answer);
        const duckdb = await demo.analyst.ask('月费的中位数是多少');
        assert.ok(sameResult({ columns: duckdb.columns, rows: duckdb.rows }, { columns: result.columns, rows: result.rows }, false));
      } else {
        assert.equal(result.status, 'abstained');
        assert.match(result.answer, /MySQL/);
      }
    });
  });
}
