/**
 * Writes a frame chunk by chunk: each column's buffers are appended to its files as batches arrive,
 * so a result of any size passes through in constant memory (strings aside: the distinct values of a
 * category column are held until the end). `finish` writes the manifest last, under a temporary name
 * renamed into place, so a reader never sees half a frame.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { IqueryError } from '../../errors.js';
import type { ColumnarBatch, ColumnMeta, ColumnVector } from '../../sources/source.js';
import { AppendFile } from './append-file.js';
import {
  frameFormatName,
  frameFormatVersion,
  manifestFileName,
  type DecimalStorage,
  type FrameColumn,
  type FrameManifest,
  type IntegerKind,
  type TimeUnit,
} from './frame-manifest.js';
import { StringDictionary } from './string-dictionary.js';
import { ValidityBuilder } from './validity-builder.js';
import { valuesToVector } from './values-to-vector.js';

/**
 * A string column stays a category while its distinct values are few: it becomes plain strings when it
 * has more than `categoryMinimum` distinct values and they are more than half of its rows, or when
 * the distinct values outgrow `dictionaryBytesLimit`. A category of mostly-unique strings saves
 * nothing and makes pandas' groupby on categoricals slow.
 */
const categoryMinimum = 100_000;
const dictionaryBytesLimit = 256 * 2 ** 20;

interface ColumnBuilder {
  /** Appends a batch; returns a promise only when it has to wait (rewriting a column, back-pressure). */
  append(vector: ColumnVector, rowCount: number): Promise<void> | undefined;
  /** Closes the files and describes the column for the manifest. */
  finish(): Promise<FrameColumn>;
  /** Bytes written to the column's files. */
  readonly size: number;
  /** Closes the files after a failure (their content no longer matters). */
  abandon(): void;
}

/** The storage part of a fixed-width column's manifest entry. */
type FixedStorage =
  | { kind: 'bool' | IntegerKind | 'float32' | 'float64' | 'date32' }
  | { kind: 'timestamp'; unit: TimeUnit; timezone?: string }
  | { kind: 'decimal'; storage: DecimalStorage; scale?: number };

/** How a fixed-width vector is described in the manifest. */
function fixedStorageOf(vector: Extract<ColumnVector, { layout: 'fixed' }>, meta: ColumnMeta): FixedStorage {
  const timestamp = (unit: TimeUnit): FixedStorage => (vector.utc === true ? { kind: 'timestamp', unit, timezone: 'UTC' } : { kind: 'timestamp', unit });
  switch (vector.kind) {
    case 'timestamp_s':
      return timestamp('s');
    case 'timestamp_ms':
      return timestamp('ms');
    case 'timestamp_us':
      return timestamp('us');
    case 'timestamp_ns':
      return timestamp('ns');
    case 'decimal16':
      return { kind: 'decimal', storage: 'int16', scale: vector.scale ?? 0 };
    case 'decimal32':
      return { kind: 'decimal', storage: 'int32', scale: vector.scale ?? 0 };
    case 'decimal64':
      return { kind: 'decimal', storage: 'int64', scale: vector.scale ?? 0 };
    case 'decimal128':
      return { kind: 'decimal', storage: 'int128', scale: vector.scale ?? 0 };
    case 'float64':
      return meta.family === 'decimal' ? { kind: 'decimal', storage: 'float64' } : { kind: 'float64' };
    default:
      return { kind: vector.kind };
  }
}

/** Waits for the files that have too many writes in flight, if any (no promise in the usual case). */
function settle(first: AppendFile | undefined, second?: AppendFile, third?: AppendFile): Promise<void> | undefined {
  if (first?.congested !== true && second?.congested !== true && third?.congested !== true) return undefined;
  return Promise.all([first?.settle(), second?.settle(), third?.settle()]).then(() => undefined);
}

class FixedColumnBuilder implements ColumnBuilder {
  private readonly data: AppendFile;
  private readonly validity: ValidityBuilder;
  private readonly storage: FixedStorage;
  private readonly vector: { kind: string; scale: number | undefined; utc: boolean | undefined };

  constructor(
    private readonly meta: ColumnMeta,
    first: Extract<ColumnVector, { layout: 'fixed' }>,
    prefix: string,
    bufferBytes: number,
  ) {
    this.storage = fixedStorageOf(first, meta);
    this.vector = { kind: first.kind, scale: first.scale, utc: first.utc };
    this.data = new AppendFile(`${prefix}.data`, bufferBytes);
    this.validity = new ValidityBuilder(`${prefix}.validity`, bufferBytes >> 3);
  }

