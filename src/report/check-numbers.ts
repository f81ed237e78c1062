/**
 * Checks the numbers of a narrative against the results it came from, so that a number a model
 * wrote but no result supports is flagged rather than presented with confidence. A number is
 * supported when, at the precision it is written with, it equals a value of some result, or one of
 * the figures people derive from a result in prose: a total, a share of a total, a difference, a
 * ratio or a relative change between two values of one column, or a result's row count. Percentages
 * match fractions (26.5% ↔ 0.265) as well as values already in percent. Numbers the question or the
 * code itself contains (a year in a filter, a "top 10") count as given, not as findings.
 */
import type { SqlValue } from '../sources/source.js';

export interface ResultToCheck {
  columns: string[];
  rows: readonly (readonly (SqlValue | unknown)[])[];
}

export interface NumberOccurrence {
  /** The number as written, with its sign, unit or percent sign. */
  text: string;
  /** Offsets into the narrative (UTF-16, as `String.slice` takes them). */
  start: number;
  end: number;
  /** The value written, scaled by any unit (万 = 10 000, k = 1 000…); a percent is not divided by 100. */
  value: number;
  /** What the last digit written is worth: 0.1 for "26.5", 1 for "1,200", 1 000 for "1.2万"… */
  step: number;
  percent: boolean;
  supported: boolean;
}

export interface NumberCheckResult {
  /** Numbers that were checked (small counts and given numbers are not). */
  checked: number;
  /** The unsupported numbers, as written, in order, each once. */
  unsupported: string[];
  occurrences: NumberOccurrence[];
}

export interface CheckNumbersOptions {
  /** Text whose numbers count as given: the question, the code that ran. */
  given?: readonly string[];
  /** Free text that results came back as (a Python cell's printed output): its numbers support the narrative too. */
  outputs?: readonly string[];
}

/**
 * Results with more rows than this are listings, not summaries: their values count, but totals,
 * shares and pairwise figures are not derived from them (thousands of pairwise differences would
 * support almost any number).
 */
const derivedRowLimit = 25;

/** Whole numbers up to this are prose ("two groups", "step 3"), not findings, unless they carry a percent sign or a unit. */
const smallestChecked = 10;

const unitScales: Record<string, number> = {
  万: 1e4,
  亿: 1e8,
  千: 1e3,
  百万: 1e6,
  k: 1e3,
  K: 1e3,
  thousand: 1e3,
  m: 1e6,
  M: 1e6,
  mn: 1e6,
  million: 1e6,
  millions: 1e6,
  b: 1e9,
  B: 1e9,
  bn: 1e9,
  billion: 1e9,
  billions: 1e9,
};

