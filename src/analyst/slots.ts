/**
 * Turns matched tokens into slots: each term resolved to one table, column, value or metric where
 * the words around it allow, negations attached to the values they negate. Ambiguity that context
 * cannot settle is kept, for the interpreter to report rather than guess.
 */
import type { ColumnEntry, MetricEntry, TableEntry, ValueEntry } from '../dictionary/dictionary.js';
import type { Keyword } from './keywords.js';
import type { Token } from './matcher.js';
import type { ColumnRef } from './plan.js';
import type { Strength, VocabularyEntry } from './vocabulary.js';

export interface ValueOption extends ColumnRef {
  value: ValueEntry;
  strength: Strength;
}

export type Slot =
  | { kind: 'metric'; metric: MetricEntry; text: string }
  | { kind: 'column'; options: (ColumnRef & { strength: Strength })[]; values: ValueOption[]; text: string }
  | { kind: 'value'; options: ValueOption[]; negate: boolean; text: string }
  | { kind: 'table'; options: TableEntry[]; text: string }
  | { kind: 'keyword'; keywords: readonly Keyword[]; text: string }
  | { kind: 'number'; value: number; percent: boolean; text: string }
  | { kind: 'date'; year: number; month?: number; quarter?: number; text: string }
  | { kind: 'unknown'; text: string };

export interface SlotState {
  slot: Slot;
  used: boolean;
}

const strengthRank: Record<Strength, number> = { name: 0, synonym: 1, description: 2, lexicon: 3 };

function best<T extends { strength: Strength }>(options: T[]): T[] {
  const top = Math.min(...options.map((option) => strengthRank[option.strength]));
  return options.filter((option) => strengthRank[option.strength] === top);
}

function termSlot(text: string, entries: VocabularyEntry[], keywords: readonly Keyword[]): Slot {
  const strongest = Math.min(...entries.map((entry) => strengthRank[entry.strength]));
  // A word the dictionary only knows weakly (a description or lexicon word) that is also a question word
  // is read as the question word: `total` is an aggregate before it is some column's description.
  if (strongest >= strengthRank.description && keywords.length > 0) return { kind: 'keyword', keywords, text };
  const metrics = best(entries.filter((entry) => entry.meaning.kind === 'metric'));
  if (metrics.length > 0 && metrics[0]?.meaning.kind === 'metric') return { kind: 'metric', metric: metrics[0].meaning.metric, text };
  const values: ValueOption[] = [];
  const columns: (ColumnRef & { strength: Strength })[] = [];
  const tables: TableEntry[] = [];
  for (const entry of entries) {
    const meaning = entry.meaning;
    if (meaning.kind === 'value') values.push({ table: meaning.table, column: meaning.column, value: meaning.value, strength: entry.strength });
    else if (meaning.kind === 'column') columns.push({ table: meaning.table, column: meaning.column, strength: entry.strength });
    else if (meaning.kind === 'table') tables.push(meaning.table);
  }
  // A word that is a value's synonym but only a column's description word (`churned`) is the value.
  const strongestValue = Math.min(...values.map((value) => strengthRank[value.strength]));
  const strongestColumn = Math.min(...columns.map((column) => strengthRank[column.strength]));
  if (values.length > 0 && strongestValue < strongestColumn) return { kind: 'value', options: best(values), negate: false, text };
  if (columns.length > 0) return { kind: 'column', options: best(columns), values, text };
  if (values.length > 0) return { kind: 'value', options: values, negate: false, text };
  return { kind: 'table', options: tables, text };
}

/**
 * A word that is both a value and a question word (`按月`: Month-to-month contracts, or "by month") is
 * the value only when its column is named right beside it (`按月合同`); otherwise the question word.
 */
function valueOrKeyword(tokens: readonly Token[], index: number, slot: Slot): Slot {
  const token = tokens[index];
  if (token?.kind !== 'term' || (slot.kind !== 'value' && slot.kind !== 'column')) return slot;
  const keywords = token.keywords.filter((keyword) => keyword !== 'stop');
  if (keywords.length === 0) return slot;
  const columns = new Set((slot.kind === 'value' ? slot.options : slot.values).map((option) => option.column));
  if (slot.kind === 'column') for (const option of slot.options) columns.add(option.column);
  const tables = new Set([...columns].map((column) => (slot.kind === 'value' ? slot.options : slot.values).find((option) => option.column === column)?.table));
  for (const near of [tokens[index + 1], tokens[index - 1], tokens[index + 2], tokens[index - 2]]) {
    if (near?.kind !== 'term') continue;
    if (near.entries.some((entry) => entry.meaning.kind === 'column' && columns.has(entry.meaning.column))) return slot;
    // `纸质账单、按月付的用户`: beside another value of the same table, it is a value too.
    if (near.keywords.length === 0 && near.entries.some((entry) => entry.meaning.kind === 'value' && tables.has(entry.meaning.table))) return slot;
  }
  return { kind: 'keyword', keywords, text: slot.text };
}

/** `the churn table`, `账单表`: a word that also names a table is the table when `table`/`表` follows. */
function tableBeforeTableWord(tokens: readonly Token[], index: number): Slot | undefined {
  const token = tokens[index];
  const next = tokens[index + 1];
  if (token?.kind !== 'term' || next === undefined || !['table', '表', '表格', 'tables'].includes(next.text)) return undefined;
  const tables = token.entries.flatMap((entry) => (entry.meaning.kind === 'table' ? [entry.meaning.table] : []));
  return tables.length > 0 ? { kind: 'table', options: tables, text: token.text } : undefined;
}

