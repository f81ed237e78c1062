import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { checkDictionaryAgainstSource } from './check-dictionary.js';
import { formatProblem, type Dictionary, type TableEntry } from './dictionary.js';
import { draftDictionary, guessSensitivity, looksLikeId } from './draft-dictionary.js';
import { parseDictionary } from './load-dictionary.js';
import { renderDictionaryYaml } from './render-dictionary.js';

let workFolder: string;
let source: DataSource;
let draft: Dictionary;

before(async () => {
  workFolder = mkdtempSync(join(tmpdir(), 'iquery-dictionary-draft-'));
  const data = join(workFolder, 'shop');
  mkdirSync(data);
  writeFileSync(
    join(data, 'customers.csv'),
    [
      'customerID,gender,SeniorCitizen,email_address,signup_date',
      'C1,Male,0,a@example.com,2024-01-03',
      'C2,Female,1,b@example.com,2024-02-11',
      'C3,Female,0,c@example.com,2024-02-20',
      'C4,Male,0,d@example.com,2024-03-05',
      'C5,Female,1,e@example.com,2024-04-17',
      'C6,Male,0,f@example.com,2024-05-30',
    ].join('\n'),
  );
  writeFileSync(
    join(data, 'payments.csv'),
    [
      'customerID,Contract,MonthlyCharges,PaymentMethod,paid_late',
      'C1,Month-to-month,29.85,Electronic check,true',
      'C2,One year,56.95,Mailed check,false',
      'C3,Month-to-month,53.85,Mailed check,false',
      'C4,Two year,42.30,Electronic check,true',
      'C5,Month-to-month,70.70,Electronic check,false',
      'C6,One year,99.65,Mailed check,false',
    ].join('\n'),
  );
  writeFileSync(
    join(data, 'orders.csv'),
    ['order_id,customerID,amount', '1,C1,10.5', '2,C1,20.0', '3,C2,5.25', '4,C4,7.0', '5,C6,12.0', '6,C6,1.0', '7,C3,3.5'].join('\n'),
  );
  source = await openSource(data, { home: join(workFolder, 'home') });
  draft = await draftDictionary(source);
});

after(async () => {
  await source.close();
  rmSync(workFolder, { recursive: true, force: true });
});

function table(name: string): TableEntry {
  const found = draft.tables.find((candidate) => candidate.name === name);
  assert.ok(found, `no table ${name}`);
  return found;
}

function column(tableName: string, name: string) {
  const found = table(tableName).columns.find((candidate) => candidate.name === name);
  assert.ok(found, `no column ${tableName}.${name}`);
  return found;
}

