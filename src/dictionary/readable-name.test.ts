import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readableName, splitName } from './readable-name.js';

test('splits camelCase, PascalCase, snake_case, kebab-case, acronyms and digits', () => {
  const cases: [string, string][] = [
    ['MonthlyCharges', 'monthly charges'],
    ['customerID', 'customer id'],
    ['CustomerId', 'customer id'],
    ['paid_late', 'paid late'],
    ['user-bills', 'user bills'],
    ['StreamingTV', 'streaming tv'],
    ['HTTPServer', 'http server'],
    ['address2', 'address 2'],
    ['SeniorCitizen', 'senior citizen'],
    ['ORDER_TOTAL', 'order total'],
    ['  spaced  name ', 'spaced name'],
    ['Bank transfer (automatic)', 'bank transfer automatic'],
    ['tenure', 'tenure'],
  ];
  for (const [name, expected] of cases) assert.equal(readableName(name), expected, name);
});

test('keeps runs of Chinese whole', () => {
  assert.deepEqual(splitName('客户ID'), ['客户', 'id']);
  assert.deepEqual(splitName('月费_USD'), ['月费', 'usd']);
});

test('a name of separators only has no words', () => {
  assert.deepEqual(splitName('__'), []);
  assert.equal(readableName(''), '');
});