/** `senior status`, `流失状态`, `是否…与否`: a value word naming its column. */
function columnBeforeStatusWord(tokens: readonly Token[], index: number, slot: Slot): Slot {
  const next = tokens[index + 1];
  if (slot.kind !== 'value' || next === undefined || !['status', 'flag', 'group', 'groups', '状态', '与否', '情况'].includes(next.text)) return slot;
  const columns = new Map(slot.options.map((option) => [option.column, option]));
  if (columns.size !== 1) return slot;
  const [option] = [...columns.values()] as [ValueOption];
  return { kind: 'column', options: [{ table: option.table, column: option.column, strength: option.strength }], values: [], text: slot.text };
}

export function toSlots(tokens: readonly Token[]): SlotState[] {
  const slots: SlotState[] = tokens.map((token, index): SlotState => {
    const table = tableBeforeTableWord(tokens, index);
    if (table !== undefined) return { slot: table, used: false };
    if (token.kind === 'term') {
      const slot = columnBeforeStatusWord(tokens, index, valueOrKeyword(tokens, index, termSlot(token.text, token.entries, token.keywords)));
      return { slot, used: false };
    }
    switch (token.kind) {
      case 'keyword':
        return { slot: { kind: 'keyword', keywords: token.keywords, text: token.text }, used: false };
      case 'number':
        return { slot: { kind: 'number', value: token.value, percent: token.percent, text: token.text }, used: false };
      case 'date': {
        const slot: Slot = { kind: 'date', year: token.year, text: token.text };
        if (token.month !== undefined) slot.month = token.month;
        if (token.quarter !== undefined) slot.quarter = token.quarter;
        return { slot, used: false };
      }
      case 'unknown':
        return { slot: { kind: 'unknown', text: token.text }, used: false };
    }
  });
  attachNegations(slots);
  return slots;
}

export function hasKeyword(state: SlotState | undefined, keyword: Keyword): boolean {
  return state !== undefined && state.slot.kind === 'keyword' && state.slot.keywords.includes(keyword);
}

export function isStop(state: SlotState | undefined): boolean {
  return state !== undefined && state.slot.kind === 'keyword' && state.slot.keywords.length === 1 && state.slot.keywords[0] === 'stop';
}

/** `非`/`not`/`without` right before a value (stop words between allowed) negates it. */
function attachNegations(slots: SlotState[]): void {
  for (let index = 0; index < slots.length; index++) {
    const state = slots[index];
    if (!hasKeyword(state, 'not') || state === undefined) continue;
    let next = index + 1;
    // `不用电子支票`, `don't use fiber`: the verb between the negation and the value is skipped.
    while (isStop(slots[next]) || hasKeyword(slots[next], 'have')) next++;
    const target = slots[next]?.slot;
    if (target?.kind === 'value') {
      target.negate = !target.negate;
      state.used = true;
      for (let verb = index + 1; verb < next; verb++) if (hasKeyword(slots[verb], 'have')) (slots[verb] as SlotState).used = true;
    } else if (target?.kind === 'column' && target.values.length > 0) {
      slots[next] = { slot: { kind: 'value', options: target.values, negate: true, text: target.text }, used: false };
      state.used = true;
    }
  }
}

/** The tables a question names through its columns, values, metrics and tables (for settling values). */
export function mentionedTables(slots: readonly SlotState[], metricTables: (metric: MetricEntry) => string[]): Set<string> {
  const names = new Set<string>();
  for (const { slot } of slots) {
    if (slot.kind === 'column' && slot.options.length === 1) names.add(slot.options[0]?.table.name ?? '');
    if (slot.kind === 'table' && slot.options.length === 1) names.add(slot.options[0]?.name ?? '');
    if (slot.kind === 'metric') for (const table of metricTables(slot.metric)) names.add(table);
  }
  names.delete('');
  return names;
}

/** Options of a value slot narrowed by a column named next to it, then by the tables in play. */
export function settleValue(slots: readonly SlotState[], index: number, tables: Set<string>): ValueOption[] {
  const slot = slots[index]?.slot;
  if (slot?.kind !== 'value') return [];
  let options = slot.options;
  const columnsNear: ColumnEntry[] = [];
  for (const offset of [-1, -2, -3, 1, 2]) {
    const near = slots[index + offset]?.slot;
    if (near?.kind === 'column') for (const option of near.options) columnsNear.push(option.column);
  }
  const byNear = options.filter((option) => columnsNear.includes(option.column));
  if (byNear.length > 0) options = byNear;
  if (new Set(options.map((option) => option.column)).size > 1) {
    const byTable = options.filter((option) => tables.has(option.table.name));
    if (byTable.length > 0) options = byTable;
  }
  if (new Set(options.map((option) => option.column)).size > 1) options = best(options);
  if (new Set(options.map((option) => option.column)).size > 1) {
    // The column whose own name or synonym is part of the words (`无网络服务` → 网络服务 InternetService).
    const text = slot.text;
    const named = options.filter((option) =>
      [option.column.name, ...option.column.synonyms].some((name) => name.length >= 2 && text.includes(name.toLowerCase())),
    );
    if (named.length > 0) options = named;
  }
  return options;
}