  get size(): number {
    return this.data.size + this.validity.size;
  }

  append(vector: ColumnVector, rowCount: number): Promise<void> | undefined {
    if (vector.layout !== 'fixed' || vector.kind !== this.vector.kind || vector.scale !== this.vector.scale || vector.utc !== this.vector.utc) {
      throw new IqueryError('internal', `Column "${this.meta.name}" changed its storage half-way through the result.`);
    }
    this.data.append(vector.data);
    this.validity.append(vector.validity, rowCount);
    return settle(this.data, this.validity.appendFile);
  }

  abandon(): void {
    this.data.abandon();
    this.validity.appendFile?.abandon();
  }

  async finish(): Promise<FrameColumn> {
    await this.data.close();
    await this.validity.close();
    const validity = this.validity.filePath;
    return {
      name: this.meta.name,
      native_type: this.meta.nativeType,
      ...this.storage,
      data: basename(this.data.path),
      nulls: this.validity.nulls,
      ...(validity === undefined ? {} : { validity: basename(validity) }),
    } as FrameColumn; // `storage` is one of the fixed-width members of the union; TS cannot see through the spread

  }
}

/** Plain strings: int64 offsets (rows + 1), UTF-8 bytes, validity. */
class PlainStrings {
  readonly offsets: AppendFile;
  readonly data: AppendFile;
  readonly validity: ValidityBuilder;
  private scratch = new Uint32Array(4096);

  constructor(prefix: string, bufferBytes: number) {
    this.offsets = new AppendFile(`${prefix}.offsets`, bufferBytes);
    this.data = new AppendFile(`${prefix}.data`, bufferBytes);
    this.validity = new ValidityBuilder(`${prefix}.validity`, bufferBytes >> 3);
    this.offsets.append(new Uint8Array(8));
  }

  append(offsets: Int32Array, bytes: Uint8Array, validity: Uint8Array | null, rowCount: number): void {
    if (this.scratch.length < rowCount * 2) this.scratch = new Uint32Array(rowCount * 2);
    const first = offsets[0] ?? 0;
    const base = this.data.size - first;
    for (let row = 0; row < rowCount; row++) {
      // int64 little-endian as two uint32 words; exact below 2^53 bytes.
      const end = base + (offsets[row + 1] ?? 0);
      this.scratch[row * 2] = end % 0x1_0000_0000;
      this.scratch[row * 2 + 1] = Math.floor(end / 0x1_0000_0000);
    }
    this.offsets.append(new Uint8Array(this.scratch.buffer, 0, rowCount * 8));
    this.data.append(bytes.subarray(first, offsets[rowCount] ?? first));
    this.validity.append(validity, rowCount);
  }

  async close(): Promise<void> {
    await this.offsets.close();
    await this.data.close();
    await this.validity.close();
  }

  abandon(): void {
    this.offsets.abandon();
    this.data.abandon();
    this.validity.appendFile?.abandon();
  }

  settle(): Promise<void> | undefined {
    return settle(this.offsets, this.data, this.validity.appendFile);
  }

  get size(): number {
    return this.offsets.size + this.data.size + this.validity.size;
  }
}

/** Strings, dictionary-encoded while that pays (see `categoryMinimum`), plain otherwise. */
class StringColumnBuilder implements ColumnBuilder {
  private dictionary: StringDictionary | undefined = new StringDictionary();
  private codes: AppendFile | undefined;
  private plain: PlainStrings | undefined;
  private codeScratch = new Int32Array(2048);
  private rows = 0;
  private nulls = 0;
  private dictionarySize = 0;
  /** True when the engine numbers the strings (dictionary vectors) and this builder only stores them. */
  private engineCoded = false;

  constructor(
    private readonly meta: ColumnMeta,
    private readonly prefix: string,
    private readonly bufferBytes: number,
  ) {
    this.codes = new AppendFile(`${prefix}.codes`, bufferBytes);
  }

  get size(): number {
    return (this.codes?.size ?? 0) + (this.plain?.size ?? 0) + this.dictionarySize;
  }

  append(vector: ColumnVector, rowCount: number): Promise<void> | undefined {
    if (vector.layout === 'dictionary') {
      this.appendCodes(vector.codes, vector.added, rowCount);
      return settle(this.codes);
    }
    if (vector.layout !== 'utf8') throw new IqueryError('internal', `Column "${this.meta.name}" changed its storage half-way through the result.`);
    // An engine that stops encoding a column has found too many distinct strings: plain from here on.
    // The vector stays valid while the codes are rewritten: the engine's next chunk waits for us.
    if (this.engineCoded && this.plain === undefined) return this.becomePlain().then(() => this.appendUtf8(vector, rowCount));
    return this.appendUtf8(vector, rowCount);
  }

