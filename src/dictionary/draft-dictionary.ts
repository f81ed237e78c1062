import { basename } from 'node:path';
import type { ColumnInfo, ColumnProfile, DataSource, SqlValue, TableInfo, TableProfile } from '../sources/source.js';
import {
  createDictionary,
  type ColumnEntry,
  type Dictionary,
  type MetricEntry,
  type Relationship,
  type Sensitivity,
  type TableEntry,
  type ValueEntry,
  type ValueLiteral,
} from './dictionary.js';
import { translateWords } from './lexicon.js';
import { readableName, splitName } from './readable-name.js';

export interface DraftOptions {
  /** The dictionary's name; default: the data's file or database name. */
  name?: string;
  /** Most distinct values for a text column to get a `values` list. Default 20. */
  categoricalLimit?: number;
  /** Called once per table, for a progress line. */
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

const defaultCategoricalLimit = 20;
/** Integer columns with more distinct values than this are measures or ids, not codes. */
const integerCodeLimit = 10;

/**
 * Drafts a dictionary from what the source can tell: every table and column with its type family,
 * readable names and lexicon synonyms in Chinese and English, keys (declared, else a unique non-null
 * id-like column), relationships (declared foreign keys, else same-named id columns where one side
 * is a key), values of categorical columns, guessed sensitivity, and a count metric per entity.
 * The draft is a start for a person to edit, not the truth.
 */
export async function draftDictionary(source: DataSource, options: DraftOptions = {}): Promise<Dictionary> {
  const categoricalLimit = options.categoricalLimit ?? defaultCategoricalLimit;
  const infos = uniqueByName(await source.listTables());
  const tables: TableEntry[] = [];
  for (const info of infos) {
    options.signal?.throwIfAborted();
    options.onProgress?.(`Profiling ${info.name} (${info.rowCount} rows)…`);
    const profileOptions = options.signal === undefined ? { categoricalLimit } : { categoricalLimit, signal: options.signal };
    const profile = await source.profileTable(info.name, profileOptions);
    tables.push(draftTable(info, profile, categoricalLimit));
  }
  const relationships = draftRelationships(infos, tables);
  return createDictionary({
    name: options.name ?? nameOfSource(source.label),
    description: `Drafted by iquery from ${source.label}`,
    tables,
    relationships,
    metrics: draftMetrics(source, tables, relationships),
  });
}

function uniqueByName(tables: TableInfo[]): TableInfo[] {
  const seen = new Set<string>();
  return tables.filter((table) => {
    const key = table.name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function nameOfSource(label: string): string {
  const last = basename(label.split('?')[0] ?? label);
  const dot = last.indexOf('.');
  const stem = dot > 0 ? last.slice(0, dot) : last;
  return splitName(stem).join('_') || 'data';
}

/** `id`, `customer_id`, `customerId`, `customerID`, `order_key`, `zipcode`, `product_code`. */
export function looksLikeId(name: string): boolean {
  const words = splitName(name);
  const last = words[words.length - 1] ?? '';
  return ['id', 'key', 'uuid', 'guid'].includes(last) || last.endsWith('code');
}

function draftTable(info: TableInfo, profile: TableProfile, categoricalLimit: number): TableEntry {
  const profiles = new Map(profile.columns.map((column) => [column.name, column]));
  const primaryKey = info.primaryKey.length > 0 ? info.primaryKey : guessKey(info, profiles);
  return {
    name: info.name,
    ...describe(info.name),
    primaryKey,
    columns: info.columns.map((column) => draftColumn(column, profiles.get(column.name), primaryKey, categoricalLimit)),
  };
}

function guessKey(info: TableInfo, profiles: Map<string, ColumnProfile>): string[] {
  const candidate = info.columns.find((column) => {
    const profile = profiles.get(column.name);
    return profile !== undefined && profile.unique && profile.nullCount === 0 && column.family !== 'float' && looksLikeId(column.name);
  });
  return candidate === undefined ? [] : [candidate.name];
}

/** Description and synonyms from the name's words and the lexicon. */
function describe(name: string): { description: string; synonyms: string[] } {
  const words = splitName(name);
  const readable = words.join(' ');
  const translation = translateWords(words);
  const synonyms = new Set<string>();
  if (readable !== name.toLowerCase() && readable !== '') synonyms.add(readable);
  for (const term of translation?.chinese ?? []) synonyms.add(term);
  for (const term of translation?.english ?? []) synonyms.add(term);
  const chinese = translation?.chinese[0];
  return { description: chinese === undefined ? readable : `${chinese} / ${readable}`, synonyms: [...synonyms] };
}

function draftColumn(info: ColumnInfo, profile: ColumnProfile | undefined, primaryKey: string[], categoricalLimit: number): ColumnEntry {
  const isKey = primaryKey.includes(info.name);
  return {
    name: info.name,
    ...describe(info.name),
    values: isKey || profile === undefined ? [] : draftValues(info, profile, categoricalLimit),
    sensitivity: guessSensitivity(info.name),
    type: info.family,
  };
}

/**
 * Values of a categorical column (the profile's: few distinct values, each repeated): text and
 * booleans, and integers with few values (codes and flags). Floats, dates and ids get none.
 */
function draftValues(info: ColumnInfo, profile: ColumnProfile, categoricalLimit: number): ValueEntry[] {
  if (!profile.categorical || profile.values.length === 0) return [];
  const last = splitName(info.name).at(-1) ?? '';
  if (['id', 'uuid', 'guid', 'key'].includes(last)) return [];
  let literal: ValueLiteral;
  if (info.family === 'boolean') literal = 'boolean';
  else if (info.family === 'text' && profile.distinctCount <= categoricalLimit) literal = 'string';
  else if (info.family === 'integer' && profile.distinctCount <= integerCodeLimit) literal = 'number';
  else return [];

  const isFlag = literal === 'number' && profile.values.every((item) => item.value === 0 || item.value === 1);
  const claimed = new Set<string>();
  const values = profile.values.map((item): ValueEntry => {
    const value = String(item.value);
    const synonyms = valueSynonyms(item.value, isFlag).filter((synonym) => !claimed.has(synonym));
    for (const synonym of synonyms) claimed.add(synonym);
    return { value, literal, synonyms };
  });
  // Profiles list the most frequent first; a dictionary reads better in a stable order.
  return values.sort((left, right) => left.value.localeCompare(right.value, 'en', { numeric: true }));
}

function valueSynonyms(value: SqlValue, isFlag: boolean): string[] {
  if (isFlag) return value === 1 ? ['是'] : ['否'];
  if (typeof value === 'number') return [];
  const translation = translateWords(splitName(String(value)));
  // Single letters (`y`, `n`) are too short to be useful synonyms.
  return translation === undefined ? [] : [...translation.chinese, ...translation.english.filter((english) => english.length > 1)];
}

const restrictedWords = new Set(['password', 'passwd', 'pwd', 'secret', 'token', 'ssn', 'salt']);
const restrictedPhrases = ['id card', 'id number', 'card number', 'social security', 'api key', 'private key', '身份证', '密码', '银行卡'];
/** Personal details, when the name ends with them: `email_address`, `mobilePhone` (not `PhoneService`). */
const confidentialWords = new Set(['email', 'mail', 'phone', 'mobile', 'telephone', 'tel', 'address', 'birthday', 'dob', 'salary', 'ip', 'passport', 'iban']);
const confidentialPhrases = ['phone number', 'mobile number', 'first name', 'last name', 'full name', 'birth date', 'date of birth', '手机', '电话', '邮箱', '地址', '姓名', '生日'];

/** From the column's name: secrets and government ids are restricted, contact details confidential, ids internal. */
export function guessSensitivity(name: string): Sensitivity {
  const words = splitName(name);
  const phrase = ` ${words.join(' ')} `;
  const has = (phrases: string[]): boolean => phrases.some((candidate) => phrase.includes(` ${candidate} `) || name.includes(candidate));
  if (words.some((word) => restrictedWords.has(word)) || has(restrictedPhrases)) return 'restricted';
  if (confidentialWords.has(words.at(-1) ?? '') || has(confidentialPhrases)) return 'confidential';
  if (looksLikeId(name)) return 'internal';
  return 'public';
}

function draftRelationships(infos: TableInfo[], tables: TableEntry[]): Relationship[] {
  const relationships: Relationship[] = [];
  const related = new Set<string>();
  const add = (from: { table: string; column: string }, to: { table: string; column: string }): void => {
    const key = [`${from.table}.${from.column}`, `${to.table}.${to.column}`].sort().join('=').toLowerCase();
    if (related.has(key)) return;
    related.add(key);
    relationships.push({ from, to });
  };

  for (const info of infos) {
    for (const foreignKey of info.foreignKeys) {
      // A relationship joins one column to one column; composite keys are left to the person.
      const [column] = foreignKey.columns;
      const [referenced] = foreignKey.referencedColumns;
      if (foreignKey.columns.length !== 1 || column === undefined || referenced === undefined) continue;
      add({ table: info.name, column }, { table: foreignKey.referencedTable, column: referenced });
    }
  }

  const rowCounts = new Map(infos.map((info) => [info.name, info.rowCount]));
  const singleKey = (table: TableEntry): string | undefined => (table.primaryKey.length === 1 ? table.primaryKey[0] : undefined);

  // Same-named id columns (not bare `id`): every table having one joins the table keyed by it.
  const byColumn = new Map<string, { table: TableEntry; column: string }[]>();
  for (const table of tables) {
    for (const column of table.columns) {
      const key = column.name.toLowerCase();
      if (key === 'id' || !looksLikeId(column.name)) continue;
      byColumn.set(key, [...(byColumn.get(key) ?? []), { table, column: column.name }]);
    }
  }
  for (const holders of byColumn.values()) {
    const keyed = holders.filter((holder) => singleKey(holder.table)?.toLowerCase() === holder.column.toLowerCase());
    const hub = chooseHub(keyed, rowCounts);
    if (hub === undefined) continue;
    for (const holder of holders) {
      if (holder.table !== hub.table) add({ table: holder.table.name, column: holder.column }, { table: hub.table.name, column: hub.column });
    }
  }

  // `orders.customer_id` → `customers.id`.
  for (const table of tables) {
    for (const column of table.columns) {
      const words = splitName(column.name);
      if (words.length < 2 || words.at(-1) !== 'id') continue;
      const stem = words.slice(0, -1).join(' ');
      const target = tables.find((candidate) => candidate !== table && singleKey(candidate)?.toLowerCase() === 'id' && singular(readableName(candidate.name)) === stem);
      const targetKey = target === undefined ? undefined : singleKey(target);
      if (target !== undefined && targetKey !== undefined) add({ table: table.name, column: column.name }, { table: target.name, column: targetKey });
    }
  }
  return relationships;
}

function singular(phrase: string): string {
  if (phrase.endsWith('ies')) return `${phrase.slice(0, -3)}y`;
  if (phrase.endsWith('s') && !phrase.endsWith('ss')) return phrase.slice(0, -1);
  return phrase;
}

/** Words that mark the table describing an entity itself, as opposed to facts about it. */
const entityTableWords = new Set(['customer', 'user', 'client', 'member', 'account', 'demographic', 'profile', 'info', 'information', 'master', 'dim', 'dimension']);

/**
 * The table a shared key belongs to: the one named after the key (`customers` for `customer_id`),
 * else one whose name says it describes an entity (`user_demographics`, `dim_customer`), else the
 * one with the most rows, else the first.
 */
function chooseHub(keyed: { table: TableEntry; column: string }[], rowCounts: Map<string, number>): { table: TableEntry; column: string } | undefined {
  const named = keyed.find((holder) => {
    const stem = splitName(holder.column).slice(0, -1).join(' ');
    return stem !== '' && singular(readableName(holder.table.name)) === stem;
  });
  if (named !== undefined) return named;
  const entityTables = keyed.filter((holder) => {
    const words = splitName(holder.table.name).map(singular);
    return words.at(-1) !== undefined && entityTableWords.has(words.at(-1) ?? '');
  });
  if (entityTables.length === 1) return entityTables[0];
  let best: { table: TableEntry; column: string } | undefined;
  for (const holder of keyed) {
    if (best === undefined || (rowCounts.get(holder.table.name) ?? 0) > (rowCounts.get(best.table.name) ?? 0)) best = holder;
  }
  return best;
}

/**
 * One `COUNT(DISTINCT key)` metric per entity: tables with a one-column key, except those whose key
 * only extends another table's key (a 1:1 detail table counts the same entities).
 */
function draftMetrics(source: DataSource, tables: TableEntry[], relationships: Relationship[]): MetricEntry[] {
  const metrics: MetricEntry[] = [];
  for (const table of tables) {
    const [key] = table.primaryKey;
    if (key === undefined || table.primaryKey.length !== 1) continue;
    const extendsAnother = relationships.some((relationship) => relationship.from.table === table.name && relationship.from.column === key);
    if (extendsAnother) continue;
    const keyWords = splitName(key);
    const entityWords = keyWords.length > 1 ? keyWords.slice(0, -1) : splitName(singular(readableName(table.name)));
    const entity = entityWords.join(' ');
    const name = `${entityWords.join('_')}_count`;
    if (entity === '' || metrics.some((metric) => metric.name === name)) continue;
    const chinese = translateWords(entityWords)?.chinese[0];
    metrics.push({
      name,
      label: chinese === undefined ? `${entity} count` : `${chinese}数 / ${entity} count`,
      synonyms: [...(chinese === undefined ? [] : [`${chinese}数`, `${chinese}数量`]), `number of ${entity}s`],
      sql: `COUNT(DISTINCT ${sqlName(source, table.name)}.${sqlName(source, key)})`,
      format: 'integer',
    });
  }
  return metrics;
}

/** Common reserved words that make table or column names unusable bare (`user` is one in PostgreSQL). */
const reservedWords = new Set(['user', 'order', 'group', 'select', 'from', 'where', 'table', 'key', 'to', 'by', 'desc', 'asc', 'limit', 'index', 'check', 'default', 'column', 'primary', 'references', 'end', 'case', 'when', 'all', 'and', 'or', 'not', 'in', 'is', 'as', 'on', 'date', 'time', 'year', 'month', 'day']);

/** Plain names stay bare for readability; others are quoted for the source's dialect. */
function sqlName(source: DataSource, name: string): string {
  // PostgreSQL folds bare names to lower case, so mixed-case names must be quoted there.
  const plain = source.dialect === 'postgres' ? /^[a-z_][a-z0-9_]*$/ : /^[A-Za-z_][A-Za-z0-9_]*$/;
  return plain.test(name) && !reservedWords.has(name.toLowerCase()) ? name : source.quoteIdentifier(name);
}
