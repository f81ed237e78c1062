import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lexicon, lookupChinese, lookupEnglish, translateWords } from './lexicon.js';

describe('the lexicon', () => {
  test('has at least 150 entries, each with English and Chinese terms', () => {
    assert.ok(lexicon.length >= 150, `only ${lexicon.length} entries`);
    for (const entry of lexicon) {
      assert.ok(entry.english.length > 0 && entry.chinese.length > 0, JSON.stringify(entry));
      for (const english of entry.english) assert.equal(english, english.trim().toLowerCase(), `"${english}" must be lower case and trimmed`);
    }
  });

  test('gives each English term to one entry only', () => {
    const seen = new Map<string, string>();
    for (const entry of lexicon) {
      for (const english of entry.english) {
        assert.equal(seen.get(english), undefined, `"${english}" is in two entries`);
        seen.set(english, entry.chinese.join('|'));
      }
    }
  });

  test('covers the common business terms of the issue', () => {
    const terms = ['customer', 'user', 'client', 'account', 'revenue', 'income', 'sales', 'amount', 'price', 'cost', 'charge', 'fee', 'bill', 'invoice', 'payment', 'order', 'product', 'item', 'quantity', 'count', 'date', 'time', 'month', 'year', 'day', 'region', 'city', 'country', 'province', 'store', 'channel', 'category', 'status', 'type', 'gender', 'age', 'senior', 'partner', 'dependents', 'tenure', 'contract', 'churn', 'retention', 'phone', 'internet', 'service', 'streaming', 'security', 'backup', 'support', 'device', 'paperless', 'method', 'total', 'monthly', 'average', 'discount', 'profit', 'margin', 'employee', 'department', 'salary', 'supplier', 'inventory', 'shipment', 'delivery', 'refund', 'return', 'rating', 'score', 'visit', 'session', 'click', 'conversion', 'campaign', 'coupon', 'member', 'level', 'vip', 'balance', 'credit', 'loan', 'transaction', 'late', 'paid'];
    const missing = terms.filter((term) => lookupEnglish(term) === undefined);
    assert.deepEqual(missing, []);
  });

  test('looks words up in any case and without plural endings', () => {
    assert.deepEqual(lookupEnglish('Customer')?.chinese.slice(0, 2), ['客户', '用户']);
    assert.equal(lookupEnglish('categories')?.chinese[0], '类别');
    assert.equal(lookupEnglish('discounts')?.chinese[0], '折扣');
    assert.equal(lookupEnglish('nothing-like-this'), undefined);
  });

  test('finds entries by their Chinese terms', () => {
    const english = lookupChinese('用户').flatMap((entry) => entry.english);
    assert.ok(english.includes('customer') && english.includes('user'));
  });
});

describe('translating a name', () => {
  test('a whole phrase in the lexicon gives all its terms', () => {
    assert.deepEqual(translateWords(['monthly', 'charges']), { chinese: ['月费', '每月费用', '月租'], english: ['monthly fee'] });
    assert.deepEqual(translateWords(['churn'])?.chinese, ['流失', '流失用户']);
    assert.deepEqual(translateWords(['tenure'])?.chinese[0], '在网时长');
    assert.deepEqual(translateWords(['gender'])?.chinese, ['性别']);
    assert.deepEqual(translateWords(['contract'])?.chinese[0], '合同');
    assert.deepEqual(translateWords(['payment', 'method'])?.chinese[0], '支付方式');
  });

  test('other phrases are composed from the longest entries', () => {
    assert.deepEqual(translateWords(['customer', 'segment']), { chinese: ['客户分群'], english: [] });
    assert.deepEqual(translateWords(['order', 'amount']), { chinese: ['订单金额'], english: [] });
  });

  test('filler words are skipped, but not inside phrases that have an entry', () => {
    assert.deepEqual(translateWords(['is', 'active'])?.chinese, ['活跃']);
    assert.deepEqual(translateWords(['month', 'to', 'month'])?.chinese[0], '按月');
  });

  test('an unknown word gives nothing', () => {
    assert.equal(translateWords(['flux', 'capacitor']), undefined);
    assert.equal(translateWords([]), undefined);
  });
});
