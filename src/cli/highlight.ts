/**
 * Syntax colours for code shown at the terminal before approval. SQL is coloured from the guard's
 * own lexer (the same tokens the guard judges); Python from a small scanner of strings, comments,
 * numbers and keywords. Colour is for reading only: nothing is judged here.
 */
import { tokenizeSql } from '../guard/parser.js';
import type { SqlDialect } from '../sources/source.js';

const styles = {
  keyword: '1;34',
  string: '32',
  number: '33',
  comment: '2',
  call: '36',
} as const;

type Style = keyof typeof styles;

function paint(text: string, style: Style | undefined): string {
  return style === undefined || text === '' ? text : `\x1b[${styles[style]}m${text}\x1b[0m`;
}

/** SQL with keywords, strings, numbers, function names and comments coloured. Unreadable text comes back as it is. */
export function highlightSql(sql: string, dialect: SqlDialect): string {
  const lexed = tokenizeSql(sql, dialect);
  if (!lexed.ok) return sql;
  const points = [...sql];
  const tokens = lexed.tokens;
  let position = 0;
  let out = '';
  const gap = (end: number): void => {
    const text = points.slice(position, end).join('');
    out += /--|\/\*|#/.test(text) ? paint(text, 'comment') : text;
    position = end;
  };
  tokens.forEach((token, index) => {
    gap(token.start);
    const text = points.slice(token.start, token.end).join('');
    let style: Style | undefined;
    if (token.type === 'STRING' || token.type === 'NATIONAL_STRING') style = 'string';
    else if (token.type === 'NUMBER') style = 'number';
    else if (token.type === 'VAR') style = tokens[index + 1]?.type === 'L_PAREN' ? 'call' : undefined;
    else if (/^[A-Z_]+$/.test(token.type) && token.type === text.toUpperCase()) style = 'keyword';
    out += paint(text, style);
    position = token.end;
  });
  gap(points.length);
  return out;
}

const pythonKeywords = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
  'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield', 'match', 'case',
]);

/** Python with keywords, strings, numbers, calls and comments coloured. */
export function highlightPython(code: string): string {
  let out = '';
  let index = 0;
  while (index < code.length) {
    const char = code[index] ?? '';
    if (char === '#') {
      const end = code.indexOf('\n', index);
      const stop = end === -1 ? code.length : end;
      out += paint(code.slice(index, stop), 'comment');
      index = stop;
      continue;
    }
    const prefix = /^(?:[rRbBuUfF]{1,2})?("""|'''|"|')/.exec(code.slice(index, index + 5));
    if (prefix !== null && (index === 0 || !/[A-Za-z0-9_]/.test(code[index - 1] ?? ''))) {
      const quote = prefix[1] ?? '"';
      let end = index + prefix[0].length;
      while (end < code.length && !code.startsWith(quote, end)) end += code[end] === '\\' ? 2 : 1;
      end = Math.min(code.length, end + quote.length);
      out += paint(code.slice(index, end), 'string');
      index = end;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(code.slice(index, index + 80));
    if (word !== null) {
      const name = word[0];
      const next = code.slice(index + name.length).match(/^\s*\(/);
      out += paint(name, pythonKeywords.has(name) ? 'keyword' : next !== null ? 'call' : undefined);
      index += name.length;
      continue;
    }
    const number = /^\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(code.slice(index, index + 40));
    if (number !== null) {
      out += paint(number[0], 'number');
      index += number[0].length;
      continue;
    }
    out += char;
    index += 1;
  }
  return out;
}