// Prose, not code: a number with optional sign, thousands separators, decimals, then an optional
// percent sign or unit. Dates and times are matched first so their parts are not read as numbers.
const datePattern = /\d{4}[-/年.]\d{1,2}(?:[-/月.]\d{1,2}日?)?|\d{1,2}:\d{2}(?::\d{2})?/gu;
const numberPattern = /(?<![\p{L}\d_.])([-−+]?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(\s?(?:%|％|个百分点|percentage points?|pp\b|百分点))?(\s?(?:百万|万|亿|千|thousand|millions?|billions?|bn|mn|[kKmMbB](?![\p{L}])))?/gu;

/** The numbers of a text, with what each was written as. Numbers inside `code spans` and dates are skipped. */
export function numbersIn(text: string): Omit<NumberOccurrence, 'supported'>[] {
  const skipped: [number, number][] = [];
  for (const match of text.matchAll(/`[^`\n]*`/gu)) skipped.push([match.index, match.index + match[0].length]);
  for (const match of text.matchAll(datePattern)) skipped.push([match.index, match.index + match[0].length]);
  const found: Omit<NumberOccurrence, 'supported'>[] = [];
  for (const match of text.matchAll(numberPattern)) {
    const start = match.index;
    if (skipped.some(([from, to]) => start >= from && start < to)) continue;
    const [whole, sign = '', digits = '', percentMark, unit] = match;
    const magnitude = Number(digits.replaceAll(',', ''));
    if (!Number.isFinite(magnitude)) continue;
    const scale = unit === undefined ? 1 : (unitScales[unit.trim()] ?? 1);
    const point = digits.indexOf('.');
    const decimals = point < 0 ? 0 : digits.length - point - 1;
    const value = (sign === '-' || sign === '−' ? -1 : 1) * magnitude * scale;
    found.push({ text: whole.trim(), start, end: start + whole.trimEnd().length, value, step: 10 ** -decimals * scale, percent: percentMark !== undefined });
  }
  return found;
}

/** Numbers a text cell names: the parts of a date ("2023-04-01" → 2023, 4, 1), a bin's bounds ("18-24"). */
function numbersInLabel(label: string): number[] {
  return [...label.matchAll(/\d+(?:\.\d+)?/gu)].map((match) => Number(match[0]));
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/u.test(value)) return Number(value);
  return undefined;
}

/** Every figure a result supports: its values, row count, column totals, shares, and pairwise differences, ratios and changes. */
function figuresOf(result: ResultToCheck): number[] {
  const figures: number[] = [result.rows.length];
  const rows = result.rows.length > derivedRowLimit ? [] : result.rows;
  for (let column = 0; column < result.columns.length; column++) {
    const values: number[] = [];
    for (const row of result.rows) {
      const cell = row[column];
      const value = numberOf(cell);
      if (value !== undefined) figures.push(value);
      else if (typeof cell === 'string') figures.push(...numbersInLabel(cell));
    }
    for (const row of rows) {
      const value = numberOf(row[column]);
      if (value !== undefined) values.push(value);
    }
    if (values.length < 2) continue;
    const total = values.reduce((sum, value) => sum + value, 0);
    figures.push(total, total / values.length);
    for (const value of values) if (total !== 0) figures.push(value / total);
    for (const first of values) {
      for (const second of values) {
        if (first === second) continue;
        figures.push(first - second);
        if (second !== 0) figures.push(first / second, (first - second) / second);
      }
    }
  }
  // Figures across columns of one row: a rate next to its count, two measures of one group.
  for (const row of rows) {
    const values = row.map(numberOf).filter((value): value is number => value !== undefined);
    for (const first of values) {
      for (const second of values) {
        if (first === second) continue;
        figures.push(first - second);
        if (second !== 0) figures.push(first / second, (first - second) / second);
      }
    }
  }
  return figures;
}

/**
 * True when `figure` reads as `written` at the precision written: rounded to it, or cut to it (some
 * writers cut rather than round). Signs are ignored, since prose says "fell by 3.2" of a -3.2.
 */
function agrees(figure: number, written: number, step: number): boolean {
  const actual = Math.abs(figure);
  const shown = Math.abs(written);
  const slack = shown * 1e-9;
  if (Math.abs(actual - shown) <= step / 2 + slack) return true;
  return actual >= shown - slack && actual < shown + step - slack;
}

function supportedBy(occurrence: Omit<NumberOccurrence, 'supported'>, figures: readonly number[]): boolean {
  for (const figure of figures) {
    if (agrees(figure, occurrence.value, occurrence.step)) return true;
    if (occurrence.percent && agrees(figure * 100, occurrence.value, occurrence.step)) return true;
  }
  return false;
}

/** The numbers of a text, as they would be compared: the written value, a percent as its fraction too. */
function givenValues(texts: readonly string[]): Set<number> {
  const values = new Set<number>();
  for (const text of texts) {
    for (const occurrence of numbersIn(text)) {
      values.add(Math.abs(occurrence.value));
      if (occurrence.percent) values.add(Math.abs(occurrence.value) / 100);
    }
  }
  return values;
}

/**
 * Checks every number of `narrative` against `results` (and the printed `outputs`). Whole numbers up
 * to 10 without a unit or percent are not checked, nor are numbers the `given` texts contain.
 */
export function checkNumbers(narrative: string, results: readonly ResultToCheck[], options: CheckNumbersOptions = {}): NumberCheckResult {
  const figures = results.flatMap(figuresOf);
  for (const output of options.outputs ?? []) for (const occurrence of numbersIn(output)) figures.push(occurrence.value, occurrence.percent ? occurrence.value / 100 : occurrence.value);
  const given = givenValues(options.given ?? []);
  const occurrences: NumberOccurrence[] = [];
  let checked = 0;
  const unsupported: string[] = [];
  for (const occurrence of numbersIn(narrative)) {
    const small = occurrence.step === 1 && Math.abs(occurrence.value) <= smallestChecked && !occurrence.percent;
    if (small || given.has(Math.abs(occurrence.value))) {
      occurrences.push({ ...occurrence, supported: true });
      continue;
    }
    checked++;
    const supported = supportedBy(occurrence, figures);
    occurrences.push({ ...occurrence, supported });
    if (!supported && !unsupported.includes(occurrence.text)) unsupported.push(occurrence.text);
  }
  return { checked, unsupported, occurrences };
}
