import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chineseNumeralValue, detectLanguage, normalize } from './text.js';

test('Chinese numerals read as numbers', () => {
  assert.equal(chineseNumeralValue('十二'), 12);
  assert.equal(chineseNumeralValue('一百二十'), 120);
  assert.equal(chineseNumeralValue('三万'), 30000);
  assert.equal(chineseNumeralValue('两'), 2);
  assert.equal(chineseNumeralValue('二三'), undefined);
});

test('questions and dictionary words normalise the same way', () => {
  assert.equal(normalize('月费超过８０的用户'), '月费超过80的用户');
  assert.equal(normalize('按在网时长每十二个月分组'), '按在网时长每12个月分组');
  assert.equal(normalize('二零二五年的收入'), '2025年的收入');
  assert.equal(normalize('One year contracts'), '1 year contracts');
  assert.equal(normalize("customers who don't have phone service"), 'customers who do not have phone service');
  assert.equal(normalize('流失率超过百分之三十'), '流失率超过30%');
  assert.equal(normalize('total  of 1,234 bills'), 'total of 1234 bills');
  // Words that contain a numeral but are not numbers stay words.
  assert.equal(normalize('统一看一下'), '统一看一下');
  assert.equal(normalize('每档一组'), '每档一组');
  assert.equal(normalize('2025年上半年'), '2025年上半年');
  assert.equal(normalize('近半年'), '近6个月');
});

test('the language of a question', () => {
  assert.equal(detectLanguage('各合同类型的流失率'), 'zh');
  assert.equal(detectLanguage('fiber 用户的流失率'), 'zh');
  assert.equal(detectLanguage('What is the churn rate by contract?'), 'en');
});
