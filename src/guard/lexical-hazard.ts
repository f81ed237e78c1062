/**
 * The guard judges the tree polyglot builds, so it is only as right as polyglot's lexer. Where that
 * lexer and the database split text differently, code can hide in what polyglot thinks is a comment
 * or a string. Verified with polyglot 0.12:
 * - MySQL runs the text of `/*! … *\/` and `/*M! … *\/` comments;
 * - polyglot nests `/* /* *\/ … *\/` comments, MySQL does not;
 * - polyglot ends a `--` comment only at a line feed, PostgreSQL and DuckDB also at a carriage return;
 * - MySQL reads `--x` as two minus signs, polyglot as a comment;
 * - polyglot reads `$$…$$` and `"""…"""` as strings in MySQL, which has neither;
 * - polyglot treats non-breaking and other Unicode spaces as whitespace, the databases do not.
 * So this module checks every stretch of text polyglot skipped (between tokens) and every quoted
 * token against the database's own lexical rules, and reports anything they might read differently.
 * It reads characters one by one under the engine's rules; it never pattern-matches SQL.
 */
import type { SqlDialect } from '../sources/source.js';
import type { SqlToken } from './parser.js';

/** Why the text is unsafe to judge, for a person; undefined when polyglot and the engine agree. */
export function findLexicalHazard(
  characters: readonly string[],
  tokens: readonly SqlToken[],
  dialect: SqlDialect,
): string | undefined {
  let position = 0;
  for (const [index, token] of tokens.entries()) {
    if (token.start < position || token.end > characters.length) {
      return 'the SQL tokenizer returned overlapping tokens, so the text cannot be checked';
    }
    const skipped = skippedTextHazard(characters, position, token.start, dialect);
    if (skipped !== undefined) return skipped;
    const quoted = tokenHazard(characters, token, dialect);
    if (quoted !== undefined) return quoted;
    if (dialect !== 'mysql' && isUnicodeEscapedName(tokens, index)) {
      return 'it contains a Unicode-escaped name (U&"…"), which can spell any function or table the guard would refuse';
    }
    position = token.end;
  }
  return skippedTextHazard(characters, position, characters.length, dialect);
}

/**
 * PostgreSQL decodes `U&"pg\005fread_file"` to `pg_read_file`; polyglot reads `U & "…"` and keeps the
 * escapes, so the name would slip past the deny lists.
 */
function isUnicodeEscapedName(tokens: readonly SqlToken[], index: number): boolean {
  const name = tokens[index];
  const ampersand = tokens[index - 1];
  const letter = tokens[index - 2];
  if (name?.type !== 'QUOTED_IDENTIFIER' || ampersand?.text !== '&' || letter === undefined) return false;
  return (letter.text === 'U' || letter.text === 'u') && letter.end === ampersand.start && ampersand.end === name.start;
}

/** The whitespace every supported engine agrees on. PostgreSQL 15 does not count vertical tab. */
const asciiWhitespace = new Set([' ', '\t', '\n', '\r', '\f']);

/** Text between tokens must be plain whitespace and comments that mean the same to the engine. */
function skippedTextHazard(
  characters: readonly string[],
  from: number,
  to: number,
  dialect: SqlDialect,
): string | undefined {
  let index = from;
  while (index < to) {
    const character = characters[index] ?? '';
    if (asciiWhitespace.has(character)) {
      index += 1;
    } else if (character === '-' && characters[index + 1] === '-') {
      const following = characters[index + 2];
      if (dialect === 'mysql' && following !== undefined && !isMysqlCommentSpace(following)) {
        return 'it contains "--" without a space after it, which MySQL reads as two minus signs, not a comment';
      }
      const end = endOfLine(characters, index, to);
      if (hasLoneCarriageReturn(characters, index, end)) {
        return 'it contains a -- comment with a carriage return inside, where PostgreSQL and DuckDB end the comment and read the rest of the line as SQL';
      }
      index = end;
    } else if (character === '/' && characters[index + 1] === '*') {
      const close = indexOfPair(characters, '*', '/', index + 2, to);
      if (close === undefined) return 'it contains a /* comment that does not end where the parser thinks it does';
      const hazard = blockCommentHazard(characters.slice(index + 2, close));
      if (hazard !== undefined) return hazard;
      index = close + 2;
    } else {
      return `it contains ${describeCharacter(character)} outside quotes, which the parser skipped but the database may read as SQL`;
    }
  }
  return undefined;
}

