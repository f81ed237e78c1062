import { IqueryError, exitCodeFor, messageOf } from '../errors.js';
import type { ColumnMeta, QueryResult } from '../sources/source.js';
import { formatCell, renderTable } from './render-table.js';

export interface GlobalOptions {
  data?: string;
  dict?: string;
  json?: boolean;
  debug?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function printLine(text = ''): void {
  process.stdout.write(text + '\n');
}

/** Progress and notes for a person go to stderr, so that stdout stays clean for pipes and JSON. */
export function printNote(text: string): void {
  process.stderr.write(text + '\n');
}

const numericFamilies = new Set(['integer', 'decimal', 'float']);

export function renderResult(columns: readonly ColumnMeta[], result: Pick<QueryResult, 'rows' | 'rowCount' | 'truncated'>): string {
  const rightAligned = new Set(columns.flatMap((column, index) => (numericFamilies.has(column.family) ? [index] : [])));
  const table = renderTable(
    columns.map((column) => column.name),
    result.rows.map((row) => row.map(formatCell)),
    { rightAligned },
  );
  const footer = result.truncated
    ? `(first ${result.rowCount} rows shown: the result has more; raise --max-rows or aggregate)`
    : `(${result.rowCount} ${result.rowCount === 1 ? 'row' : 'rows'})`;
  return `${table}\n${footer}`;
}

/** Prints an error the way the user asked (JSON or text) and returns the exit code for it. */
export function reportError(error: unknown, options: Pick<GlobalOptions, 'json' | 'debug'>): number {
  const known = error instanceof IqueryError;
  const code = known ? error.code : 'internal';
  const message = known ? error.message : `internal error: ${messageOf(error)}`;
  const hint = known ? error.hint : 'This is a bug in iquery; run again with --debug for details and report it.';
  if (options.json) {
    printJson({ status: 'error', error: { code, message, ...(hint === undefined ? {} : { hint }) } });
  } else {
    process.stderr.write(`error: ${message}\n`);
    if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`);
  }
  if (options.debug && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  return exitCodeFor(error);
}
