import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkNumbers, numbersIn } from './check-numbers.js';

const churnByContract = {
  columns: ['Contract', 'customers', 'churn_rate'],
  rows: [
    ['Month-to-month', 3875, 0.427096774],
    ['One year', 1473, 0.112695179],
    ['Two year', 1695, 0.028318584],
  ],
};

test('numbers are read as written: separators, decimals, percent, Chinese and English units; dates and code are skipped', () => {
  const found = numbersIn('Revenue was 1,234.5 (up 12.5%), 3.2万 users, 1.5 million visits, -4 points on 2023-04-01, see `LIMIT 500`.');
  assert.deepEqual(
    found.map((number) => [number.text, number.value, number.percent]),
    [
      ['1,234.5', 1234.5, false],
      ['12.5%', 12.5, true],
      ['3.2万', 32000, false],
      ['1.5 million', 1500000, false],
      ['-4', -4, false],
    ],
  );
  assert.equal(found[0]?.step, 0.1);
  assert.equal(found[2]?.step, 1000);
});

test('a number matches a result at the precision it is written with, percent against fractions', () => {
  const text = 'Month-to-month customers (3,875) churn at 42.7%, against 11.3% on one-year and 2.8% on two-year contracts.';
  const result = checkNumbers(text, [churnByContract]);
  assert.equal(result.checked, 4);
  assert.deepEqual(result.unsupported, []);
});

test('a number no result supports is flagged, as written, with where it stands', () => {
  const text = '月付合同的流失率为 45.2%，两年合同为 2.8%，共 7,043 位客户。';
  const result = checkNumbers(text, [churnByContract]);
  assert.deepEqual(result.unsupported, ['45.2%']);
  const flagged = result.occurrences.find((occurrence) => !occurrence.supported);
  assert.equal(text.slice(flagged?.start, flagged?.end), '45.2%');
  // 7,043 is the total of the customers column: a derived figure, supported.
  assert.ok(result.occurrences.find((occurrence) => occurrence.text === '7,043')?.supported);
});

test('derived figures are supported: differences, ratios, relative change, shares, and percentage points', () => {
  const text = 'Month-to-month churn is 31.4 percentage points above one-year, 15.1 times the two-year rate, and those customers are 55.0% of all.';
  const result = checkNumbers(text, [churnByContract]);
  assert.deepEqual(result.unsupported, []);
  assert.equal(result.checked, 3);
});

test('rounding is honoured but a wrong digit is not: 42.7%, 42.71% and 43% pass, 42.8% and 41.9% fail', () => {
  assert.deepEqual(checkNumbers('42.7%, 42.71% and 43%', [churnByContract]).unsupported, []);
  assert.deepEqual(checkNumbers('42.8% and 41.9%', [churnByContract]).unsupported, ['42.8%', '41.9%']);
});

test('small counts and numbers the question or code gave are not checked; printed outputs support numbers', () => {
  const result = checkNumbers('In 2023 the top 5 regions made 98,765 yuan; the model explains 0.83 of the variance.', [], {
    given: ['Top 5 regions by sales in 2023'],
    outputs: ['R^2 = 0.8312\nsales 98765.0'],
  });
  assert.equal(result.checked, 2);
  assert.deepEqual(result.unsupported, []);
});

test('numeric text cells (MySQL decimals) and labels support numbers', () => {
  const result = checkNumbers('Revenue in 2024 was 1,520.25 for the 18-24 band.', [{ columns: ['band', 'year', 'revenue'], rows: [['18-24', '2024-01-01', '1520.250']] }]);
  assert.deepEqual(result.unsupported, []);
});