  private appendUtf8(vector: Extract<ColumnVector, { layout: 'utf8' }>, rowCount: number): Promise<void> | undefined {
    const { offsets, bytes, validity } = vector;
    if (this.plain !== undefined) {
      this.plain.append(offsets, bytes, validity, rowCount);
      return this.plain.settle();
    }
    const dictionary = this.dictionary as StringDictionary;
    if (this.codeScratch.length < rowCount) this.codeScratch = new Int32Array(rowCount);
    const codes = this.codeScratch;
    for (let row = 0; row < rowCount; row++) {
      if (validity === null || ((validity[row >> 3] ?? 0) & (1 << (row & 7))) !== 0) {
        codes[row] = dictionary.encode(bytes, offsets[row] ?? 0, offsets[row + 1] ?? 0);
      } else {
        codes[row] = -1;
        this.nulls++;
      }
    }
    this.codes?.append(new Uint8Array(codes.buffer, 0, rowCount * 4));
    this.rows += rowCount;
    if ((dictionary.count > categoryMinimum && dictionary.count * 2 > this.rows) || dictionary.byteLength > dictionaryBytesLimit) return this.becomePlain();
    return settle(this.codes);
  }

  /** Codes the engine assigned, with the strings it saw first in this batch. */
  private appendCodes(codes: Int32Array, added: { offsets: Int32Array; bytes: Uint8Array }, rowCount: number): void {
    const dictionary = this.dictionary;
    if (dictionary === undefined || this.codes === undefined || (!this.engineCoded && this.rows > 0)) {
      throw new IqueryError('internal', `Column "${this.meta.name}" changed its storage half-way through the result.`);
    }
    this.engineCoded = true;
    for (let index = 0; index + 1 < added.offsets.length; index++) dictionary.push(added.bytes, added.offsets[index] ?? 0, added.offsets[index + 1] ?? 0);
    for (let row = 0; row < rowCount; row++) if ((codes[row] ?? -1) < 0) this.nulls++;
    this.codes.append(new Uint8Array(codes.buffer, codes.byteOffset, rowCount * 4));
    this.rows += rowCount;
  }

  abandon(): void {
    this.codes?.abandon();
    this.plain?.abandon();
  }

  async finish(): Promise<FrameColumn> {
    if (this.plain !== undefined) {
      await this.plain.close();
      const validity = this.plain.validity.filePath;
      return {
        name: this.meta.name,
        native_type: this.meta.nativeType,
        kind: 'string',
        offsets: basename(this.plain.offsets.path),
        data: basename(this.plain.data.path),
        nulls: this.plain.validity.nulls,
        ...(validity === undefined ? {} : { validity: basename(validity) }),
      };
    }
    const dictionary = this.dictionary as StringDictionary;
    const codes = this.codes as AppendFile;
    await codes.close();
    const { bytes, offsets } = dictionary.contents();
    const wide = new Float64Array(offsets.length);
    const words = new Uint32Array(wide.buffer);
    for (let index = 0; index < offsets.length; index++) words[index * 2] = offsets[index] ?? 0;
    writeFileSync(`${this.prefix}.dictionary_offsets`, words);
    writeFileSync(`${this.prefix}.dictionary`, bytes);
    this.dictionarySize = wide.byteLength + bytes.byteLength;
    return {
      name: this.meta.name,
      native_type: this.meta.nativeType,
      kind: 'category',
      codes: basename(codes.path),
      categories: dictionary.count,
      dictionary_offsets: basename(`${this.prefix}.dictionary_offsets`),
      dictionary: basename(`${this.prefix}.dictionary`),
      nulls: this.nulls,
    };
  }

