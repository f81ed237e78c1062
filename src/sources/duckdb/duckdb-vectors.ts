/**
 * Reads DuckDB result chunks as raw column vectors, without a JS value per cell.
 *
 * This is the one place that reaches into `@duckdb/node-api` internals. Its vector classes hold a
 * vector's data (`duckdb_vector_get_data`, which the binding copies into a JS buffer with one memcpy)
 * as a typed array (`items`) or a `DataView` (`dataView`), and the validity mask
 * (`duckdb_vector_get_validity`) as `validity.data`, a `BigUint64Array`, or null when every row is
 * valid. The typings mark these fields private, so they are read through `RawVectorFields` below and
 * checked (byte length, offset) on the first chunk of every column: a column whose shape is not
 * recognised falls back, for the whole result, to the library's values (`getItem`), converted as
 * `stream` converts them.
 *
 * VARCHAR vectors hold 16-byte `string_t` records: a uint32 length, then the bytes inlined when they
 * are 12 or fewer, else a prefix and a pointer into the chunk's memory, whose bytes the library's own
 * `getStringBytes` copies out (while the chunk is read, so it is alive). They are dictionary-encoded
 * here, where a short string's record is its own key. Everything returned is a JS-owned copy.
 *
 * Checked against @duckdb/node-api 1.5.6-r.1; the tests in `src/sandbox/frames/` cover every type.
 */
import { DuckDBDecimalType, DuckDBTypeId, type DuckDBDataChunk, type DuckDBType } from '@duckdb/node-api';
import { getStringBytes } from '@duckdb/node-api/lib/vectors/dataAccessors.js';
import { endianness } from 'node:os';
import { IqueryError } from '../../errors.js';
import type { ColumnVector, FixedVectorKind } from '../source.js';
import { toSqlValue } from './duckdb-values.js';

/** The private fields of a `@duckdb/node-api` vector this module reads (see the file comment). */
interface RawVectorFields {
  items?: unknown;
  dataView?: unknown;
  validity?: { data?: unknown; offset?: unknown };
}

type VectorPlan =
  | { layout: 'fixed'; kind: FixedVectorKind; width: number; scale?: number; utc?: boolean }
  /** VARCHAR: dictionary-encoded until the encoder gives up, plain UTF-8 after. */
  | { layout: 'strings' }
  | { layout: 'values' };

const fixedByTypeId = new Map<DuckDBTypeId, { kind: FixedVectorKind; width: number; utc?: boolean }>([
  [DuckDBTypeId.BOOLEAN, { kind: 'bool', width: 1 }],
  [DuckDBTypeId.TINYINT, { kind: 'int8', width: 1 }],
  [DuckDBTypeId.SMALLINT, { kind: 'int16', width: 2 }],
  [DuckDBTypeId.INTEGER, { kind: 'int32', width: 4 }],
  [DuckDBTypeId.BIGINT, { kind: 'int64', width: 8 }],
  [DuckDBTypeId.HUGEINT, { kind: 'int128', width: 16 }],
  [DuckDBTypeId.UTINYINT, { kind: 'uint8', width: 1 }],
  [DuckDBTypeId.USMALLINT, { kind: 'uint16', width: 2 }],
  [DuckDBTypeId.UINTEGER, { kind: 'uint32', width: 4 }],
  [DuckDBTypeId.UBIGINT, { kind: 'uint64', width: 8 }],
  [DuckDBTypeId.FLOAT, { kind: 'float32', width: 4 }],
  [DuckDBTypeId.DOUBLE, { kind: 'float64', width: 8 }],
  [DuckDBTypeId.DATE, { kind: 'date32', width: 4 }],
  [DuckDBTypeId.TIMESTAMP, { kind: 'timestamp_us', width: 8 }],
  [DuckDBTypeId.TIMESTAMP_S, { kind: 'timestamp_s', width: 8 }],
  [DuckDBTypeId.TIMESTAMP_MS, { kind: 'timestamp_ms', width: 8 }],
  [DuckDBTypeId.TIMESTAMP_NS, { kind: 'timestamp_ns', width: 8 }],
  [DuckDBTypeId.TIMESTAMP_TZ, { kind: 'timestamp_us', width: 8, utc: true }],
]);

/** How DuckDB stores a DECIMAL of this width: int16 up to 4 digits, int32 to 9, int64 to 18, int128 to 38. */
function decimalStorage(width: number): { kind: FixedVectorKind; width: number } | undefined {
  if (width <= 4) return { kind: 'decimal16', width: 2 };
  if (width <= 9) return { kind: 'decimal32', width: 4 };
  if (width <= 18) return { kind: 'decimal64', width: 8 };
  if (width <= 38) return { kind: 'decimal128', width: 16 };
  return undefined;
}

