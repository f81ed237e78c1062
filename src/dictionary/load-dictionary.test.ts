import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import { assetPath, packageRoot } from '../package-root.js';
import { formatProblem } from './dictionary.js';
import { loadDictionary, parseDictionary } from './load-dictionary.js';

const examplePath = join(packageRoot(), 'src', 'dictionary', 'fixtures', 'issue-example.yaml');

/** The message of the `dictionary_invalid` error a text raises. */
function errorOf(text: string, fileName = 'broken.yaml'): string {
  try {
    parseDictionary(text, fileName);
  } catch (error) {
    assert.ok(error instanceof IqueryError, `expected an IqueryError, got ${String(error)}`);
    assert.equal(error.code, 'dictionary_invalid');
    return error.message;
  }
  assert.fail('the dictionary loaded, but it should not have');
}

describe('loading the example of the issue', () => {
  const dictionary = loadDictionary(examplePath);

  test('loads with no errors and no warnings', () => {
    assert.equal(dictionary.name, 'telco');
    assert.deepEqual(dictionary.warnings.map(formatProblem), []);
    assert.deepEqual(
      dictionary.tables.map((table) => table.name),
      ['user_demographics', 'user_services', 'user_payments', 'user_churn'],
    );
    assert.equal(dictionary.relationships.length, 3);
    assert.deepEqual(
      dictionary.metrics.map((metric) => metric.name),
      ['churn_rate', 'arpu'],
    );
  });

  test('reads flow and block columns, values, units and sensitivity', () => {
    const demographics = dictionary.tables[0];
    assert.ok(demographics);
    assert.deepEqual(demographics.primaryKey, ['customerID']);
    const customerId = demographics.columns.find((column) => column.name === 'customerID');
    assert.equal(customerId?.sensitivity, 'internal');
    assert.deepEqual(customerId?.synonyms, ['客户编号', 'customer id']);
    const gender = demographics.columns.find((column) => column.name === 'gender');
    assert.equal(gender?.sensitivity, 'public');
    assert.deepEqual(gender?.values.map((value) => [value.value, value.literal]), [
      ['Female', 'string'],
      ['Male', 'string'],
    ]);
    const tenure = dictionary.tables[1]?.columns.find((column) => column.name === 'tenure');
    assert.equal(tenure?.unit, 'month');
  });

  test('keeps number keys as their text and records that they were numbers', () => {
    const senior = dictionary.tables[0]?.columns.find((column) => column.name === 'SeniorCitizen');
    assert.deepEqual(senior?.values.map((value) => [value.value, value.literal, value.synonyms[0]]), [
      ['1', 'number', '是'],
      ['0', 'number', '否'],
    ]);
    const internet = dictionary.tables[1]?.columns.find((column) => column.name === 'InternetService');
    assert.deepEqual(
      internet?.values.map((value) => value.value),
      ['DSL', 'Fiber optic', 'No'],
    );
    assert.equal(internet?.values[2]?.literal, 'string');
  });

  test('reads relationships and metrics', () => {
    assert.deepEqual(dictionary.relationships[0]?.from, { table: 'user_services', column: 'customerID' });
    assert.deepEqual(dictionary.relationships[0]?.to, { table: 'user_demographics', column: 'customerID' });
    const churnRate = dictionary.metrics[0];
    assert.equal(churnRate?.format, 'percent');
    assert.equal(churnRate?.label, '流失率 / churn rate');
    assert.equal(dictionary.metrics[1]?.unit, 'USD');
  });

  test('entries know their line', () => {
    assert.equal(dictionary.tables[1]?.location?.line, 22);
    assert.equal(dictionary.metrics[0]?.location?.line, 65);
  });
});

