/**
 * Reads a frame (written by the kernel's `frames.write_frame`, or by `writeQueryFrame`) back into JS
 * values for showing: at most `maxRows` rows, read with positioned reads so a large frame costs only
 * what is shown. The frame comes from the sandbox, so its manifest is checked and every file's size is
 * compared with what the manifest implies before anything is read.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { IqueryError } from '../../errors.js';
import { defaultMaxRows, type ColumnMeta, type SqlValue } from '../../sources/source.js';
import { describeKind, familyOfColumn, parseManifest, storageWidths, type FrameColumn, type TimeUnit } from './frame-manifest.js';

export interface FrameContents {
  columns: ColumnMeta[];
  /** Column-major: `values[c][r]`. */
  values: SqlValue[][];
  rowCount: number;
  /** True when the frame has more rows than `maxRows`. */
  truncated: boolean;
}

/** Dictionaries up to this size are read whole; larger ones string by string. */
const wholeDictionaryBytes = 32 * 2 ** 20;

const decoder = new TextDecoder();

/** Opens the frame's files one at a time and checks their sizes. */
class FrameFiles {
  constructor(
    private readonly folder: string,
    private readonly where: string,
  ) {}

  /** Reads `length` bytes at `position` of `name`, checking that the file holds at least `expectedSize` bytes. */
  async read(name: string, position: number, length: number, expectedSize: number): Promise<Uint8Array> {
    const path = join(this.folder, name);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new IqueryError('bad_input', `The frame ${this.where} names ${name}, which cannot be opened.`, { cause: error });
    }
    try {
      const size = (await handle.stat()).size;
      if (size < expectedSize) {
        throw new IqueryError('bad_input', `The frame file ${name} holds ${size} bytes; its manifest implies ${expectedSize}.`);
      }
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return bytes;
    } finally {
      await handle.close();
    }
  }
}

/** Copies bytes into a fresh, aligned buffer so that typed arrays can view them. */
function view<T>(bytes: Uint8Array, make: (buffer: ArrayBuffer) => T): T {
  return make(bytes.slice().buffer);
}

