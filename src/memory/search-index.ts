/**
 * The model's `search_dictionary` tool: BM25 over the data dictionary (tables, columns, values and
 * their synonyms), the metric dictionary and the saved memory notes, so that a question's words —
 * Chinese or English — lead to the names the SQL must use. Chinese needs no segmenter: it is indexed
 * as single characters and character bigrams.
 */
import type { ColumnEntry, Dictionary, MetricEntry, TableEntry, ValueEntry } from '../dictionary/dictionary.js';
import type { MemoryNote } from './memory-store.js';

export const searchHitKinds = ['table', 'column', 'value', 'metric', 'memory'] as const;
export type SearchHitKind = (typeof searchHitKinds)[number];

export interface SearchHit {
  kind: SearchHitKind;
  /** The table of a table, column or value hit. */
  table?: string;
  /** The column of a column or value hit. */
  column?: string;
  /** The entry's own name: a table, column or metric name, a value as written, a memory note's id. */
  name: string;
  /** One line for the model: what the entry is, what it means, what else it is called. */
  text: string;
  /** BM25 score, higher is better; always above 0. */
  score: number;
}

export interface SearchIndex {
  /**
   * The best entries for the query, best first; ties keep the dictionary's order. `limit` defaults to
   * 8. A query with no searchable word, or no word in common with any entry, gives `[]`.
   */
  search(query: string, limit?: number): SearchHit[];
}

/** BM25 term-frequency saturation. */
const k1 = 1.2;
/** BM25 length normalisation. */
const b = 0.75;
/** Names and synonyms count this many times the description's words. */
const nameWeight = 2;
/** Longer queries (the tool's input comes from a model) are cut to this many characters. */
const maximumQueryLength = 1000;
/** Summaries of dictionary entries are cut to this many characters; memory notes are given whole. */
const maximumSummaryLength = 300;

/** Scripts written without spaces between words: indexed by character. */
const characterScript = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const pieces = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}\p{M}_])+/gu;
/** camelCase parts: `customerID` → customer, ID; `HTTPServer` → HTTP, Server. */
const camelParts = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|\p{L}+/gu;

/** Words too common to tell entries apart. */
const stopWords = new Set([
  'a', 'an', 'the', 'of', 'is', 'are', 'was', 'were', 'be', 'by', 'in', 'on', 'at', 'for', 'to', 'and', 'or', 'with', 'what', 'which', 'how', 'me', 'show',
  '的', '了', '吗', '呢', '吧', '啊', '么',
]);

/** `charges` → `charge`, `categories` → `category`; leaves `status`, `class`, `analysis` alone. */
function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function addWord(word: string, tokens: string[]): void {
  const lower = singular(word.toLowerCase());
  if (lower !== '' && !stopWords.has(lower)) tokens.push(lower);
}