describe('the demo dictionary', () => {
  test('loads with no errors and no warnings', () => {
    const dictionary = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));
    assert.deepEqual(dictionary.warnings.map(formatProblem), []);
    assert.deepEqual(dictionary.tables.map((table) => table.name).sort(), ['user_bills', 'user_churn', 'user_demographics', 'user_payments', 'user_services']);
    const bills = dictionary.tables.find((table) => table.name === 'user_bills');
    assert.deepEqual(bills?.primaryKey, ['customerID', 'bill_month']);
    const paidLate = bills?.columns.find((column) => column.name === 'paid_late');
    assert.deepEqual(paidLate?.values.map((value) => [value.value, value.literal]), [
      ['true', 'boolean'],
      ['false', 'boolean'],
    ]);
    // Values shared through a YAML anchor are read like written ones.
    const backup = dictionary.tables.find((table) => table.name === 'user_services')?.columns.find((column) => column.name === 'OnlineBackup');
    assert.deepEqual(
      backup?.values.map((value) => value.value),
      ['Yes', 'No', 'No internet service'],
    );
  });

  test('describes every column of the five demo tables in Chinese and English', () => {
    const dictionary = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));
    const expected: Record<string, string[]> = {
      user_demographics: ['customerID', 'gender', 'SeniorCitizen', 'Partner', 'Dependents'],
      user_services: ['customerID', 'tenure', 'PhoneService', 'MultipleLines', 'InternetService', 'OnlineSecurity', 'OnlineBackup', 'DeviceProtection', 'TechSupport', 'StreamingTV', 'StreamingMovies'],
      user_payments: ['customerID', 'Contract', 'PaperlessBilling', 'PaymentMethod', 'MonthlyCharges', 'TotalCharges'],
      user_churn: ['customerID', 'Churn'],
      user_bills: ['customerID', 'bill_month', 'amount', 'paid_late'],
    };
    for (const [tableName, columns] of Object.entries(expected)) {
      const table = dictionary.tables.find((candidate) => candidate.name === tableName);
      assert.deepEqual(
        table?.columns.map((column) => column.name),
        columns,
      );
      for (const column of table?.columns ?? []) assert.match(column.description ?? '', /\p{Script=Han}.* \/ [a-z]/u, `${tableName}.${column.name}`);
    }
  });
});

describe('version', () => {
  const text = 'name: shop\ntables:\n  orders:\n    columns:\n      amount: {unit: USD}\n';

  test('is 12 hex characters, the same for the same content whatever the layout and comments', () => {
    const first = parseDictionary(text, 'a.yaml').version;
    assert.match(first, /^[0-9a-f]{12}$/);
    assert.equal(parseDictionary(text, 'b.yaml').version, first);
    const relaidOut = '# a comment\nname: shop\ntables:\n  orders:\n    columns:\n      amount:\n        unit: USD\n';
    assert.equal(parseDictionary(relaidOut, 'a.yaml').version, first);
  });

  test('changes when the content changes', () => {
    assert.notEqual(parseDictionary(text.replace('USD', 'EUR'), 'a.yaml').version, parseDictionary(text, 'a.yaml').version);
  });
});

describe('optional forms', () => {
  test('a column may be empty or {}; primary_key may be a list; relationships may be maps', () => {
    const dictionary = parseDictionary(
      [
        'name: shop',
        'tables:',
        '  orders:',
        '    primary_key: [order_id, line]',
        '    columns:',
        '      order_id:',
        '      line: {}',
        '      customer_id: {}',
        '  customers:',
        '    primary_key: id',
        '    columns: {id: }',
        'relationships:',
        '  - {from: orders.customer_id, to: customers.id}',
      ].join('\n'),
      'shop.yaml',
    );
    const orders = dictionary.tables[0];
    assert.deepEqual(orders?.primaryKey, ['order_id', 'line']);
    assert.deepEqual(orders?.columns.map((column) => [column.name, column.sensitivity, column.synonyms.length]), [
      ['order_id', 'public', 0],
      ['line', 'public', 0],
      ['customer_id', 'public', 0],
    ]);
    assert.deepEqual(dictionary.relationships[0]?.to, { table: 'customers', column: 'id' });
  });

  test('a table without columns may still be named by relationships and metrics', () => {
    const dictionary = parseDictionary('name: x\ntables:\n  events:\nmetrics:\n  events: {sql: COUNT(DISTINCT events.id)}\n', 'x.yaml');
    assert.equal(dictionary.metrics[0]?.label, 'events');
  });

  test('the name defaults to the file name', () => {
    assert.equal(parseDictionary('tables: {}\n', 'folder/sales.dictionary.yaml').name, 'sales');
  });
});

