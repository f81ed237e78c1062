/**
 * The generic path: a column of JS values (what MySQL and PostgreSQL drivers give, or a DuckDB column
 * without a raw form) turned into the same raw vectors the DuckDB fast path hands over, decided by the
 * column's type family so that every batch of a column gets the same storage.
 */
import { IqueryError } from '../../errors.js';
import type { ColumnMeta, ColumnVector, SqlValue } from '../../sources/source.js';

const microsPerDay = 86_400_000_000;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

function validityOf(values: readonly SqlValue[], isPresent: (row: number) => boolean): Uint8Array | null {
  let bitmap: Uint8Array | null = null;
  for (let row = 0; row < values.length; row++) {
    if (isPresent(row)) continue;
    bitmap ??= new Uint8Array(Math.ceil(values.length / 8)).fill(0xff);
    bitmap[row >> 3] = (bitmap[row >> 3] ?? 0) & ~(1 << (row & 7));
  }
  return bitmap;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function integers(column: ColumnMeta, values: readonly SqlValue[]): ColumnVector {
  const data = new BigInt64Array(values.length);
  const present = new Uint8Array(values.length);
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    if (value === null || value === undefined) continue;
    let integer: bigint;
    if (typeof value === 'number' && Number.isInteger(value)) integer = BigInt(value);
    else if (typeof value === 'boolean') integer = value ? 1n : 0n;
    else if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
      try {
        integer = BigInt(value.trim());
      } catch {
        integer = BigInt(Math.trunc(Number(value)));
      }
    } else {
      throw new IqueryError('bad_input', `Column "${column.name}" (${column.nativeType}) holds ${JSON.stringify(value)}, which is not a whole number.`, {
        hint: `CAST the column to DOUBLE or VARCHAR in the query.`,
      });
    }
    if (integer < int64Min || integer > int64Max) {
      throw new IqueryError('bad_input', `Column "${column.name}" holds ${value}, beyond 64-bit integers.`, {
        hint: 'CAST the column to DOUBLE (approximate) or VARCHAR (exact text) in the query.',
      });
    }
    data[row] = integer;
    present[row] = 1;
  }
  return { layout: 'fixed', kind: 'int64', data: bytesOf(data), validity: validityOf(values, (row) => present[row] === 1) };
}

function floats(values: readonly SqlValue[], kind: 'float64'): ColumnVector {
  const data = new Float64Array(values.length);
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    data[row] = value === null || value === undefined ? Number.NaN : typeof value === 'boolean' ? Number(value) : Number(value);
  }
  const validity = validityOf(values, (row) => values[row] !== null && values[row] !== undefined);
  return { layout: 'fixed', kind, data: bytesOf(data), validity };
}

function booleans(values: readonly SqlValue[]): ColumnVector {
  const data = new Uint8Array(values.length);
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    data[row] = value === true || value === 1 || value === 't' || value === 'true' || value === '1' ? 1 : 0;
  }
  return { layout: 'fixed', kind: 'bool', data, validity: validityOf(values, (row) => values[row] !== null && values[row] !== undefined) };
}

/** Digits from `text[start]` on, at most `most` of them; -1 when there are none. */
function digitsAt(text: string, start: number, most: number): { value: number; end: number } {
  let value = 0;
  let end = start;
  while (end < text.length && end - start < most) {
    const code = text.charCodeAt(end) - 48;
    if (code < 0 || code > 9) break;
    value = value * 10 + code;
    end++;
  }
  return end === start ? { value: -1, end } : { value, end };
}

/** Days since 1970-01-01 of `YYYY-MM-DD…`, or undefined when the text is not such a date. */
function parseDays(text: string): { days: number; end: number } | undefined {
  const negative = text.startsWith('-');
  const year = digitsAt(text, negative ? 1 : 0, 6);
  if (year.value < 0 || text[year.end] !== '-') return undefined;
  const month = digitsAt(text, year.end + 1, 2);
  if (month.value < 1 || month.value > 12 || text[month.end] !== '-') return undefined;
  const day = digitsAt(text, month.end + 1, 2);
  if (day.value < 1 || day.value > 31) return undefined;
  let end = day.end;
  // PostgreSQL writes years before 1 as `0044-03-15 BC`.
  let fullYear = negative ? -year.value : year.value;
  if (text.slice(end).trimEnd().endsWith(' BC')) fullYear = 1 - fullYear;
  const stamp = new Date(0);
  stamp.setUTCFullYear(fullYear, month.value - 1, day.value);
  if (stamp.getUTCDate() !== day.value) return undefined;
  return { days: Math.floor(stamp.getTime() / 86_400_000), end };
}

