/**
 * How results are written for the model: compact, capped text. A result too big for the context is
 * cut, and the cut is stated, so the model knows it saw part of the data and not all of it.
 */
import type { SqlValue } from '../sources/source.js';

/** Caps on what one tool result may put into the model's context. */
export interface ResultLimits {
  /** Rows of a table shown to the model. Default 50. */
  rows: number;
  /** Characters of one tool result. Default 6000. */
  chars: number;
}

export const defaultResultLimits: ResultLimits = { rows: 50, chars: 6000 };

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/[\t\r\n]+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

/**
 * A table as tab-separated text with a header, at most `limits.rows` rows; `totalRows` (when more
 * than the rows given) and `truncated` (the query itself was cut at its row cap) are stated.
 */
export function tableText(columns: readonly string[], rows: readonly (readonly (SqlValue | unknown)[])[], options: { totalRows?: number; truncated?: boolean; limits?: ResultLimits } = {}): string {
  const limits = options.limits ?? defaultResultLimits;
  const shown = rows.slice(0, limits.rows);
  const lines = [columns.join('\t'), ...shown.map((row) => row.map(cellText).join('\t'))];
  const total = options.totalRows ?? rows.length;
  let text = lines.join('\n');
  if (total > shown.length || options.truncated === true) {
    const more = options.truncated === true ? `more than ${total}` : String(total);
    text += `\n(showing ${shown.length} of ${more} rows; aggregate in SQL, or load_data and use Python, to see the rest)`;
  }
  return capText(text, limits.chars);
}

/** Text cut at `chars` characters, with a note saying how much was left out. */
export function capText(text: string, chars: number): string {
  if (text.length <= chars) return text;
  return `${text.slice(0, chars)}\n(output cut: ${text.length - chars} more characters not shown)`;
}
