/**
 * The offline analyst on the demo data: each answer is checked against SQL written by hand for the
 * same question, run on the same database, so a test fails when the number is wrong, not only when
 * the SQL text changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AskResult } from './analyst.js';
import { sameResult } from './eval/compare-results.js';
import { openDemoAnalyst, type DemoAnalyst } from './testing/demo-analyst.js';

let demo: DemoAnalyst;
before(async () => {
  demo = await openDemoAnalyst();
});
after(async () => {
  await demo?.close();
});

async function expectSame(question: string, sql: string, ordered = false): Promise<AskResult> {
  const result = await demo.analyst.ask(question);
  assert.equal(result.status, 'answered', `${question}: ${result.answer}`);
  const reference = await demo.source.query(sql, { maxRows: 10_000 });
  const same = sameResult({ columns: reference.columns.map((column) => column.name), rows: reference.rows }, { columns: result.columns, rows: result.rows }, ordered);
  assert.ok(same, `${question}\n  got ${JSON.stringify(result.rows.slice(0, 4))} from ${result.sql}\n  expected ${JSON.stringify(reference.rows.slice(0, 4))}`);
  return result;
}

describe('answers match hand-written SQL', () => {
  test('a metric by a category, in Chinese and in English', async () => {
    const sql = `SELECT p.Contract, AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) FROM user_payments p JOIN user_churn c USING (customerID) GROUP BY 1`;
    await expectSame('各合同类型的流失率', sql);
    await expectSame('What is the churn rate by contract type?', sql);
  });

  test('filters through value synonyms, numeric comparisons with units, and null checks', async () => {
    await expectSame('女性用户的平均月费', `SELECT AVG(p.MonthlyCharges) FROM user_payments p JOIN user_demographics d USING (customerID) WHERE d.gender = 'Female'`);
    await expectSame('月费超过80的用户有多少', `SELECT COUNT(*) FROM user_payments WHERE MonthlyCharges > 80`);
    await expectSame('churn rate for customers with 4 or more years of tenure', `SELECT AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) FROM user_churn c JOIN user_services s USING (customerID) WHERE s.tenure >= 48`);
    await expectSame('How many customers have a tenure between 20 and 50 months?', `SELECT COUNT(*) FROM user_services WHERE tenure BETWEEN 20 AND 50`);
    await expectSame('总费用为空的用户有多少', `SELECT COUNT(*) FROM user_payments WHERE TotalCharges IS NULL`);
  });

  test('shares: of a condition, within a population, and of each group', async () => {
    await expectSame('what percentage of customers use fiber', `SELECT AVG(CASE WHEN InternetService = 'Fiber optic' THEN 1.0 ELSE 0.0 END) FROM user_services`);
    await expectSame(
      '流失的用户里女性占多少比例？',
      `SELECT AVG(CASE WHEN d.gender = 'Female' THEN 1.0 ELSE 0.0 END) FROM user_demographics d JOIN user_churn c USING (customerID) WHERE c.Churn = 'Yes'`,
    );
    await expectSame('各合同类型的用户占比', `SELECT Contract, COUNT(*) * 1.0 / SUM(COUNT(*)) OVER () FROM user_payments GROUP BY 1`);
  });

  test('bins, two dimensions, comparisons of values, and a category named without a grouping word', async () => {
    await expectSame('按在网时长每12个月分组的用户数', `SELECT FLOOR(tenure / 12) * 12, COUNT(*) FROM user_services GROUP BY 1`);
    await expectSame('按性别和合同类型的流失率', `SELECT d.gender, p.Contract, AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) FROM user_demographics d JOIN user_payments p USING (customerID) JOIN user_churn c USING (customerID) GROUP BY 1, 2`);
    await expectSame('老年和非老年用户的流失率对比', `SELECT d.SeniorCitizen, AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) FROM user_demographics d JOIN user_churn c USING (customerID) GROUP BY 1`);
    await expectSame('支付方式的流失率', `SELECT p.PaymentMethod, AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) FROM user_payments p JOIN user_churn c USING (customerID) GROUP BY 1`);
  });

  test('time windows, grains and year over year, relative to the given today', async () => {
    await expectSame('过去3个月的总收入', `SELECT SUM(amount) FROM user_bills WHERE bill_month >= DATE '2026-08-01' AND bill_month < DATE '2026-11-01'`);
    await expectSame('last year\u2019s late payment rate', `SELECT AVG(CASE WHEN paid_late THEN 1.0 ELSE 0.0 END) FROM user_bills WHERE bill_month >= DATE '2025-01-01' AND bill_month < DATE '2026-01-01'`);
    await expectSame('2025年按季度的收入', `SELECT CAST(date_trunc('quarter', bill_month) AS DATE), SUM(amount) FROM user_bills WHERE year(bill_month) = 2025 GROUP BY 1`);
    await expectSame(
      '2026年9月收入的同比增长率',
      `SELECT SUM(amount) FILTER (WHERE bill_month = DATE '2026-09-01') / SUM(amount) FILTER (WHERE bill_month = DATE '2025-09-01') - 1 FROM user_bills`,
    );
  });

  test('top N with its order, and a bill-level filter kept on the same bills', async () => {
    await expectSame(
      '流失率最高的3种支付方式',
      `SELECT p.PaymentMethod, AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) AS r FROM user_payments p JOIN user_churn c USING (customerID) GROUP BY 1 ORDER BY r DESC LIMIT 3`,
      true,
    );
    await expectSame('2023年有多少客户至少逾期过一次？', `SELECT COUNT(DISTINCT customerID) FROM user_bills WHERE paid_late AND year(bill_month) = 2023`);
  });

  test('data quality, distinct values, histogram and correlation', async () => {
    await expectSame('How many missing values does TotalCharges have?', `SELECT COUNT(*) - COUNT(TotalCharges) FROM user_payments`);
    await expectSame('支付方式有哪些', `SELECT DISTINCT PaymentMethod FROM user_payments`);
    await expectSame('月费的分布，每20美元一档', `SELECT FLOOR(MonthlyCharges / 20) * 20, COUNT(*) FROM user_payments GROUP BY 1`);
    await expectSame('在网时长和月费的相关系数', `SELECT corr(s.tenure, p.MonthlyCharges) FROM user_services s JOIN user_payments p USING (customerID)`);
  });
});

describe('the answer, the chart and the plan', () => {
  test('rates are stated as percents, money with its unit, in the question\u2019s language', async () => {
    const rate = await demo.analyst.ask('老年用户的流失率是多少？');
    assert.equal(rate.language, 'zh');
    assert.match(rate.answer, /流失率为 ?\d+\.\d%/);
    const money = await demo.analyst.ask('What is the average monthly charge of female customers?');
    assert.equal(money.language, 'en');
    assert.match(money.answer, /\$\d+\.\d\d/);
  });

  test('the chart fits the shape: a line over time, bars for categories, a pie for a few shares, a number alone', async () => {
    assert.equal((await demo.analyst.ask('按月的收入趋势')).chart?.type, 'line');
    assert.equal((await demo.analyst.ask('各支付方式的流失率')).chart?.type, 'bar');
    assert.equal((await demo.analyst.ask('各合同类型的用户占比')).chart?.type, 'pie');
    assert.equal((await demo.analyst.ask('整体流失率是多少')).chart?.type, 'number');
    const histogram = await demo.analyst.ask('monthly charges histogram');
    assert.equal(histogram.chart?.type, 'histogram');
    const scatter = await demo.analyst.ask('correlation between tenure and monthly charges');
    assert.equal(scatter.chart?.type, 'scatter');
    assert.ok((scatter.chart?.points?.length ?? 0) > 100);
  });

  test('the plan names the measure, the grouping and the filters', async () => {
    const result = await demo.analyst.ask('女性用户各合同类型的流失率');
    assert.deepEqual(result.plan?.['measures'], [expect('churn_rate')]);
    assert.deepEqual((result.plan?.['dimensions'] as { column: string }[]).map((dimension) => dimension.column), ['Contract']);
    assert.deepEqual(result.plan?.['filters'], [{ table: 'user_demographics', column: 'gender', op: 'in', values: ['Female'] }]);
  });
});

function expect(metric: string): Record<string, unknown> {
  return { name: metric, label: '流失率', metric, sql: "AVG(CASE WHEN user_churn.Churn = 'Yes' THEN 1.0 ELSE 0.0 END)" };
}

describe('follow-ups reuse the previous question', () => {
  test('a new grouping, a narrower population, a chart change', async () => {
    const first = await demo.analyst.ask('各合同类型的流失率');
    const byGender = await demo.analyst.ask('and by gender?', { previous: first.plan });
    assert.deepEqual(byGender.columns.length, 2);
    assert.equal((byGender.plan?.['dimensions'] as { column: string }[])[0]?.column, 'gender');
    const seniors = await demo.analyst.ask('那只看老年用户呢?', { previous: first.plan });
    const reference = await demo.source.query(
      `SELECT p.Contract, AVG(CASE WHEN c.Churn = 'Yes' THEN 1.0 ELSE 0.0 END) FROM user_payments p JOIN user_churn c USING (customerID) JOIN user_demographics d USING (customerID) WHERE d.SeniorCitizen = 1 GROUP BY 1`,
    );
    assert.ok(sameResult({ columns: ['a', 'b'], rows: reference.rows }, { columns: seniors.columns, rows: seniors.rows }, false), JSON.stringify(seniors.rows));
    const bars = await demo.analyst.ask('换成柱状图', { previous: seniors.plan });
    assert.equal(bars.chart?.type, 'bar');
    assert.deepEqual(bars.rows, seniors.rows);
  });
});

describe('abstaining instead of guessing', () => {
  for (const question of ['明天天气怎么样', 'What is our profit margin?', '各省份的用户数', 'How satisfied are our employees?']) {
    test(question, async () => {
      const result = await demo.analyst.ask(question);
      assert.equal(result.status, 'abstained', result.sql ?? '');
      assert.equal(result.sql, null);
      assert.ok(result.suggestion !== undefined && result.suggestion.length > 0);
      assert.ok(result.answer.length > 0);
    });
  }

  test('an abstention says what was understood and what was not', async () => {
    const result = await demo.analyst.ask('各省份的流失率');
    assert.equal(result.status, 'abstained');
    assert.deepEqual(result.unmapped, ['省份']);
    assert.ok(result.understood?.some((item) => item.includes('churn_rate')));
  });

  test('a period the data does not cover is not answered as zero', async () => {
    const result = await demo.analyst.ask('上周每天的收入是多少？');
    assert.equal(result.status, 'abstained');
    assert.match(result.answer, /2020-11-01/);
  });
});