/** Microseconds since 1970-01-01 00:00 UTC of `YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`. */
function parseMicros(text: string): number | undefined {
  const date = parseDays(text);
  if (date === undefined) return undefined;
  let micros = date.days * microsPerDay;
  let at = date.end;
  if (text[at] !== ' ' && text[at] !== 'T') return at === text.length ? micros : undefined;
  const hour = digitsAt(text, at + 1, 2);
  if (hour.value < 0 || text[hour.end] !== ':') return undefined;
  const minute = digitsAt(text, hour.end + 1, 2);
  if (minute.value < 0) return undefined;
  at = minute.end;
  let seconds = 0;
  let fraction = 0;
  if (text[at] === ':') {
    const second = digitsAt(text, at + 1, 2);
    if (second.value < 0) return undefined;
    seconds = second.value;
    at = second.end;
    if (text[at] === '.') {
      const digits = digitsAt(text, at + 1, 9);
      if (digits.value < 0) return undefined;
      fraction = Math.round(digits.value * 10 ** (6 - (digits.end - at - 1)));
      at = digits.end;
      while (text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
    }
  }
  micros += ((hour.value * 60 + minute.value) * 60 + seconds) * 1_000_000 + fraction;
  const zone = text[at];
  if (zone === 'Z') return micros;
  if (zone === '+' || zone === '-') {
    const offsetHours = digitsAt(text, at + 1, 2);
    if (offsetHours.value < 0) return undefined;
    let offsetMinutes = 0;
    let next = offsetHours.end;
    if (text[next] === ':') next++;
    const minutes = digitsAt(text, next, 2);
    if (minutes.value >= 0) offsetMinutes = minutes.value;
    const sign = zone === '+' ? 1 : -1;
    return micros - sign * (offsetHours.value * 60 + offsetMinutes) * 60_000_000;
  }
  return micros;
}

/** Dates as int32 days; text that is not a date (`infinity`, `0000-00-00`) becomes null. */
function dates(values: readonly SqlValue[]): ColumnVector {
  const data = new Int32Array(values.length);
  const present = new Uint8Array(values.length);
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    if (typeof value !== 'string') continue;
    const parsed = parseDays(value);
    if (parsed === undefined || Math.abs(parsed.days) > 0x7fffffff) continue;
    data[row] = parsed.days;
    present[row] = 1;
  }
  return { layout: 'fixed', kind: 'date32', data: bytesOf(data), validity: validityOf(values, (row) => present[row] === 1) };
}

/**
 * Timestamps as int64 microseconds. Beyond ±2^53 µs (about 1685–2255) a double is not exact and
 * pandas' nanoseconds cannot hold the value anyway, so such values become null, like text that is not
 * a timestamp.
 */
function timestamps(values: readonly SqlValue[], utc: boolean): ColumnVector {
  const data = new BigInt64Array(values.length);
  const present = new Uint8Array(values.length);
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    if (typeof value !== 'string') continue;
    const micros = parseMicros(value);
    if (micros === undefined || !Number.isSafeInteger(micros)) continue;
    data[row] = BigInt(micros);
    present[row] = 1;
  }
  return { layout: 'fixed', kind: 'timestamp_us', utc, data: bytesOf(data), validity: validityOf(values, (row) => present[row] === 1) };
}

const encoder = new TextEncoder();

function strings(values: readonly SqlValue[]): ColumnVector {
  const offsets = new Int32Array(values.length + 1);
  let bytes = new Uint8Array(Math.max(64, values.length * 16));
  let used = 0;
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    if (value !== null && value !== undefined) {
      const text = typeof value === 'string' ? value : String(value);
      if (used + text.length * 3 > bytes.length) {
        const bigger = new Uint8Array(Math.max(bytes.length * 2, used + text.length * 3));
        bigger.set(bytes.subarray(0, used));
        bytes = bigger;
      }
      used += encoder.encodeInto(text, bytes.subarray(used)).written;
    }
    offsets[row + 1] = used;
  }
  return { layout: 'utf8', offsets, bytes: bytes.subarray(0, used), validity: validityOf(values, (row) => values[row] !== null && values[row] !== undefined) };
}

function isZoned(nativeType: string): boolean {
  const name = nativeType.trim().toLowerCase();
  return name === 'timestamptz' || name.endsWith('with time zone');
}

/**
 * Converts one batch of a column's values by its family: integers → int64, decimals and floats →
 * float64 (decimals keep the `decimal` kind), booleans, dates → days, timestamps → µs (UTC instants
 * for zoned types), everything else (text, times, JSON) → UTF-8 strings.
 */
export function valuesToVector(column: ColumnMeta, values: readonly SqlValue[]): ColumnVector {
  switch (column.family) {
    case 'integer':
      return integers(column, values);
    case 'decimal':
    case 'float':
      return floats(values, 'float64');
    case 'boolean':
      return booleans(values);
    case 'date':
      return dates(values);
    case 'timestamp':
      return timestamps(values, isZoned(column.nativeType));
    default:
      return strings(values);
  }
}