function bigintToValue(value: bigint): SqlValue {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function isValidAt(validity: Uint8Array | null, row: number): boolean {
  return validity === null || ((validity[row >> 3] ?? 0) & (1 << (row & 7))) !== 0;
}

const unitsPerSecond: Record<TimeUnit, bigint> = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `YYYY-MM-DD` of a day count since 1970-01-01 (years outside 0…9999 keep their sign and digits). */
function formatDate(days: number): string {
  const date = new Date(days * 86_400_000);
  if (Number.isNaN(date.getTime())) return String(days);
  const year = date.getUTCFullYear();
  const yearText = year >= 0 && year <= 9999 ? pad(year, 4) : String(year);
  return `${yearText}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
}

/** `YYYY-MM-DD HH:MM:SS[.fraction]`, like DuckDB's own text, `+00` for instants in UTC. */
function formatTimestamp(value: bigint, unit: TimeUnit, utc: boolean): string {
  const perSecond = unitsPerSecond[unit];
  const perDay = perSecond * 86_400n;
  let days = value / perDay;
  let rest = value % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const seconds = Number(rest / perSecond);
  const fraction = rest % perSecond;
  const digits = unit === 's' ? 0 : unit === 'ms' ? 3 : unit === 'us' ? 6 : 9;
  const time = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  const fractionText = fraction === 0n ? '' : `.${fraction.toString().padStart(digits, '0').replace(/0+$/, '')}`;
  return `${formatDate(Number(days))} ${time}${fractionText}${utc ? '+00' : ''}`;
}

/** `1 days 02:03:04.5`, like pandas; `-00:00:03` under a day. */
function formatDuration(value: bigint, unit: TimeUnit): string {
  const perSecond = unitsPerSecond[unit];
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const totalSeconds = magnitude / perSecond;
  const fraction = magnitude % perSecond;
  const days = totalSeconds / 86_400n;
  const seconds = Number(totalSeconds % 86_400n);
  const digits = unit === 's' ? 0 : unit === 'ms' ? 3 : unit === 'us' ? 6 : 9;
  const fractionText = fraction === 0n ? '' : `.${fraction.toString().padStart(digits, '0').replace(/0+$/, '')}`;
  return `${negative ? '-' : ''}${days === 0n ? '' : `${days} days `}${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}${fractionText}`;
}

function int128At(words: BigUint64Array, row: number): bigint {
  const low = words[row * 2] ?? 0n;
  const high = BigInt.asIntN(64, words[row * 2 + 1] ?? 0n);
  return (high << 64n) + low;
}

/** The number `unscaled / 10^scale`, via its decimal text so that 1234 / 100 gives exactly 12.34. */
function scaled(unscaled: bigint, scale: number): number {
  if (scale === 0) return Number(unscaled);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return Number(`${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`);
}

/** Reads one column's first `rows` values. */
async function readColumn(files: FrameFiles, column: FrameColumn, totalRows: number, rows: number): Promise<SqlValue[]> {
  const values: SqlValue[] = new Array<SqlValue>(rows).fill(null);
  const validityOf = async (): Promise<Uint8Array | null> => {
    if (!('validity' in column) || column.validity === undefined) return null;
    return files.read(column.validity, 0, Math.ceil(rows / 8), Math.ceil(totalRows / 8));
  };
  const fixed = async (width: number): Promise<Uint8Array> => files.read((column as { data: string }).data, 0, rows * width, totalRows * width);

  switch (column.kind) {
    case 'category': {
      const codes = view(await files.read(column.codes, 0, rows * 4, totalRows * 4), (buffer) => new Int32Array(buffer));
      const offsetsSize = (column.categories + 1) * 8;
      const strings = new Map<number, string>();
      const lastOffset = view(await files.read(column.dictionary_offsets, column.categories * 8, 8, offsetsSize), (buffer) => new BigInt64Array(buffer))[0] ?? 0n;
      const dictionaryBytes = Number(lastOffset);
      const whole = dictionaryBytes <= wholeDictionaryBytes;
      const offsets = whole ? view(await files.read(column.dictionary_offsets, 0, offsetsSize, offsetsSize), (buffer) => new BigInt64Array(buffer)) : undefined;
      const data = whole ? await files.read(column.dictionary, 0, dictionaryBytes, dictionaryBytes) : undefined;
      for (let row = 0; row < rows; row++) {
        const code = codes[row] ?? -1;
        if (code < 0) continue;
        if (code >= column.categories) throw new IqueryError('bad_input', `Column "${column.name}" has code ${code} beyond its ${column.categories} categories.`);
        let text = strings.get(code);
        if (text === undefined) {
          let bounds: BigInt64Array;
          if (offsets !== undefined) bounds = offsets.subarray(code, code + 2);
          else bounds = view(await files.read(column.dictionary_offsets, code * 8, 16, offsetsSize), (buffer) => new BigInt64Array(buffer));
          const start = Number(bounds[0] ?? 0n);
          const end = Number(bounds[1] ?? 0n);
          if (start < 0 || end < start || end > dictionaryBytes) throw new IqueryError('bad_input', `Column "${column.name}" has malformed dictionary offsets.`);
          const bytes = data !== undefined ? data.subarray(start, end) : await files.read(column.dictionary, start, end - start, end);
          text = decoder.decode(bytes);
          strings.set(code, text);
        }
        values[row] = text;
      }
      return values;
    }
    case 'string': {
      const offsets = view(await files.read(column.offsets, 0, (rows + 1) * 8, (totalRows + 1) * 8), (buffer) => new BigInt64Array(buffer));
      const first = Number(offsets[0] ?? 0n);
      const last = Number(offsets[rows] ?? 0n);
      if (first < 0 || last < first) throw new IqueryError('bad_input', `Column "${column.name}" has malformed string offsets.`);
      const data = await files.read(column.data, first, last - first, last);
      const validity = await validityOf();
      for (let row = 0; row < rows; row++) {
        if (!isValidAt(validity, row)) continue;
        const start = Number(offsets[row] ?? 0n) - first;
        const end = Number(offsets[row + 1] ?? 0n) - first;
        if (start < 0 || end < start || end > data.length) throw new IqueryError('bad_input', `Column "${column.name}" has malformed string offsets.`);
        values[row] = decoder.decode(data.subarray(start, end));
      }
      return values;
    }
    default:
      break;
  }

  const validity = await validityOf();
  const fill = (valueAt: (row: number) => SqlValue): SqlValue[] => {
    for (let row = 0; row < rows; row++) if (isValidAt(validity, row)) values[row] = valueAt(row);
    return values;
  };
  switch (column.kind) {
    case 'bool': {
      const data = await fixed(1);
      return fill((row) => data[row] !== 0);
    }
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32': {
      const kind = column.kind;
      const width = storageWidths[kind];
      const data = await fixed(width);
      const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const readers: Record<typeof kind, (offset: number) => number> = {
        int8: (offset) => dataView.getInt8(offset),
        int16: (offset) => dataView.getInt16(offset, true),
        int32: (offset) => dataView.getInt32(offset, true),
        uint8: (offset) => dataView.getUint8(offset),
        uint16: (offset) => dataView.getUint16(offset, true),
        uint32: (offset) => dataView.getUint32(offset, true),
      };
      const get = readers[kind];
      return fill((row) => get(row * width));
    }
    case 'int64':
    case 'uint64': {
      const data = view(await fixed(8), (buffer) => (column.kind === 'int64' ? new BigInt64Array(buffer) : new BigUint64Array(buffer)));
      return fill((row) => bigintToValue(data[row] ?? 0n));
    }
    case 'int128': {
      const data = view(await fixed(16), (buffer) => new BigUint64Array(buffer));
      return fill((row) => bigintToValue(int128At(data, row)));
    }
    case 'float32':
    case 'float64': {
      const data = view(await fixed(storageWidths[column.kind]), (buffer) => (column.kind === 'float32' ? new Float32Array(buffer) : new Float64Array(buffer)));
      // NaN and infinities are not JSON: shown as null, like pandas' missing values.
      return fill((row) => {
        const value = data[row] ?? Number.NaN;
        return Number.isFinite(value) ? value : null;
      });
    }
    case 'date32': {
      const data = view(await fixed(4), (buffer) => new Int32Array(buffer));
      return fill((row) => formatDate(data[row] ?? 0));
    }
    case 'timestamp': {
      const data = view(await fixed(8), (buffer) => new BigInt64Array(buffer));
      const utc = column.timezone !== undefined;
      return fill((row) => formatTimestamp(data[row] ?? 0n, column.unit, utc));
    }
    case 'duration': {
      const data = view(await fixed(8), (buffer) => new BigInt64Array(buffer));
      return fill((row) => formatDuration(data[row] ?? 0n, column.unit));
    }
    case 'decimal': {
      const scale = column.scale ?? 0;
      switch (column.storage) {
        case 'float64': {
          const data = view(await fixed(8), (buffer) => new Float64Array(buffer));
          return fill((row) => {
            const value = data[row] ?? Number.NaN;
            return Number.isFinite(value) ? value : null;
          });
        }
        case 'int128': {
          const data = view(await fixed(16), (buffer) => new BigUint64Array(buffer));
          return fill((row) => scaled(int128At(data, row), scale));
        }
        case 'int64': {
          const data = view(await fixed(8), (buffer) => new BigInt64Array(buffer));
          return fill((row) => scaled(data[row] ?? 0n, scale));
        }
        case 'int32': {
          const data = view(await fixed(4), (buffer) => new Int32Array(buffer));
          return fill((row) => scaled(BigInt(data[row] ?? 0), scale));
        }
        case 'int16': {
          const data = view(await fixed(2), (buffer) => new Int16Array(buffer));
          return fill((row) => scaled(BigInt(data[row] ?? 0), scale));
        }
      }
    }
  }
}

/**
 * Reads the frame whose manifest is at `manifest` (a path), returning at most `maxRows` rows
 * (default 10 000) as column-major JS values: integers as numbers (as text beyond 2^53), decimals as
 * numbers, dates as `YYYY-MM-DD`, timestamps as `YYYY-MM-DD HH:MM:SS[.f]` (`+00` when zoned; the
 * instant in UTC), NaN and infinities as null.
 */
export async function readFrame(manifest: string, options: { maxRows?: number } = {}): Promise<FrameContents> {
  const maxRows = options.maxRows ?? defaultMaxRows;
  if (!Number.isInteger(maxRows) || maxRows < 0) throw new IqueryError('usage', `maxRows must be a whole number of 0 or more, got ${maxRows}.`);
  const path = resolve(manifest);
  let text: string;
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IqueryError('not_found', `No frame manifest at ${path}.`, { cause: error });
  }
  const parsed = parseManifest(text, path);
  const rows = Math.min(parsed.rows, maxRows);
  const files = new FrameFiles(dirname(path), path);
  const values: SqlValue[][] = [];
  for (const column of parsed.columns) values.push(await readColumn(files, column, parsed.rows, rows));
  return {
    columns: parsed.columns.map((column) => ({ name: column.name, nativeType: column.native_type ?? describeKind(column), family: familyOfColumn(column) })),
    values,
    rowCount: rows,
    truncated: parsed.rows > rows,
  };
}