/** MySQL needs whitespace or a control character after `--` for it to start a comment. */
function isMysqlCommentSpace(character: string): boolean {
  return character.codePointAt(0)! <= 0x20;
}

/** A carriage return not followed by a line feed: a line break for PostgreSQL and DuckDB only. */
function hasLoneCarriageReturn(characters: readonly string[], from: number, to: number): boolean {
  for (let index = from; index < to; index += 1) {
    if (characters[index] === '\r' && characters[index + 1] !== '\n' && index + 1 < characters.length) return true;
  }
  return false;
}

/** Where polyglot and MySQL end a line comment: at the next line feed, which is whitespace itself. */
function endOfLine(characters: readonly string[], from: number, to: number): number {
  let index = from;
  while (index < to && characters[index] !== '\n') index += 1;
  return index;
}

function indexOfPair(characters: readonly string[], first: string, second: string, from: number, to: number): number | undefined {
  for (let index = from; index + 1 < to; index += 1) {
    if (characters[index] === first && characters[index + 1] === second) return index;
  }
  return undefined;
}

function blockCommentHazard(body: readonly string[]): string | undefined {
  if (body[0] === '!' || (body[0] === 'M' && body[1] === '!')) {
    return 'it contains a MySQL executable comment (/*! … */), whose text MySQL and MariaDB run as SQL';
  }
  if (indexOfPair(body, '/', '*', 0, body.length) !== undefined) {
    return 'it contains a nested /* comment, which PostgreSQL and MySQL end at different places';
  }
  return undefined;
}

function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code <= 0x20 || code === 0x7f || character.trim() === '' || code > 0x7e) return `the character ${hex}`;
  return `"${character}" (${hex})`;
}

const quoteCharacters = new Set(["'", '"', '`']);

/**
 * A token must either be plain (no quotes, no whitespace, no comment markers) or a quoted form the
 * engine reads with exactly the same extent, under every setting that changes quoting (see
 * `quotingRules`).
 */
function tokenHazard(characters: readonly string[], token: SqlToken, dialect: SqlDialect): string | undefined {
  const text = characters.slice(token.start, token.end);
  if (token.type === 'HINT') return hintHazard(text);
  if (text[0] === '$' && token.type === 'DOLLAR_STRING') return dollarQuoteHazard(characters, token, dialect);
  const quoteOffset = text.findIndex((character) => quoteCharacters.has(character));
  if (quoteOffset < 0) return plainTokenHazard(text, token, dialect);
  const prefix = text.slice(0, quoteOffset);
  if (!prefix.every(isPrefixLetter)) return unreadableQuote(dialect);
  const quote = text[quoteOffset] ?? '';
  const rules = quotingRules(dialect, quote, prefix.join(''));
  if (rules === undefined) return `it quotes with ${quote}, which ${engineName[dialect]} does not read as a quote`;
  const open = token.start + quoteOffset;
  for (const rule of rules) {
    if (quotedEnd(characters, open, quote, rule.backslashEscapes) !== token.end) return unreadableQuote(dialect);
  }
  return undefined;
}

function isPrefixLetter(character: string): boolean {
  return character === '&' || (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z');
}

function plainTokenHazard(text: readonly string[], token: SqlToken, dialect: SqlDialect): string | undefined {
  if (dialect === 'mysql' && token.type === 'HASH') {
    return 'it contains "#", which starts a comment in MySQL; use -- comments instead';
  }
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index] ?? '';
    const next = text[index + 1];
    if (character.trim() === '' || (character === '/' && next === '*') || (character === '*' && next === '/') || (character === '-' && next === '-')) {
      return 'the parser read part of it in a way the database may not (a token spans whitespace or a comment marker)';
    }
  }
  return undefined;
}

