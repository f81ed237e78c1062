/**
 * What the data is called: every way the dictionary names a table, a column, a value or a metric
 * (names, readable names, synonyms, description phrases, value texts), normalised, with what each
 * surface means. The matcher looks questions up in it; the keywords table covers the rest.
 */
import type { ColumnEntry, Dictionary, MetricEntry, TableEntry, ValueEntry } from '../dictionary/dictionary.js';
import { lookupChinese, lookupEnglish } from '../dictionary/lexicon.js';
import { splitName } from '../dictionary/readable-name.js';
import { hasHan, normalize } from './text.js';

export type Meaning =
  | { kind: 'table'; table: TableEntry }
  | { kind: 'column'; table: TableEntry; column: ColumnEntry }
  | { kind: 'value'; table: TableEntry; column: ColumnEntry; value: ValueEntry }
  | { kind: 'metric'; metric: MetricEntry };

/** How strongly a surface names its meaning: a name or synonym beats a description word. */
export type Strength = 'name' | 'synonym' | 'description' | 'lexicon';

export interface VocabularyEntry {
  meaning: Meaning;
  strength: Strength;
}

export interface Vocabulary {
  dictionary: Dictionary;
  /** Normalised surface → what it may mean. */
  surfaces: Map<string, VocabularyEntry[]>;
}

/** Value texts too generic to name a value by themselves (`yes` could be any flag). */
const genericValues = new Set(['yes', 'no', 'true', 'false', '0', '1', 'y', 'n', 't', 'f', 'none', 'other', 'unknown', 'null']);

/** Generic answers written as value synonyms. */
const genericWords = new Set(['是', '否', '有', '无', '没有', '开通', '未开通', '已开通']);

/** Single characters that are function words first: never a value or column by themselves. */
const functionChars = new Set(['是', '否', '有', '无', '不', '没', '非', '在', '的', '和', '与', '或', '为']);

function meaningKey(meaning: Meaning): string {
  switch (meaning.kind) {
    case 'table':
      return `t:${meaning.table.name}`;
    case 'column':
      return `c:${meaning.table.name}.${meaning.column.name}`;
    case 'value':
      return `v:${meaning.table.name}.${meaning.column.name}=${meaning.value.value}`;
    case 'metric':
      return `m:${meaning.metric.name}`;
  }
}

/** English variants: singular and plural forms of the last word. */
function englishVariants(surface: string): string[] {
  if (hasHan(surface) || !/[a-z]$/.test(surface)) return [surface];
  if (surface.endsWith('ies')) return [surface, `${surface.slice(0, -3)}y`];
  if (surface.endsWith('ss')) return [surface, `${surface}es`];
  if (surface.endsWith('s')) return [surface, surface.slice(0, -1)];
  if (surface.endsWith('y') && !/[aeiou]y$/.test(surface)) return [surface, `${surface.slice(0, -1)}ies`];
  return [surface, `${surface}s`];
}

/** Phrases of a description: `月费 / monthly charges` → 月费, monthly charges; parenthesised notes dropped. */
function descriptionPhrases(description: string | undefined): string[] {
  if (description === undefined) return [];
  return description
    .replace(/[（(][^)）]*[)）]/g, '')
    .split(/\s*\/\s*|[,，;；]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && (hasHan(part) ? part.length <= 10 : part.split(' ').length <= 4));
}

export function buildVocabulary(dictionary: Dictionary): Vocabulary {
  const surfaces = new Map<string, VocabularyEntry[]>();
  const add = (raw: string, meaning: Meaning, strength: Strength): void => {
    const normal = normalize(raw);
    if (normal.includes('_')) add(normal.replace(/_/g, ' '), meaning, strength);
    const base = normal;
    if (base === '' || functionChars.has(base)) return;
    for (const surface of englishVariants(base)) {
      const list = surfaces.get(surface) ?? [];
      const key = meaningKey(meaning);
      const existing = list.find((entry) => meaningKey(entry.meaning) === key);
      if (existing === undefined) list.push({ meaning, strength });
      else if (rank(strength) < rank(existing.strength)) existing.strength = strength;
      surfaces.set(surface, list);
    }
  };
  const addName = (name: string, meaning: Meaning): void => {
    add(name, meaning, 'name');
    const readable = splitName(name).join(' ');
    if (readable !== '') add(readable, meaning, 'name');
    // The lexicon's translations of the readable name, when the dictionary gives none of its own.
    const english = lookupEnglish(readable);
    for (const chinese of english?.chinese ?? []) add(chinese, meaning, 'lexicon');
  };

  for (const table of dictionary.tables) {
    const tableMeaning: Meaning = { kind: 'table', table };
    addName(table.name, tableMeaning);
    // `user_demographics` is also `demographics`: the name without a leading word shared by other tables.
    const words = splitName(table.name);
    const shared = words.length > 1 && dictionary.tables.filter((other) => splitName(other.name)[0] === words[0]).length > 1;
    if (shared) add(words.slice(1).join(' '), tableMeaning, 'description');
    for (const synonym of table.synonyms) add(synonym, tableMeaning, 'synonym');
    for (const phrase of descriptionPhrases(table.description)) add(phrase, tableMeaning, 'description');
    for (const column of table.columns) {
      const columnMeaning: Meaning = { kind: 'column', table, column };
      addName(column.name, columnMeaning);
      for (const synonym of column.synonyms) {
        add(synonym, columnMeaning, 'synonym');
        // A Chinese synonym's lexicon entry gives English words for it, and the other way round.
        if (hasHan(synonym)) for (const entry of lookupChinese(synonym)) for (const english of entry.english) add(english, columnMeaning, 'lexicon');
      }
      for (const phrase of descriptionPhrases(column.description)) add(phrase, columnMeaning, 'description');
      for (const value of column.values) {
        const valueMeaning: Meaning = { kind: 'value', table, column, value };
        if (!genericValues.has(value.value.toLowerCase())) add(value.value, valueMeaning, 'name');
        // `yes`, `no`, `是`: too generic to name a value unless nothing else reads them (weak).
        for (const synonym of value.synonyms) add(synonym, valueMeaning, genericValues.has(normalize(synonym)) || genericWords.has(synonym) ? 'lexicon' : 'synonym');
      }
    }
  }
  for (const metric of dictionary.metrics) {
    const meaning: Meaning = { kind: 'metric', metric };
    addName(metric.name, meaning);
    for (const phrase of descriptionPhrases(metric.label)) add(phrase, meaning, 'synonym');
    for (const synonym of metric.synonyms) add(synonym, meaning, 'synonym');
  }
  return { dictionary, surfaces };
}

function rank(strength: Strength): number {
  return ['name', 'synonym', 'description', 'lexicon'].indexOf(strength);
}
