import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadDictionary, parseDictionary } from '../dictionary/load-dictionary.js';
import { assetPath } from '../package-root.js';
import type { MemoryNote } from './memory-store.js';
import { buildSearchIndex, tokenize, type SearchHit } from './search-index.js';

const telco = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));

function memory(id: string, note: string, status: MemoryNote['status']): MemoryNote {
  return { id, note, kind: 'definition', status, origin: { by: 'model', at: '2026-01-01T00:00:00.000Z' } };
}

const notes = [
  memory('m-a1b2c3', '活跃用户 means at least one bill in the last 30 days', 'saved'),
  memory('m-d4e5f6', '高价值客户 = MonthlyCharges above 100', 'pending'),
];
const index = buildSearchIndex(telco, notes);

function place(hit: SearchHit | undefined): string {
  return hit === undefined ? '(none)' : [hit.kind, hit.table, hit.column, hit.name].filter((part) => part !== undefined).join(' ');
}

describe('tokenize', () => {
  test('splits camelCase and snake_case, keeping the whole word', () => {
    assert.deepEqual(tokenize('MonthlyCharges'), ['monthlycharge', 'monthly', 'charge']);
    assert.deepEqual(tokenize('bill_month customerID'), ['bill_month', 'bill', 'month', 'customerid', 'customer', 'id']);
  });

  test('reads Chinese as single characters and bigrams, after NFKC', () => {
    assert.deepEqual(tokenize('流失率'), ['流', '流失', '失', '失率', '率']);
    assert.deepEqual(tokenize('ＡＲＰＵ（月费）'), ['arpu', '月', '月费', '费']);
  });

  test('gives nothing for empty text or punctuation only', () => {
    assert.deepEqual(tokenize(''), []);
    assert.deepEqual(tokenize('?!… —— ，。'), []);
  });
});

describe('buildSearchIndex', () => {
  test('流失率 finds the churn metric first', () => {
    const [first] = index.search('流失率');
    assert.equal(place(first), 'metric churn_rate');
    assert.match(first?.text ?? '', /^metric churn_rate: 流失率 \/ churn rate = AVG\(/);
  });

  test('"monthly fee" finds MonthlyCharges', () => {
    assert.equal(place(index.search('monthly fee')[0]), 'column user_payments MonthlyCharges MonthlyCharges');
  });

  test('"fiber" finds the InternetService value', () => {
    const [first] = index.search('fiber');
    assert.equal(place(first), 'value user_services InternetService Fiber optic');
    assert.match(first?.text ?? '', /'Fiber optic' of user_services\.InternetService; also: 光纤/);
  });

  test('finds tables and columns by Chinese synonyms', () => {
    assert.equal(place(index.search('在网时长')[0]), 'column user_services tenure tenure');
    assert.equal(place(index.search('账单')[0]), 'table user_bills user_bills');
  });

  test('finds a saved memory note, never a pending one', () => {
    const [first] = index.search('活跃用户');
    assert.equal(place(first), 'memory m-a1b2c3');
    assert.equal(first?.text, 'memory m-a1b2c3 (definition): 活跃用户 means at least one bill in the last 30 days');
    assert.ok(!index.search('高价值客户 MonthlyCharges', 50).some((hit) => hit.name === 'm-d4e5f6'));
  });

  test('scores are positive, best first, and the limit holds', () => {
    const hits = index.search('churn rate by contract type', 3);
    assert.equal(hits.length, 3);
    for (const hit of hits) assert.ok(hit.score > 0);
    assert.deepEqual([...hits].sort((left, right) => right.score - left.score), hits);
    assert.equal(index.search('用户').length, 8);
    assert.deepEqual(index.search('用户', 0), []);
  });

  test('an empty or meaningless query gives [] without throwing', () => {
    for (const query of ['', '   ', '!!!', '的了吗', 'zzqqxx', '🙂', 'x'.repeat(100_000)]) assert.deepEqual(index.search(query), [], query);
    assert.deepEqual(buildSearchIndex({ ...telco, tables: [], metrics: [] }, []).search('churn'), []);
  });

  test('finds restricted columns by name but never indexes their values', () => {
    const dictionary = parseDictionary(
      [
        'tables:',
        '  patients:',
        '    columns:',
        '      diagnosis:',
        '        description: 诊断 / diagnosis',
        '        sensitivity: restricted',
        '        values: {Diabetes: [糖尿病, sugar]}',
        '      blood_type:',
        '        sensitivity: confidential',
        '        values: {AB: [AB型]}',
        '      ward:',
        '        sensitivity: internal',
        '        values: {East: [东区]}',
      ].join('\n'),
      'patients.yaml',
    );
    const patients = buildSearchIndex(dictionary, []);
    const [diagnosis] = patients.search('diagnosis');
    assert.equal(place(diagnosis), 'column patients diagnosis diagnosis');
    assert.match(diagnosis?.text ?? '', /restricted: its values are not shown/);
    assert.doesNotMatch(diagnosis?.text ?? '', /Diabetes/);
    for (const query of ['Diabetes', '糖尿病', 'sugar', 'AB型']) assert.deepEqual(patients.search(query), [], query);
    assert.equal(place(patients.search('blood type')[0]), 'column patients blood_type blood_type');
    assert.equal(place(patients.search('东区')[0]), 'value patients ward East');
  });

  test('gives a memory note on one line, whole', () => {
    const sql = `SELECT COUNT(*)\n-- active means a bill in 30 days\nFROM user_bills ${'x'.repeat(600)}`;
    const [hit] = buildSearchIndex(telco, [memory('m-0a0b0c', sql, 'saved')]).search('active bill');
    assert.equal(hit?.kind, 'memory');
    assert.doesNotMatch(hit?.text ?? '', /\n/);
    assert.ok((hit?.text.length ?? 0) > 600);
  });
});
