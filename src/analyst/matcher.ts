/**
 * Reads a normalised question left to right, taking at each position the longest surface that the
 * vocabulary or the keyword table knows (Chinese needs no word segmenter: the surfaces are the
 * words). English surfaces must start and end on word boundaries. Numbers become number tokens;
 * whatever is left over is kept as `unknown` text, so that the interpreter can tell what it did not
 * understand.
 */
import { keywordSurfaces, type Keyword } from './keywords.js';
import { hasHan, isWordChar } from './text.js';
import type { Vocabulary, VocabularyEntry } from './vocabulary.js';

export type Token =
  | { kind: 'term'; text: string; start: number; end: number; entries: VocabularyEntry[]; keywords: readonly Keyword[] }
  | { kind: 'keyword'; text: string; start: number; end: number; keywords: readonly Keyword[] }
  | { kind: 'number'; text: string; start: number; end: number; value: number; percent: boolean }
  | { kind: 'date'; text: string; start: number; end: number; year: number; month?: number; quarter?: number }
  | { kind: 'unknown'; text: string; start: number; end: number };

interface Trie {
  next: Map<string, Trie>;
  surface?: string;
}

export interface Matcher {
  vocabulary: Vocabulary;
  root: Trie;
  longest: number;
}

export function createMatcher(vocabulary: Vocabulary): Matcher {
  const root: Trie = { next: new Map() };
  let longest = 0;
  const insert = (surface: string): void => {
    let node = root;
    for (const char of surface) {
      let child = node.next.get(char);
      if (child === undefined) {
        child = { next: new Map() };
        node.next.set(char, child);
      }
      node = child;
    }
    node.surface = surface;
    longest = Math.max(longest, surface.length);
  };
  for (const surface of vocabulary.surfaces.keys()) insert(surface);
  for (const surface of keywordSurfaces.keys()) insert(surface);
  return { vocabulary, root, longest };
}

/** An English surface must not start or end inside a word; a Chinese one may sit anywhere. */
function onBoundaries(text: string, start: number, end: number): boolean {
  const first = text[start];
  const last = text[end - 1];
  if (isWordChar(first) && isWordChar(text[start - 1])) return false;
  if (isWordChar(last) && isWordChar(text[end])) return false;
  return true;
}

const datePattern = /^(\d{4})(?:\s*年\s*(?:(\d{1,2})\s*月|第?\s*(\d)\s*季度|q(\d))?|[-/.](\d{1,2})(?![\d.])|\s*q(\d))/;
const numberPattern = /^(\d+(?:\.\d+)?)\s*(%|％)?/;
const yearRange = { min: 1900, max: 2100 };

function readDate(text: string, start: number): Token | undefined {
  if (isWordChar(text[start - 1])) return undefined;
  const match = datePattern.exec(text.slice(start));
  if (match === null) return undefined;
  const year = Number(match[1]);
  if (year < yearRange.min || year > yearRange.max) return undefined;
  const month = match[2] ?? match[5];
  const quarter = match[3] ?? match[4] ?? match[6];
  // A bare `2025-` with nothing date-like after is not a date.
  if (!match[0].includes('年') && month === undefined && quarter === undefined) return undefined;
  const token: Token = { kind: 'date', text: match[0], start, end: start + match[0].length, year };
  if (month !== undefined) {
    const value = Number(month);
    if (value < 1 || value > 12) return undefined;
    token.month = value;
  }
  if (quarter !== undefined) {
    const value = Number(quarter);
    if (value < 1 || value > 4) return undefined;
    token.quarter = value;
  }
  return token;
}

function readYearWord(text: string, start: number): Token | undefined {
  // `in 2025`, `2025` alone: a four-digit number in the year range, followed by no unit.
  const match = /^(\d{4})(?![\d.%])/.exec(text.slice(start));
  if (match === null || isWordChar(text[start - 1])) return undefined;
  const year = Number(match[1]);
  if (year < yearRange.min || year > yearRange.max) return undefined;
  const after = text.slice(start + 4).trimStart();
  if (/^(个|天|日|周|月|元|美元|块|人|位|名|条|笔|rows|customers|users|dollars|usd)/.test(after)) return undefined;
  return { kind: 'date', text: match[1] ?? '', start, end: start + 4, year };
}

