import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assetPath, packageRoot } from '../package-root.js';
import { createDictionary } from './dictionary.js';
import { loadDictionary, parseDictionary } from './load-dictionary.js';
import { renderDictionaryYaml } from './render-dictionary.js';

const examplePath = join(packageRoot(), 'src', 'dictionary', 'fixtures', 'issue-example.yaml');

test('the example of the issue renders back to the text it was written as', () => {
  const text = readFileSync(examplePath, 'utf8');
  assert.equal(renderDictionaryYaml(loadDictionary(examplePath)), text);
});

test('the demo dictionary round-trips to the same version', () => {
  const dictionary = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));
  const again = parseDictionary(renderDictionaryYaml(dictionary), 'again.yaml');
  assert.equal(again.version, dictionary.version);
});

test('keeps number, boolean and text value keys apart, and quotes words YAML 1.1 reads as booleans', () => {
  const dictionary = createDictionary({
    name: 'flags',
    tables: [
      {
        name: 't',
        synonyms: [],
        primaryKey: ['a', 'b'],
        columns: [
          {
            name: 'a',
            synonyms: ['on'],
            sensitivity: 'restricted',
            values: [
              { value: '1', literal: 'number', synonyms: ['yes'] },
              { value: '1.5', literal: 'number', synonyms: [] },
              { value: '2', literal: 'string', synonyms: [] },
              { value: 'true', literal: 'boolean', synonyms: [] },
              { value: 'No', literal: 'string', synonyms: ['off'] },
            ],
          },
          { name: 'b', synonyms: [], sensitivity: 'public', values: [] },
        ],
      },
    ],
    relationships: [],
    metrics: [{ name: 'm', label: 'M', synonyms: [], sql: "SUM(CASE WHEN t.a = 'x: y' THEN 1 END)", format: 'integer' }],
  });
  const yaml = renderDictionaryYaml(dictionary);
  assert.match(yaml, /primary_key: \[a, b\]/);
  assert.match(yaml, /synonyms: \["on"\]/);
  assert.match(yaml, /\n {10}1: \["yes"\]\n {10}1\.5: \[\]\n {10}"2": \[\]\n {10}true: \[\]\n {10}"No": \["off"\]\n/);
  assert.match(yaml, /b: \{\}/);
  const parsed = parseDictionary(yaml, 'flags.yaml');
  assert.equal(parsed.version, dictionary.version);
  assert.deepEqual(parsed.tables[0]?.columns[0]?.values.map((value) => [value.value, value.literal]), [
    ['1', 'number'],
    ['1.5', 'number'],
    ['2', 'string'],
    ['true', 'boolean'],
    ['No', 'string'],
  ]);
});

test('writes a comment at the top when asked', () => {
  const yaml = renderDictionaryYaml(loadDictionary(examplePath), { comment: 'Drafted by iquery.\nReview the synonyms.' });
  assert.ok(yaml.startsWith('# Drafted by iquery.\n# Review the synonyms.\n'), yaml.slice(0, 80));
  assert.equal(parseDictionary(yaml, 'commented.yaml').version, loadDictionary(examplePath).version);
});
