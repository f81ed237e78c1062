import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import { importDbtSchema, referencedName } from './dbt-import.js';
import { formatProblem } from './dictionary.js';
import { parseDictionary } from './load-dictionary.js';
import { renderDictionaryYaml } from './render-dictionary.js';

const schemaYml = `version: 2

sources:
  - name: shop
    description: Raw tables loaded by the EL tool
    tables:
      - name: raw_events
        identifier: events_v2
        description: Raw click events
        columns:
          - name: event_id
            tests: [unique, not_null]

models:
  - name: customers
    description: One row per customer.
    config:
      materialized: table
    columns:
      - name: customer_id
        description: Primary key of the customer.
        data_type: integer
        tests:
          - unique
          - not_null
      - name: status
        description: Lifecycle status
        meta:
          owner: growth
        data_tests:
          - accepted_values:
              values: ['active', 'churned', 'paused']
              config:
                severity: warn
      - name: tier
        data_type: smallint
        tests:
          - accepted_values:
              arguments:
                values: ['1', '2', '3']
                quote: false

  - name: orders
    description: >
      One row per order,
      including cancelled ones.
    columns:
      - name: order_id
        constraints:
          - type: primary_key
      - name: customer_id
        description: "{{ doc('customer_id') }}"
        tests:
          - not_null
          - relationships:
              to: ref('customers')
              field: customer_id
      - name: product_id
        tests:
          - relationships:
              to: ref('products')
              field: id
      - name: is_gift
        data_type: boolean
        tests:
          - accepted_values:
              values: [true, false]

  - name: order_lines
    tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [order_id, line_number]
    columns:
      - name: order_id
        tests:
          - relationships:
              to: ref("orders")
              field: order_id
`;

describe('importing a dbt schema.yml', () => {
  const dictionary = importDbtSchema(schemaYml, 'models/schema.yml');

  test('imports models and source tables with their descriptions', () => {
    assert.equal(dictionary.name, 'schema');
    assert.deepEqual(
      dictionary.tables.map((table) => [table.name, table.description]),
      [
        ['customers', 'One row per customer.'],
        ['orders', 'One row per order, including cancelled ones.'],
        ['order_lines', undefined],
        ['events_v2', 'Raw click events'],
      ],
    );
    const customers = dictionary.tables[0];
    assert.deepEqual(
      customers?.columns.map((column) => [column.name, column.description, column.type]),
      [
        ['customer_id', 'Primary key of the customer.', 'integer'],
        ['status', 'Lifecycle status', undefined],
        ['tier', undefined, 'integer'],
      ],
    );
  });

  test('turns unique + not_null, primary_key constraints and unique combinations into keys', () => {
    assert.deepEqual(
      dictionary.tables.map((table) => table.primaryKey),
      [['customer_id'], ['order_id'], ['order_id', 'line_number'], ['event_id']],
    );
    // The key column the model does not list is added, so the dictionary stays consistent.
    assert.deepEqual(
      dictionary.tables[2]?.columns.map((column) => column.name),
      ['order_id', 'line_number'],
    );
  });

  test('turns accepted_values into values, keeping their kind', () => {
    const columns = dictionary.tables.flatMap((table) => table.columns);
    const valuesOf = (name: string) => columns.find((column) => column.name === name)?.values.map((value) => [value.value, value.literal]);
    assert.deepEqual(valuesOf('status'), [
      ['active', 'string'],
      ['churned', 'string'],
      ['paused', 'string'],
    ]);
    assert.deepEqual(valuesOf('tier'), [
      ['1', 'number'],
      ['2', 'number'],
      ['3', 'number'],
    ]);
    assert.deepEqual(valuesOf('is_gift'), [
      ['true', 'boolean'],
      ['false', 'boolean'],
    ]);
  });

  test('turns relationships tests into relationships, dropping those to models it does not describe', () => {
    assert.deepEqual(
      dictionary.relationships.map((relationship) => `${relationship.from.table}.${relationship.from.column} = ${relationship.to.table}.${relationship.to.column}`),
      ['orders.customer_id = customers.customer_id', 'order_lines.order_id = orders.order_id'],
    );
    assert.deepEqual(dictionary.warnings.map(formatProblem), [
      'models/schema.yml:60:13: warning: relationship to "products" dropped: this file does not describe that model.',
    ]);
  });

  test('renders to a dictionary that loads', () => {
    const loaded = parseDictionary(renderDictionaryYaml(dictionary), 'imported.yaml');
    assert.equal(loaded.version, dictionary.version);
    assert.deepEqual(loaded.warnings, []);
  });

  test('takes a name', () => {
    assert.equal(importDbtSchema(schemaYml, 'schema.yml', { name: 'shop' }).name, 'shop');
  });
});

describe('dbt errors name the file and the line', () => {
  function errorOf(text: string): string {
    try {
      importDbtSchema(text, 'bad/schema.yml');
    } catch (error) {
      assert.ok(error instanceof IqueryError);
      assert.equal(error.code, 'dictionary_invalid');
      return error.message;
    }
    assert.fail('imported, but should not have');
  }

  test('a YAML syntax error', () => {
    assert.match(errorOf('version: 2\nmodels:\n  - name: a\n    columns: [\n'), /bad\/schema\.yml:\d+:\d+: error: YAML: /);
  });

  test('a model without a name', () => {
    assert.match(errorOf('version: 2\nmodels:\n  - name: a\n  - description: no name\n'), /bad\/schema\.yml:4:5: error: missing "name": it must be the model or table name\./);
  });

  test('columns that are not a list', () => {
    assert.match(errorOf('version: 2\nmodels:\n  - name: a\n    columns:\n      id: {}\n'), /bad\/schema\.yml:5:7: error: "columns" must be a list of columns/);
  });

  test('a relationships test without `to`', () => {
    const text = 'version: 2\nmodels:\n  - name: a\n    columns:\n      - name: b\n        tests:\n          - relationships:\n              field: id\n';
    assert.match(errorOf(text), /bad\/schema\.yml:7:13: error: the relationships test needs `to:`/);
  });

  test('accepted_values without values', () => {
    const text = 'version: 2\nmodels:\n  - name: a\n    columns:\n      - name: b\n        tests:\n          - accepted_values: {quote: true}\n';
    assert.match(errorOf(text), /bad\/schema\.yml:7:13: error: accepted_values needs `values:`/);
  });

  test('a file with no models', () => {
    assert.match(errorOf('version: 2\n'), /bad\/schema\.yml:1:1: error: the file describes no models/);
  });
});

test('reads the model a dbt reference names', () => {
  assert.equal(referencedName("ref('customers')"), 'customers');
  assert.equal(referencedName('ref("customers")'), 'customers');
  assert.equal(referencedName("ref('package', 'customers')"), 'customers');
  assert.equal(referencedName("ref('customers', v=2)"), 'customers');
  assert.equal(referencedName("source('shop', 'orders')"), 'orders');
  assert.equal(referencedName("{{ ref('customers') }}"), 'customers');
  assert.equal(referencedName('customers'), 'customers');
  assert.equal(referencedName('ref(customers)'), undefined);
});
