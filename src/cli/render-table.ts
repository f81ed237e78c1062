import stringWidth from 'string-width';
import type { SqlValue } from '../sources/source.js';

export interface TableLayout {
  /** Total width available, in terminal columns. Default: the terminal's width, or 100 when piped. */
  width?: number;
  /** Column indexes to right-align (numbers). */
  rightAligned?: ReadonlySet<number>;
}

const ellipsis = '…';
const minimumColumnWidth = 4;

/** Formats a value for a person: NULL visibly, floats without binary noise. */
export function formatCell(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    return String(Number(value.toPrecision(10)));
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value.replaceAll('\n', ' ');
}

/** Cuts text to at most `width` terminal columns, ending in an ellipsis when cut. */
function truncate(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let result = '';
  let used = 0;
  for (const character of text) {
    const characterWidth = stringWidth(character);
    if (used + characterWidth > width - 1) break;
    result += character;
    used += characterWidth;
  }
  return result + ellipsis;
}

function pad(text: string, width: number, right: boolean): string {
  const gap = ' '.repeat(Math.max(0, width - stringWidth(text)));
  return right ? gap + text : text + gap;
}

/**
 * Lays out rows as an aligned text table that fits the given width: the widest columns shrink first
 * and their cells end in an ellipsis. Chinese and other wide characters count as two columns.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], layout: TableLayout = {}): string {
  const available = layout.width ?? (process.stdout.isTTY ? process.stdout.columns : 100);
  const separator = '  ';
  const natural = headers.map((header, column) =>
    Math.max(stringWidth(header), ...rows.map((row) => stringWidth(row[column] ?? ''))),
  );
  const widths = [...natural];
  const budget = available - separator.length * Math.max(0, headers.length - 1);
  let total = widths.reduce((sum, width) => sum + width, 0);
  while (total > budget) {
    const widest = widths.indexOf(Math.max(...widths));
    const current = widths[widest] ?? 0;
    if (current <= minimumColumnWidth) break;
    widths[widest] = current - 1;
    total--;
  }
  const right = layout.rightAligned ?? new Set<number>();
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => pad(truncate(cell, widths[column] ?? 0), widths[column] ?? 0, right.has(column))).join(separator).trimEnd();
  const rule = widths.map((width) => '─'.repeat(width)).join(separator);
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