describe('errors name the file, the line and the problem', () => {
  test('a YAML syntax error', () => {
    const message = errorOf('name: x\ntables:\n  t:\n    synonyms: [a, b\n    columns: {}\n');
    assert.match(message, /broken\.yaml:\d+:\d+: error: YAML: /);
  });

  test('an unknown key, with a suggestion', () => {
    const message = errorOf('name: x\ntables:\n  t:\n    columns:\n      a:\n        descripton: hi\n');
    assert.match(message, /broken\.yaml:6:9: error: unknown key "descripton"\. Did you mean "description"\?/);
  });

  test('an unknown key at the top', () => {
    assert.match(errorOf('name: x\ntables: {}\nmetric: {}\n'), /broken\.yaml:3:1: error: unknown key "metric"\. Did you mean "metrics"\?/);
  });

  test('a bad sensitivity value', () => {
    const message = errorOf('name: x\ntables:\n  t:\n    columns:\n      a: {sensitivity: secret}\n');
    assert.match(message, /broken\.yaml:5:\d+: error: "sensitivity" must be one of public, internal, confidential, restricted, not the text "secret"/);
  });

  test('a bad metric format', () => {
    assert.match(errorOf('name: x\ntables:\n  t:\nmetrics:\n  m:\n    sql: SUM(t.a)\n    format: percentage\n'), /broken\.yaml:7:13: error: "format" must be one of/);
  });

  test('a relationship to an unknown table', () => {
    const message = errorOf('name: x\ntables:\n  orders:\n    columns: {customer_id: }\nrelationships:\n  - orders.customer_id = customer.id\n');
    assert.match(message, /broken\.yaml:6:5: error: relationship names table "customer", which the dictionary does not declare/);
  });

  test('a relationship that is not table.column = table.column', () => {
    assert.match(errorOf('name: x\ntables:\n  t:\nrelationships:\n  - t.a == t.b\n'), /broken\.yaml:5:5: error: relationship "t\.a == t\.b" must read/);
  });

  test('a metric referencing an unknown column, with the closest name', () => {
    const message = errorOf('name: x\ntables:\n  orders:\n    columns:\n      amount: {}\nmetrics:\n  revenue:\n    label: Revenue\n    sql: SUM(orders.amout)\n');
    assert.match(message, /broken\.yaml:9:10: error: metric "revenue" names column "orders\.amout", which the table does not list\. Did you mean "amount"\?/);
  });

  test('a metric whose SQL does not parse, or is more than an expression', () => {
    assert.match(errorOf('name: x\ntables:\n  t:\nmetrics:\n  m:\n    sql: SUM(t.a\n'), /broken\.yaml:6:10: error: metric "m": the SQL does not parse/);
    assert.match(errorOf('name: x\ntables:\n  t:\nmetrics:\n  m:\n    sql: SUM(t.a) FROM t\n'), /broken\.yaml:6:10: error: metric "m": the SQL must be one expression, without FROM/);
    assert.match(errorOf('name: x\ntables:\n  t:\nmetrics:\n  m:\n    sql: SUM(a)\n'), /broken\.yaml:6:10: error: metric "m": write column "a" as table\.column/);
  });

  test('a metric without sql', () => {
    assert.match(errorOf('name: x\ntables:\n  t:\nmetrics:\n  m:\n    label: M\n'), /broken\.yaml:5:3: error: missing "sql"/);
  });

  test('a primary key column the table does not list', () => {
    const message = errorOf('name: x\ntables:\n  orders:\n    primary_key: order_id\n    columns:\n      orderid: {}\n      amount: {}\n');
    assert.match(message, /broken\.yaml:4:18: error: primary key of table "orders" names column "orders\.order_id", which the table does not list\. Did you mean "orderid"\?/);
  });

  test('a value listed twice', () => {
    assert.match(errorOf('name: x\ntables:\n  t:\n    columns:\n      a:\n        values:\n          1: []\n          "1": []\n'), /broken\.yaml:8:11: error: value "1" is listed twice \(also on line 7\)/);
  });

  test('a column that is not a map', () => {
    assert.match(errorOf('name: x\ntables:\n  t:\n    columns:\n      a: 性别\n'), /broken\.yaml:5:10: error: "a" must be a map, not the text "性别"/);
  });

  test('an empty file and a missing tables map', () => {
    assert.match(errorOf(''), /broken\.yaml:1:1: error: the file is empty/);
    assert.match(errorOf('name: x\n'), /broken\.yaml:1:1: error: missing "tables"/);
  });

  test('every error is reported at once, and listed in details', () => {
    try {
      parseDictionary('name: x\ntables:\n  t:\n    columns:\n      a: {unit: 1, sensitivty: public}\n      b: {type: string}\n', 'many.yaml');
      assert.fail('should not load');
    } catch (error) {
      assert.ok(error instanceof IqueryError);
      const problems = error.details?.['problems'];
      assert.ok(Array.isArray(problems));
      assert.equal(problems.length, 3);
      assert.match(error.message, /^Dictionary many\.yaml has 3 errors:/);
    }
  });

  test('a missing file is not_found', () => {
    assert.throws(() => loadDictionary('/nonexistent/telco.yaml'), (error: unknown) => error instanceof IqueryError && error.code === 'not_found');
  });
});