/** A MySQL optimizer hint `/*+ … *\/` is harmless as long as it is one plain comment. */
function hintHazard(text: readonly string[]): string | undefined {
  const body = text.slice(3, -2);
  const wellFormed = text.slice(0, 3).join('') === '/*+' && text.slice(-2).join('') === '*/';
  if (!wellFormed || indexOfPair(body, '/', '*', 0, body.length) !== undefined || indexOfPair(body, '*', '/', 0, body.length) !== undefined) {
    return 'it contains an optimizer hint comment the database may read differently';
  }
  return undefined;
}

const engineName = { duckdb: 'DuckDB', mysql: 'MySQL', postgres: 'PostgreSQL' } as const satisfies Record<SqlDialect, string>;

function unreadableQuote(dialect: SqlDialect): string {
  return `it contains a quoted string or name that ${engineName[dialect]} may end at a different place than the parser (check backslashes and quote characters)`;
}

interface QuotingRule {
  readonly backslashEscapes: boolean;
}

const withoutBackslashes: QuotingRule = { backslashEscapes: false };
const withBackslashes: QuotingRule = { backslashEscapes: true };

/**
 * Every way the engine may read a quote, given settings the guard cannot see: PostgreSQL reads
 * backslashes in '…' as escapes when `standard_conforming_strings` is off; MySQL does not when
 * `NO_BACKSLASH_ESCAPES` is on, and reads "…" as a name under `ANSI_QUOTES`. A quoted token is
 * accepted only when all readings end it at the same place. Undefined: the engine has no such quote.
 */
function quotingRules(dialect: SqlDialect, quote: string, prefix: string): readonly QuotingRule[] | undefined {
  if (dialect === 'mysql') {
    if (quote === '`') return [withoutBackslashes];
    return [withBackslashes, withoutBackslashes];
  }
  if (quote === '"') return [withoutBackslashes];
  if (quote !== "'") return undefined;
  if (prefix === 'E' || prefix === 'e') return [withBackslashes];
  return [withoutBackslashes, withBackslashes];
}

/** Where a quoted run that opens at `open` ends (exclusive), or undefined when it does not end. */
function quotedEnd(characters: readonly string[], open: number, quote: string, backslashEscapes: boolean): number | undefined {
  let index = open + 1;
  while (index < characters.length) {
    const character = characters[index];
    if (backslashEscapes && character === '\\') {
      index += 2;
    } else if (character === quote) {
      if (characters[index + 1] !== quote) return index + 1;
      index += 2;
    } else {
      index += 1;
    }
  }
  return undefined;
}

/** PostgreSQL and DuckDB dollar quotes `$tag$ … $tag$` end at the first repeat of the opening tag. */
function dollarQuoteHazard(characters: readonly string[], token: SqlToken, dialect: SqlDialect): string | undefined {
  if (dialect === 'mysql') return 'it contains a $$ dollar-quoted string, which MySQL reads as plain SQL';
  let close = token.start + 1;
  while (close < token.end && characters[close] !== '$') close += 1;
  const delimiter = characters.slice(token.start, close + 1);
  const tag = delimiter.slice(1, -1);
  if (close >= token.end || !tag.every(isDollarTagCharacter)) return unreadableQuote(dialect);
  for (let index = close + 1; index + delimiter.length <= characters.length; index += 1) {
    if (delimiter.every((character, offset) => characters[index + offset] === character)) {
      return index + delimiter.length === token.end ? undefined : unreadableQuote(dialect);
    }
  }
  return unreadableQuote(dialect);
}

/** Tag characters of a dollar quote: letters, digits (not first), underscore and non-ASCII. */
function isDollarTagCharacter(character: string, index: number): boolean {
  if (character === '_' || (character !== '&' && isPrefixLetter(character))) return true;
  if (character >= '0' && character <= '9') return index > 0;
  return (character.codePointAt(0) ?? 0) > 0x7f;
}