describe('drafting a dictionary from data', () => {
  test('names the dictionary after the data and lists every table and column with its type', () => {
    assert.equal(draft.name, 'shop');
    assert.deepEqual(draft.tables.map((entry) => entry.name).sort(), ['customers', 'orders', 'payments']);
    assert.deepEqual(
      table('payments').columns.map((entry) => [entry.name, entry.type]),
      [
        ['customerID', 'text'],
        ['Contract', 'text'],
        ['MonthlyCharges', 'float'],
        ['PaymentMethod', 'text'],
        ['paid_late', 'boolean'],
      ],
    );
  });

  test('guesses keys from unique, non-null id-like columns', () => {
    assert.deepEqual(table('customers').primaryKey, ['customerID']);
    assert.deepEqual(table('orders').primaryKey, ['order_id']);
    assert.deepEqual(table('payments').primaryKey, ['customerID']);
  });

  test('relates tables sharing customerID to the table named after it', () => {
    const relationships = draft.relationships.map((entry) => `${entry.from.table}.${entry.from.column} = ${entry.to.table}.${entry.to.column}`).sort();
    assert.deepEqual(relationships, ['orders.customerID = customers.customerID', 'payments.customerID = customers.customerID']);
  });

  test('lists the values of categorical columns, with lexicon synonyms', () => {
    assert.deepEqual(
      column('customers', 'gender').values.map((entry) => [entry.value, entry.literal, entry.synonyms[0]]),
      [
        ['Female', 'string', '女'],
        ['Male', 'string', '男'],
      ],
    );
    assert.deepEqual(
      column('customers', 'SeniorCitizen').values.map((entry) => [entry.value, entry.literal, entry.synonyms]),
      [
        ['0', 'number', ['否']],
        ['1', 'number', ['是']],
      ],
    );
    assert.deepEqual(
      column('payments', 'Contract').values.map((entry) => [entry.value, entry.synonyms[0]]),
      [
        ['Month-to-month', '按月'],
        ['One year', '一年'],
        ['Two year', '两年'],
      ],
    );
    assert.deepEqual(
      column('payments', 'paid_late').values.map((entry) => [entry.value, entry.literal, entry.synonyms[0]]),
      [
        ['false', 'boolean', '否'],
        ['true', 'boolean', '是'],
      ],
    );
    assert.deepEqual(
      column('payments', 'PaymentMethod').values.map((entry) => [entry.value, entry.synonyms[0]]),
      [
        ['Electronic check', '电子支票'],
        ['Mailed check', '邮寄支票'],
      ],
    );
  });

  test('leaves out values of keys, measures and never-repeating columns', () => {
    assert.deepEqual(column('customers', 'customerID').values, []);
    assert.deepEqual(column('payments', 'MonthlyCharges').values, []);
    assert.deepEqual(column('customers', 'email_address').values, []);
    assert.deepEqual(column('orders', 'order_id').values, []);
  });

  test('splits names into readable words and finds Chinese synonyms in the lexicon', () => {
    const monthly = column('payments', 'MonthlyCharges');
    assert.equal(monthly.description, '月费 / monthly charges');
    assert.ok(monthly.synonyms.includes('monthly charges'));
    assert.ok(monthly.synonyms.includes('月费'));
    assert.ok(monthly.synonyms.includes('每月费用'));
    const customerId = column('customers', 'customerID');
    assert.equal(customerId.description, '客户ID / customer id');
    assert.ok(customerId.synonyms.includes('客户编号'));
    assert.equal(column('payments', 'paid_late').description, '逾期付款 / paid late');
    assert.equal(column('payments', 'PaymentMethod').description, '支付方式 / payment method');
    assert.ok(table('customers').synonyms.includes('客户'));
    assert.ok(table('orders').synonyms.includes('订单'));
  });

  test('guesses sensitivity from names', () => {
    assert.equal(column('customers', 'email_address').sensitivity, 'confidential');
    assert.equal(column('customers', 'customerID').sensitivity, 'internal');
    assert.equal(column('customers', 'gender').sensitivity, 'public');
  });

  test('drafts a count metric per entity, not per 1:1 detail table', () => {
    assert.deepEqual(
      draft.metrics.map((metric) => [metric.name, metric.sql, metric.format]),
      [
        ['customer_count', 'COUNT(DISTINCT customers.customerID)', 'integer'],
        ['order_count', 'COUNT(DISTINCT orders.order_id)', 'integer'],
      ],
    );
    assert.equal(draft.metrics[0]?.label, '客户数 / customer count');
  });

  test('renders to YAML that parses back to the same content, without warnings', () => {
    const yaml = renderDictionaryYaml(draft);
    const parsed = parseDictionary(yaml, 'shop.dictionary.yaml');
    assert.equal(parsed.version, draft.version);
    assert.deepEqual(parsed.warnings.map(formatProblem), []);
    assert.match(yaml, /MonthlyCharges: \{description: 月费 \/ monthly charges, synonyms: \[monthly charges, 月费, 每月费用, 月租, monthly fee\], type: float\}/);
  });

  test('fits the data it was drafted from', async () => {
    assert.deepEqual((await checkDictionaryAgainstSource(draft, source)).map(formatProblem), []);
  });
});

describe('name heuristics', () => {
  test('id-like names', () => {
    for (const name of ['id', 'customer_id', 'customerId', 'customerID', 'CustomerID', 'order_key', 'zipcode', 'product_code', 'uuid']) assert.ok(looksLikeId(name), name);
    for (const name of ['idea', 'paid', 'video', 'identity_verified', 'amount']) assert.ok(!looksLikeId(name), name);
  });

  test('sensitivity', () => {
    assert.equal(guessSensitivity('password_hash'), 'restricted');
    assert.equal(guessSensitivity('api_token'), 'restricted');
    assert.equal(guessSensitivity('id_card'), 'restricted');
    assert.equal(guessSensitivity('身份证号'), 'restricted');
    assert.equal(guessSensitivity('ssn'), 'restricted');
    assert.equal(guessSensitivity('mobilePhone'), 'confidential');
    assert.equal(guessSensitivity('home_address'), 'confidential');
    assert.equal(guessSensitivity('email'), 'confidential');
    assert.equal(guessSensitivity('user_id'), 'internal');
    assert.equal(guessSensitivity('tenure'), 'public');
    assert.equal(guessSensitivity('PhoneService'), 'public');
    assert.equal(guessSensitivity('phone_number'), 'confidential');
  });
});