describe('warnings', () => {
  test('a synonym naming two different things', () => {
    const dictionary = parseDictionary(
      'name: x\ntables:\n  orders:\n    synonyms: [订单]\n    columns:\n      order_id: {synonyms: [订单]}\n      status:\n        values:\n          open: [未结]\n          closed: [未结]\n',
      'warn.yaml',
    );
    assert.deepEqual(dictionary.warnings.map(formatProblem), [
      'warn.yaml:6:7: warning: synonym "订单" of column "order_id" also names table "orders" (line 3); the analyst will have to ask which one is meant.',
      'warn.yaml:10:11: warning: synonym "未结" of value "closed" of orders.status also names value "open" of orders.status (line 9); the analyst will have to ask which one is meant.',
    ]);
  });

  test('the same column name in several tables may share synonyms, and values of different columns too', () => {
    const dictionary = parseDictionary(
      'name: x\ntables:\n  a:\n    columns:\n      customer_id: {synonyms: [客户编号]}\n      flag: {values: {"Yes": [是]}}\n  b:\n    columns:\n      customer_id: {synonyms: [客户编号]}\n      flag: {values: {"Yes": [是]}}\n',
      'ok.yaml',
    );
    assert.deepEqual(dictionary.warnings, []);
  });

  test('a name written in another case', () => {
    const dictionary = parseDictionary('name: x\ntables:\n  orders:\n    columns: {Amount: }\nmetrics:\n  m: {sql: SUM(orders.amount)}\n', 'case.yaml');
    assert.match(formatProblem(dictionary.warnings[0] ?? { severity: 'warning', message: '' }), /case\.yaml:6:\d+: warning: metric "m" writes column "amount"; table "orders" spells it "Amount"/);
  });

  test('a metric without an aggregate', () => {
    const dictionary = parseDictionary('name: x\ntables:\n  t:\nmetrics:\n  m: {sql: t.a * 2}\n', 'agg.yaml');
    assert.match(dictionary.warnings[0]?.message ?? '', /no aggregate function/);
  });
});