  /** Rewrites the codes so far as plain strings, then continues plain. */
  private async becomePlain(): Promise<void> {
    const dictionary = this.dictionary as StringDictionary;
    const codesFile = this.codes as AppendFile;
    await codesFile.close();
    const plain = new PlainStrings(this.prefix, this.bufferBytes);
    const block = new Int32Array(1 << 16);
    const descriptor = openSync(codesFile.path, 'r');
    try {
      for (let done = 0; done < this.rows; ) {
        const count = Math.min(block.length, this.rows - done);
        const read = readSync(descriptor, new Uint8Array(block.buffer, 0, count * 4), 0, count * 4, done * 4);
        if (read !== count * 4) throw new IqueryError('internal', `Short read rewriting column "${this.meta.name}".`);
        const offsets = new Int32Array(count + 1);
        let total = 0;
        for (let row = 0; row < count; row++) {
          const code = block[row] ?? -1;
          if (code >= 0) total += dictionary.stringBytes(code).byteLength;
          offsets[row + 1] = total;
        }
        const bytes = new Uint8Array(total);
        const validity = new Uint8Array(Math.ceil(count / 8)).fill(0xff);
        for (let row = 0; row < count; row++) {
          const code = block[row] ?? -1;
          if (code >= 0) bytes.set(dictionary.stringBytes(code), offsets[row] ?? 0);
          else validity[row >> 3] = (validity[row >> 3] ?? 0) & ~(1 << (row & 7));
        }
        plain.append(offsets, bytes, validity, count);
        await plain.settle();
        done += count;
      }
    } finally {
      closeSync(descriptor);
    }
    rmSync(codesFile.path, { force: true });
    this.codes = undefined;
    this.dictionary = undefined;
    this.plain = plain;
  }
}

/** What a finished frame looks like to the caller. */
export interface WrittenFrame {
  manifestPath: string;
  manifest: FrameManifest;
  /** Bytes of all files, the manifest included. */
  bytes: number;
}

export class FrameWriter {
  private builders: ColumnBuilder[] | undefined;
  private columns: ColumnMeta[] = [];
  private rows = 0;
  private readonly directory: string;

  /** `directory` must exist; files are named `c<index>.<part>` and `manifest.json`. */
  constructor(directory: string) {
    this.directory = directory;
  }

  /** Appends a batch; its buffers are copied (or written) before the promise settles. */
  async append(batch: ColumnarBatch): Promise<void> {
    if (this.builders === undefined) {
      this.columns = batch.columns;
      const bufferBytes = Math.max(1 << 16, Math.min(1 << 20, Math.floor(2 ** 25 / Math.max(1, batch.columns.length))));
      this.builders = batch.columns.map((meta, index) => {
        const vector = batch.vectors[index];
        if (vector === undefined) throw new IqueryError('internal', `Column "${meta.name}" has no vector.`);
        return this.builderFor(meta, this.rawOf(meta, vector), join(this.directory, `c${index}`), bufferBytes);
      });
    }
    for (const [index, builder] of this.builders.entries()) {
      const meta = this.columns[index];
      const vector = batch.vectors[index];
      if (meta === undefined || vector === undefined) throw new IqueryError('internal', `Column ${index + 1} is missing from a batch.`);
      const waiting = builder.append(this.rawOf(meta, vector), batch.rowCount);
      if (waiting !== undefined) await waiting;
    }
    this.rows += batch.rowCount;
  }

  /** Closes every file and writes the manifest. A frame with no batch at all has no columns. */
  async finish(): Promise<WrittenFrame> {
    const columns: FrameColumn[] = [];
    for (const builder of this.builders ?? []) columns.push(await builder.finish());
    const manifest: FrameManifest = { format: frameFormatName, version: frameFormatVersion, rows: this.rows, columns };
    const manifestPath = join(this.directory, manifestFileName);
    const text = JSON.stringify(manifest, null, 1);
    const temporary = `${manifestPath}.writing`;
    writeFileSync(temporary, text);
    renameSync(temporary, manifestPath);
    const bytes = (this.builders ?? []).reduce((sum, builder) => sum + builder.size, Buffer.byteLength(text));
    return { manifestPath, manifest, bytes };
  }

  /** Closes every file after a failure; the caller removes them. */
  abandon(): void {
    for (const builder of this.builders ?? []) {
      try {
        builder.abandon();
      } catch {
        // Closing is best effort here: the files are removed next.
      }
    }
  }

  private rawOf(meta: ColumnMeta, vector: ColumnVector): ColumnVector {
    return vector.layout === 'values' ? valuesToVector(meta, vector.values) : vector;
  }

  private builderFor(meta: ColumnMeta, vector: ColumnVector, prefix: string, bufferBytes: number): ColumnBuilder {
    if (vector.layout === 'utf8' || vector.layout === 'dictionary') return new StringColumnBuilder(meta, prefix, bufferBytes);
    if (vector.layout === 'fixed') return new FixedColumnBuilder(meta, vector, prefix, bufferBytes);
    throw new IqueryError('internal', `Column "${meta.name}" has no raw form.`);
  }
}
