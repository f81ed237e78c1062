import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName, editDistance, matchName } from './closest-name.js';

test('edit distance', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('same', 'same'), 0);
});

test('suggests a close name, ignoring case, and nothing for a far one', () => {
  assert.equal(closestName('gendre', ['customerID', 'gender', 'SeniorCitizen']), 'gender');
  assert.equal(closestName('monthlycharge', ['MonthlyCharges', 'TotalCharges']), 'MonthlyCharges');
  assert.equal(closestName('revenue', ['customerID', 'gender']), undefined);
  assert.equal(closestName('x', []), undefined);
});

test('matches exactly, then ignoring case', () => {
  assert.deepEqual(matchName('Churn', ['Churn']), { kind: 'exact', name: 'Churn' });
  assert.deepEqual(matchName('churn', ['Churn']), { kind: 'case', name: 'Churn' });
  assert.deepEqual(matchName('churned', ['Churn']), { kind: 'missing', suggestion: 'Churn' });
});
