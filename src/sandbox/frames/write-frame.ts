import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IqueryError } from '../../errors.js';
import type { ColumnarBatch, ColumnarStream, DataSource } from '../../sources/source.js';
import { describeKind, frameFormatName, frameFormatVersion, manifestFileName, parseManifest } from './frame-manifest.js';
import { FrameWriter } from './frame-writer.js';

/** Rows a handoff carries at most unless told otherwise: large, because handoff is for big data. */
export const defaultHandoffMaxRows = 100_000_000;
/** Time limit of a handoff query, in milliseconds: generous, since it streams everything. */
export const defaultHandoffTimeoutMs = 600_000;

export interface FrameSummary {
  /** Absolute path of the frame's `manifest.json`. */
  manifest: string;
  rows: number;
  columns: { name: string; kind: string }[];
  /** True when the query produced more rows than `maxRows`; the frame holds the first `maxRows`. */
  truncated: boolean;
  /** Bytes of all the frame's files. */
  bytes: number;
  /** Who wrote the column files: the engine natively, or JS from the streamed batches. */
  writer: 'native' | 'stream';
}

export interface WriteQueryFrameOptions {
  /** Most rows written; default 100 000 000. */
  maxRows?: number;
  /** Wall-clock limit for the query, in milliseconds; default 600 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** False to stream through JS even where the engine writes frames natively (tests, benchmarks). */
  native?: boolean;
}

/** The source's batches as raw vectors: the engine's own (DuckDB) or converted from values batch by batch. */
function columnarBatches(source: DataSource, sql: string, options: WriteQueryFrameOptions & { maxRows: number; timeoutMs: number }): ColumnarStream {
  const streamOptions = { maxRows: options.maxRows, timeoutMs: options.timeoutMs, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  if (source.streamColumnar !== undefined) return source.streamColumnar(sql, streamOptions);
  const stream = source.stream(sql, { ...streamOptions, batchRows: 8192 });
  async function* batches(): AsyncGenerator<ColumnarBatch> {
    for await (const batch of stream) {
      yield { columns: batch.columns, vectors: batch.values.map((values) => ({ layout: 'values', values })), rowCount: batch.rowCount };
    }
  }
  const iterable = batches();
  return {
    get truncated() {
      return stream.truncated;
    },
    [Symbol.asyncIterator]: () => iterable,
  };
}

/**
 * Runs a query (through the source's guard, like every user statement) and writes its result as a
 * frame under `directory`, which must be absent or empty, streaming: rows never pile up in memory.
 * DuckDB sources hand over their vectors' memory directly; other sources' values are converted batch
 * by batch. On failure or cancellation the files written so far are removed.
 */
export async function writeQueryFrame(source: DataSource, sql: string, directory: string, options: WriteQueryFrameOptions = {}): Promise<FrameSummary> {
  const folder = resolve(directory);
  if (existsSync(folder) && !statSync(folder).isDirectory()) {
    throw new IqueryError('bad_input', `${folder} is a file, not a folder for a frame.`, { hint: 'Give a new or empty folder for each frame.' });
  }
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new IqueryError('bad_input', `The frame folder ${folder} is not empty.`, { hint: 'Give a new or empty folder for each frame.' });
  }
  mkdirSync(folder, { recursive: true });
  const limits = { ...options, maxRows: options.maxRows ?? defaultHandoffMaxRows, timeoutMs: options.timeoutMs ?? defaultHandoffTimeoutMs };
  if (options.native !== false && source.writeFrameFiles !== undefined) {
    const written = await writeNatively(source.writeFrameFiles.bind(source), sql, folder, limits);
    if (written !== undefined) return written;
  }
  const writer = new FrameWriter(folder);
  const stream = columnarBatches(source, sql, limits);
  try {
    for await (const batch of stream) await writer.append(batch);
    const written = await writer.finish();
    return {
      manifest: written.manifestPath,
      rows: written.manifest.rows,
      columns: written.manifest.columns.map((column) => ({ name: column.name, kind: describeKind(column) })),
      truncated: stream.truncated,
      bytes: written.bytes,
      writer: 'stream',
    };
  } catch (error) {
    writer.abandon();
    emptyFolder(folder);
    throw error;
  }
}

function emptyFolder(folder: string): void {
  for (const entry of readdirSync(folder)) rmSync(resolve(folder, entry), { force: true, recursive: true });
}

/**
 * The engine writes the column files itself; the manifest it describes is checked like any other
 * frame's and written last. Undefined when the engine declined (nothing was written).
 */
async function writeNatively(
  write: NonNullable<DataSource['writeFrameFiles']>,
  sql: string,
  folder: string,
  limits: { maxRows: number; timeoutMs: number; signal?: AbortSignal },
): Promise<FrameSummary | undefined> {
  try {
    const files = await write(sql, folder, limits);
    if (files === undefined) return undefined;
    const manifestPath = join(folder, manifestFileName);
    const text = JSON.stringify({ format: frameFormatName, version: frameFormatVersion, rows: files.rows, columns: files.columns }, null, 1);
    const manifest = parseManifest(text, manifestPath);
    writeFileSync(`${manifestPath}.writing`, text);
    renameSync(`${manifestPath}.writing`, manifestPath);
    return {
      manifest: manifestPath,
      rows: manifest.rows,
      columns: manifest.columns.map((column) => ({ name: column.name, kind: describeKind(column) })),
      truncated: files.truncated,
      bytes: files.bytes + Buffer.byteLength(text),
      writer: 'native',
    };
  } catch (error) {
    emptyFolder(folder);
    throw error;
  }
}