/** Splits the question into tokens; `text` must already be normalised. */
export function tokenize(matcher: Matcher, text: string): Token[] {
  const tokens: Token[] = [];
  let unknownStart = -1;
  const flushUnknown = (end: number): void => {
    if (unknownStart < 0) return;
    const piece = text.slice(unknownStart, end).trim();
    if (piece !== '') tokens.push({ kind: 'unknown', text: piece, start: unknownStart, end });
    unknownStart = -1;
  };
  let position = 0;
  while (position < text.length) {
    const char = text[position] ?? '';
    if (char === ' ' || /[,.?!:;()\[\]'"—]/.test(char)) {
      flushUnknown(position);
      position++;
      continue;
    }
    if (/\d/.test(char) && !isWordChar(text[position - 1])) {
      // A question word that starts with a digit (`1档`, `1组`, written 一档) is the word, not a number.
      const word = longestAt(matcher, text, position);
      const numberLength = numberPattern.exec(text.slice(position))?.[0].length ?? 0;
      if (word !== undefined && keywordSurfaces.has(word) && !matcher.vocabulary.surfaces.has(word) && numberLength < word.length) {
        flushUnknown(position);
        tokens.push({ kind: 'keyword', text: word, start: position, end: position + word.length, keywords: keywordSurfaces.get(word) ?? [] });
        position += word.length;
        continue;
      }
      // `两年期合约` (2年期): a name longer than the number and its unit is the name.
      const unit = longestAt(matcher, text, position + numberLength);
      const unitLength = unit !== undefined && keywordSurfaces.has(unit) ? unit.length : 0;
      const entries = word === undefined ? undefined : matcher.vocabulary.surfaces.get(word);
      if (word !== undefined && entries !== undefined && word.length > numberLength + unitLength) {
        flushUnknown(position);
        tokens.push({ kind: 'term', text: word, start: position, end: position + word.length, entries, keywords: keywordSurfaces.get(word) ?? [] });
        position += word.length;
        continue;
      }
      const date = readDate(text, position) ?? readYearWord(text, position);
      if (date !== undefined) {
        flushUnknown(position);
        tokens.push(date);
        position = date.end;
        continue;
      }
      const number = numberPattern.exec(text.slice(position));
      if (number !== null && !/[a-z]/.test(text[position + (number[1] ?? '').length] ?? '')) {
        flushUnknown(position);
        const end = position + number[0].length;
        tokens.push({ kind: 'number', text: number[0], start: position, end, value: Number(number[1]), percent: number[2] !== undefined });
        position = end;
        continue;
      }
    }
    const found = longestAt(matcher, text, position);
    if (found !== undefined) {
      flushUnknown(position);
      const end = position + found.length;
      const entries = matcher.vocabulary.surfaces.get(found) ?? [];
      const keywords = keywordSurfaces.get(found) ?? [];
      tokens.push(
        entries.length > 0
          ? { kind: 'term', text: found, start: position, end, entries, keywords }
          : { kind: 'keyword', text: found, start: position, end, keywords },
      );
      position = end;
      continue;
    }
    if (unknownStart < 0) unknownStart = position;
    // Skip a whole English word at once; a Chinese character one at a time.
    if (isWordChar(char)) {
      while (position < text.length && isWordChar(text[position])) position++;
    } else {
      position++;
    }
  }
  flushUnknown(text.length);
  return tokens;
}

function longestAt(matcher: Matcher, text: string, start: number): string | undefined {
  if (isWordChar(text[start]) && isWordChar(text[start - 1])) return undefined;
  let node = matcher.root;
  let best: string | undefined;
  for (let index = start; index < text.length && index - start < matcher.longest; index++) {
    const child = node.next.get(text[index] ?? '');
    if (child === undefined) break;
    node = child;
    if (node.surface !== undefined && onBoundaries(text, start, index + 1)) best = node.surface;
  }
  return best;
}

/** True when a token is a Chinese stretch (for messages about what was not understood). */
export function isChineseToken(token: Token): boolean {
  return hasHan(token.text);
}