function planOf(type: DuckDBType): VectorPlan {
  // Raw bytes are handed over as they sit in memory; the frame format is little-endian.
  if (endianness() !== 'LE') return { layout: 'values' };
  if (type.typeId === DuckDBTypeId.VARCHAR) return { layout: 'strings' };
  if (type instanceof DuckDBDecimalType) {
    const storage = decimalStorage(type.width);
    return storage === undefined ? { layout: 'values' } : { layout: 'fixed', ...storage, scale: type.scale };
  }
  const fixed = fixedByTypeId.get(type.typeId);
  return fixed === undefined ? { layout: 'values' } : { layout: 'fixed', ...fixed };
}

function bytesOf(view: unknown): Uint8Array | undefined {
  if (!ArrayBuffer.isView(view)) return undefined;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** The validity bitmap as bytes, null when all rows are valid, undefined when the shape is unknown. */
function validityOf(fields: RawVectorFields, rowCount: number): Uint8Array | null | undefined {
  const validity = fields.validity;
  if (validity === undefined || validity.offset !== 0) return undefined;
  if (validity.data === null) return null;
  if (!(validity.data instanceof BigUint64Array) || validity.data.byteLength * 8 < rowCount) return undefined;
  return new Uint8Array(validity.data.buffer, validity.data.byteOffset, Math.ceil(rowCount / 8));
}

function isValid(validity: Uint8Array | null, row: number): boolean {
  return validity === null || ((validity[row >> 3] ?? 0) & (1 << (row & 7))) !== 0;
}

/** Scratch space reused from chunk to chunk (a chunk's vectors are valid until the next one). */
class Scratch {
  bytes = new Uint8Array(1 << 16);
  offsets = new Int32Array(2049);
  codes = new Int32Array(2048);
  reserveBytes(size: number): Uint8Array {
    if (size > this.bytes.length) this.bytes = new Uint8Array(Math.max(size, this.bytes.length * 2));
    return this.bytes;
  }
  reserveRows(rows: number): void {
    if (rows + 1 > this.offsets.length) this.offsets = new Int32Array(rows + 1);
    if (rows > this.codes.length) this.codes = new Int32Array(rows);
  }
}

/** string_t: a uint32 length, then up to 12 inlined bytes, or a 4-byte prefix and a pointer. */
const stringRecordBytes = 16;
const inlinedStringBytes = 12;

/** The `added` of a chunk that saw no new string. */
const nothingAdded = { offsets: new Int32Array(1), bytes: new Uint8Array(0) };

/** Masks keeping the first `length` bytes of each of the three inlined words, for lengths 0…12. */
const inlineMasks = Int32Array.from({ length: 13 * 3 }, (_, index) => {
  const length = Math.floor(index / 3);
  const kept = Math.min(4, Math.max(0, length - (index % 3) * 4));
  return kept === 4 ? -1 : (1 << (kept * 8)) - 1;
});

/**
 * A string column's dictionary, built from DuckDB's string records. A short (inlined) string is keyed
 * by its record's four 32-bit words, masked to its length, so it is encoded without being copied or
 * decoded; a longer one is keyed by its text. Gives up (the column continues as plain strings) when
 * the distinct strings are many (over `giveUpCount` and over half the rows) or large (`giveUpBytes`).
 */
class StringEncoder {
  static readonly giveUpCount = 100_000;
  static readonly giveUpBytes = 64 * 2 ** 20;
  count = 0;
  rows = 0;
  bytes = 0;
  /** code + 1 per slot, 0 = empty; a power of two, at most half full. */
  private slots = new Int32Array(1 << 10);
  /** The four key words of each inlined code (unused for long strings). */
  private keys = new Int32Array(1 << 11);
  private readonly long = new Map<string, number>();
  private readonly decoder = new TextDecoder();

  get exhausted(): boolean {
    return (this.count > StringEncoder.giveUpCount && this.count * 2 > this.rows) || this.bytes > StringEncoder.giveUpBytes;
  }

  encode(records: DataView, validity: Uint8Array | null, rowCount: number, scratch: Scratch): ColumnVector {
    scratch.reserveRows(rowCount);
    const codes = scratch.codes.subarray(0, rowCount);
    const words = new Int32Array(records.buffer, records.byteOffset, rowCount * 4);
    const first = this.count;
    const added: Uint8Array[] = [];
    for (let row = 0; row < rowCount; row++) {
      if (!isValid(validity, row)) {
        codes[row] = -1;
        continue;
      }
      const at = row * 4;
      const length = words[at] ?? 0;
      if (length > inlinedStringBytes) {
        const bytes = getStringBytes(records, row * stringRecordBytes);
        const text = this.decoder.decode(bytes);
        let code = this.long.get(text);
        if (code === undefined) {
          code = this.count++;
          this.long.set(text, code);
          this.bytes += bytes.byteLength;
          added.push(bytes.slice());
        }
        codes[row] = code;
        continue;
      }
      const mask = length * 3;
      const word1 = (words[at + 1] ?? 0) & (inlineMasks[mask] ?? 0);
      const word2 = (words[at + 2] ?? 0) & (inlineMasks[mask + 1] ?? 0);
      const word3 = (words[at + 3] ?? 0) & (inlineMasks[mask + 2] ?? 0);
      let hash = Math.imul(length ^ word1, 0x9e3779b1);
      hash = Math.imul(hash ^ (hash >>> 15) ^ word2, 0x85ebca6b);
      hash = Math.imul(hash ^ (hash >>> 13) ^ word3, 0xc2b2ae35);
      hash ^= hash >>> 16;
      const slotMask = this.slots.length - 1;
      let slot = hash & slotMask;
      for (;;) {
        const entry = this.slots[slot] ?? 0;
        if (entry === 0) {
          const code = this.count++;
          this.setKey(code, length, word1, word2, word3);
          this.slots[slot] = code + 1;
          this.bytes += length;
          added.push(new Uint8Array(records.buffer, records.byteOffset + row * stringRecordBytes + 4, length).slice());
          codes[row] = code;
          if (this.count * 2 > this.slots.length) this.rehash();
          break;
        }
        const key = (entry - 1) * 4;
        if (this.keys[key] === length && this.keys[key + 1] === word1 && this.keys[key + 2] === word2 && this.keys[key + 3] === word3) {
          codes[row] = entry - 1;
          break;
        }
        slot = (slot + 1) & slotMask;
      }
    }
    this.rows += rowCount;
    if (this.count - first !== added.length) throw new IqueryError('internal', 'The string dictionary lost count.');
    if (added.length === 0) return { layout: 'dictionary', codes, added: nothingAdded };
    const offsets = new Int32Array(added.length + 1);
    let total = 0;
    for (const [index, bytes] of added.entries()) {
      total += bytes.byteLength;
      offsets[index + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (const [index, entry] of added.entries()) bytes.set(entry, offsets[index] ?? 0);
    return { layout: 'dictionary', codes, added: { offsets, bytes } };
  }

  private setKey(code: number, length: number, word1: number, word2: number, word3: number): void {
    if ((code + 1) * 4 > this.keys.length) {
      const bigger = new Int32Array(this.keys.length * 2);
      bigger.set(this.keys);
      this.keys = bigger;
    }
    // Long strings share the code space but are never in `slots`, so their (unset) keys are never compared.
    this.keys[code * 4] = length;
    this.keys[code * 4 + 1] = word1;
    this.keys[code * 4 + 2] = word2;
    this.keys[code * 4 + 3] = word3;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const slotMask = slots.length - 1;
    for (let index = 0; index < this.slots.length; index++) {
      const entry = this.slots[index] ?? 0;
      if (entry === 0) continue;
      const key = (entry - 1) * 4;
      const length = this.keys[key] ?? 0;
      const word1 = this.keys[key + 1] ?? 0;
      const word2 = this.keys[key + 2] ?? 0;
      const word3 = this.keys[key + 3] ?? 0;
      let hash = Math.imul(length ^ word1, 0x9e3779b1);
      hash = Math.imul(hash ^ (hash >>> 15) ^ word2, 0x85ebca6b);
      hash = Math.imul(hash ^ (hash >>> 13) ^ word3, 0xc2b2ae35);
      hash ^= hash >>> 16;
      let slot = hash & slotMask;
      while ((slots[slot] ?? 0) !== 0) slot = (slot + 1) & slotMask;
      slots[slot] = entry;
    }
    this.slots = slots;
  }
}

/** Plain strings: offsets and bytes copied out of the string records. */
function readStrings(records: DataView, validity: Uint8Array | null, rowCount: number, scratch: Scratch): ColumnVector {
  scratch.reserveRows(rowCount);
  const offsets = scratch.offsets.subarray(0, rowCount + 1); // offsets[0] is never written: always 0
  const words = new Int32Array(records.buffer, records.byteOffset, rowCount * 4);
  let total = 0;
  for (let row = 0; row < rowCount; row++) {
    if (isValid(validity, row)) total += words[row * 4] ?? 0;
    offsets[row + 1] = total;
  }
  if (total > 0x7fffffff) {
    throw new IqueryError('bad_input', 'A chunk of 2048 strings holds more than 2 GiB of text.', { hint: 'Select shorter text (for example with left(column, n)).' });
  }
  const bytes = scratch.reserveBytes(total);
  const recordBytes = new Uint8Array(records.buffer, records.byteOffset, records.byteLength);
  for (let row = 0; row < rowCount; row++) {
    const start = offsets[row] ?? 0;
    const length = (offsets[row + 1] ?? 0) - start;
    if (length === 0) continue;
    const record = row * stringRecordBytes;
    if (length <= inlinedStringBytes) {
      for (let index = 0; index < length; index++) bytes[start + index] = recordBytes[record + 4 + index] ?? 0;
    } else {
      bytes.set(getStringBytes(records, record), start);
    }
  }
  return { layout: 'utf8', offsets, bytes: bytes.subarray(0, total), validity };
}

/** The string records of a VARCHAR vector, when they have the expected shape (and 4-byte alignment). */
function recordsOf(fields: RawVectorFields, rowCount: number): { records: DataView; validity: Uint8Array | null } | undefined {
  const records = fields.dataView;
  const validity = validityOf(fields, rowCount);
  if (!(records instanceof DataView) || records.byteLength !== rowCount * stringRecordBytes || records.byteOffset % 4 !== 0 || validity === undefined) {
    return undefined;
  }
  return { records, validity };
}

function readFixed(fields: RawVectorFields, plan: Extract<VectorPlan, { layout: 'fixed' }>, rowCount: number): ColumnVector | undefined {
  const data = bytesOf(fields.items ?? fields.dataView);
  const validity = validityOf(fields, rowCount);
  if (data === undefined || data.byteLength !== rowCount * plan.width || validity === undefined) return undefined;
  return {
    layout: 'fixed',
    kind: plan.kind,
    data,
    validity,
    ...(plan.scale === undefined ? {} : { scale: plan.scale }),
    ...(plan.utc === undefined ? {} : { utc: plan.utc }),
  };
}

/**
 * Makes a reader for the chunks of one result. Each column's plan is settled on the first chunk: raw
 * when its vectors have the expected shape, values otherwise, and it stays so for the whole result.
 */
export function createVectorReader(types: readonly DuckDBType[]): (chunk: DuckDBDataChunk) => ColumnVector[] {
  const plans = types.map(planOf);
  let settled = false;
  const scratch = types.map(() => new Scratch());
  const encoders = types.map((): StringEncoder | undefined => new StringEncoder());

  function valuesOf(chunk: DuckDBDataChunk, column: number): ColumnVector {
    const type = types[column];
    const raw = chunk.getColumnValues(column);
    return { layout: 'values', values: type === undefined ? raw.map(() => null) : raw.map((value) => toSqlValue(value, type)) };
  }

  function stringsOf(fields: RawVectorFields, rowCount: number, column: number): ColumnVector | undefined {
    const found = recordsOf(fields, rowCount);
    if (found === undefined) return undefined;
    const columnScratch = scratch[column] ?? new Scratch();
    const encoder = encoders[column];
    if (encoder === undefined) return readStrings(found.records, found.validity, rowCount, columnScratch);
    const vector = encoder.encode(found.records, found.validity, rowCount, columnScratch);
    if (encoder.exhausted) encoders[column] = undefined;
    return vector;
  }

  return (chunk) => {
    const rowCount = chunk.rowCount;
    const vectors = plans.map((plan, column): ColumnVector => {
      if (plan.layout === 'values') return valuesOf(chunk, column);
      const fields = chunk.getColumnVector(column) as unknown as RawVectorFields;
      const vector = plan.layout === 'strings' ? stringsOf(fields, rowCount, column) : readFixed(fields, plan, rowCount);
      if (vector !== undefined) return vector;
      if (settled) {
        throw new IqueryError('internal', `DuckDB handed over column ${column + 1} in an unexpected shape half-way through the result.`);
      }
      plans[column] = { layout: 'values' };
      return valuesOf(chunk, column);
    });
    settled = true;
    return vectors;
  };
}