/**
 * The search terms of a text: NFKC-normalised; words lower-cased with a plural `s` dropped, each also
 * split at underscores and camelCase (`MonthlyCharges` → monthlycharge, monthly, charge); Chinese
 * (and Japanese and Korean) as every single character and every pair of neighbouring characters.
 * Empty text gives `[]`.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [piece] of text.normalize('NFKC').matchAll(pieces)) {
    if (characterScript.test(piece)) {
      const characters = [...piece];
      characters.forEach((character, index) => {
        addWord(character, tokens);
        const next = characters[index + 1];
        if (next !== undefined) tokens.push(character + next);
      });
      continue;
    }
    const parts = piece.split('_').flatMap((part) => part.match(camelParts) ?? []);
    const whole = piece.replace(/^_+|_+$/g, '');
    if (whole !== '') addWord(whole, tokens);
    if (parts.length > 1) for (const part of parts) addWord(part, tokens);
  }
  return tokens;
}

interface Field {
  text: string | undefined;
  weight: number;
}

interface Document {
  hit: Omit<SearchHit, 'score'>;
  terms: Map<string, number>;
  length: number;
}

function documentOf(hit: Omit<SearchHit, 'score'>, fields: readonly Field[]): Document {
  const terms = new Map<string, number>();
  let length = 0;
  for (const field of fields) {
    if (field.text === undefined) continue;
    for (const token of tokenize(field.text)) {
      terms.set(token, (terms.get(token) ?? 0) + field.weight);
      length += field.weight;
    }
  }
  return { hit, terms, length };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ↵ ').replace(/\s+/g, ' ').trim();
}

function summary(text: string): string {
  const line = oneLine(text);
  const characters = [...line];
  return characters.length <= maximumSummaryLength ? line : `${characters.slice(0, maximumSummaryLength - 1).join('')}…`;
}

function alsoCalled(synonyms: readonly string[]): string {
  return synonyms.length === 0 ? '' : `; also: ${synonyms.join(', ')}`;
}

function tableDocument(table: TableEntry): Document {
  return documentOf(
    { kind: 'table', table: table.name, name: table.name, text: summary(`table ${table.name}${table.description === undefined ? '' : `: ${table.description}`}${alsoCalled(table.synonyms)}`) },
    [
      { text: table.name, weight: nameWeight },
      { text: table.synonyms.join(' \n '), weight: nameWeight },
      { text: table.description, weight: 1 },
    ],
  );
}

function hidesValues(column: ColumnEntry): boolean {
  return column.sensitivity === 'confidential' || column.sensitivity === 'restricted';
}

function columnDocument(table: TableEntry, column: ColumnEntry): Document {
  const facts = [
    column.unit === undefined ? undefined : `unit ${column.unit}`,
    hidesValues(column) ? `${column.sensitivity}: its values are not shown` : undefined,
  ].filter((fact) => fact !== undefined);
  const text = `column ${table.name}.${column.name}${column.description === undefined ? '' : `: ${column.description}`}${facts.length === 0 ? '' : ` (${facts.join('; ')})`}${alsoCalled(column.synonyms)}`;
  return documentOf({ kind: 'column', table: table.name, column: column.name, name: column.name, text: summary(text) }, [
    { text: column.name, weight: nameWeight },
    { text: column.synonyms.join(' \n '), weight: nameWeight },
    { text: column.description, weight: 1 },
    { text: column.unit, weight: 1 },
  ]);
}

function valueDocument(table: TableEntry, column: ColumnEntry, value: ValueEntry): Document {
  const written = value.literal === 'string' ? `'${value.value.replaceAll("'", "''")}'` : value.value;
  return documentOf(
    { kind: 'value', table: table.name, column: column.name, name: value.value, text: summary(`value ${written} of ${table.name}.${column.name}${alsoCalled(value.synonyms)}`) },
    [
      { text: value.value, weight: nameWeight },
      { text: value.synonyms.join(' \n '), weight: nameWeight },
    ],
  );
}

function metricDocument(metric: MetricEntry): Document {
  const facts = [metric.format, metric.unit].filter((fact) => fact !== undefined);
  const text = `metric ${metric.name}: ${metric.label} = ${metric.sql}${facts.length === 0 ? '' : ` (${facts.join(', ')})`}${metric.description === undefined ? '' : `; ${metric.description}`}${alsoCalled(metric.synonyms)}`;
  return documentOf({ kind: 'metric', name: metric.name, text: summary(text) }, [
    { text: metric.name, weight: nameWeight },
    { text: metric.label, weight: nameWeight },
    { text: metric.synonyms.join(' \n '), weight: nameWeight },
    { text: metric.description, weight: 1 },
    { text: metric.sql, weight: 1 },
  ]);
}

function memoryDocument(note: MemoryNote): Document {
  return documentOf({ kind: 'memory', name: note.id, text: `memory ${note.id} (${note.kind}): ${oneLine(note.note)}` }, [{ text: note.note, weight: 1 }]);
}

/**
 * Indexes a dictionary and memory notes for `search`. Only `saved` notes are indexed; pending ones wait
 * for the user. Columns marked `confidential` or `restricted` are found by their name, description and
 * synonyms, but their values are left out.
 */
export function buildSearchIndex(dictionary: Dictionary, notes: readonly MemoryNote[]): SearchIndex {
  const documents: Document[] = [];
  for (const table of dictionary.tables) {
    documents.push(tableDocument(table));
    for (const column of table.columns) documents.push(columnDocument(table, column));
  }
  for (const table of dictionary.tables) {
    for (const column of table.columns) {
      if (hidesValues(column)) continue;
      for (const value of column.values) documents.push(valueDocument(table, column, value));
    }
  }
  for (const metric of dictionary.metrics) documents.push(metricDocument(metric));
  for (const note of notes) if (note.status === 'saved') documents.push(memoryDocument(note));

  const documentFrequency = new Map<string, number>();
  for (const document of documents) for (const term of document.terms.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const count = documents.length;
  const averageLength = count === 0 ? 0 : documents.reduce((sum, document) => sum + document.length, 0) / count;
  // The +1 inside the logarithm (as Lucene does) keeps a word found in most entries from scoring below zero.
  const inverseFrequency = (term: string): number => {
    const frequency = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5));
  };

  return {
    search(query: string, limit = 8): SearchHit[] {
      const wanted = Math.max(0, Math.floor(limit));
      if (wanted === 0 || count === 0 || typeof query !== 'string') return [];
      const terms = [...new Set(tokenize(query.slice(0, maximumQueryLength)))].filter((term) => documentFrequency.has(term));
      if (terms.length === 0) return [];
      const scored: { index: number; score: number }[] = [];
      documents.forEach((document, index) => {
        let score = 0;
        for (const term of terms) {
          const frequency = document.terms.get(term);
          if (frequency === undefined) continue;
          const normalised = k1 * (1 - b + (b * document.length) / averageLength);
          score += inverseFrequency(term) * ((frequency * (k1 + 1)) / (frequency + normalised));
        }
        if (score > 0) scored.push({ index, score });
      });
      scored.sort((left, right) => right.score - left.score || left.index - right.index);
      return scored.slice(0, wanted).map(({ index, score }) => ({ ...(documents[index] as Document).hit, score: Math.round(score * 1000) / 1000 }));
    },
  };
}
