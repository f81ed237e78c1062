import { close, closeSync, openSync, write } from 'node:fs';

/** Writes `bytes` fully at `position`, on libuv's thread pool. */
function writeFully(descriptor: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number): void => {
      write(descriptor, bytes, offset, bytes.byteLength - offset, position + offset, (error, written) => {
        if (error !== null) reject(error);
        else if (offset + written < bytes.byteLength) step(offset + written);
        else resolve();
      });
    };
    step(0);
  });
}

/**
 * A file written front to back through buffers. Bytes handed to `append` are copied at once (they may
 * be views of an engine's memory that die when the caller moves on); full buffers are written on the
 * thread pool while the caller goes on, so the copy into the page cache overlaps the next chunk's
 * work. `settle` waits until at most `maximumInFlight` buffers are being written; `close` waits for all.
 */
export class AppendFile {
  readonly path: string;
  /** Bytes appended so far. */
  size = 0;
  private readonly descriptor: number;
  private readonly bufferBytes: number;
  private buffer: Uint8Array;
  private used = 0;
  private written = 0;
  private readonly spare: Uint8Array[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private closed = false;
  private static readonly maximumInFlight = 2;

  /** `bufferBytes`: how much to gather before writing (default 1 MiB). */
  constructor(path: string, bufferBytes = 1 << 20) {
    this.path = path;
    this.descriptor = openSync(path, 'w');
    this.bufferBytes = bufferBytes;
    this.buffer = new Uint8Array(bufferBytes);
  }

  append(bytes: Uint8Array): void {
    this.size += bytes.byteLength;
    if (bytes.byteLength < this.buffer.byteLength - this.used) {
      this.buffer.set(bytes, this.used);
      this.used += bytes.byteLength;
      return;
    }
    let from = 0;
    while (from < bytes.byteLength) {
      const count = Math.min(bytes.byteLength - from, this.buffer.byteLength - this.used);
      this.buffer.set(bytes.subarray(from, from + count), this.used);
      this.used += count;
      from += count;
      if (this.used === this.buffer.byteLength) this.flush();
    }
  }

  /** Appends `count` copies of `byte`. */
  fill(byte: number, count: number): void {
    const block = new Uint8Array(Math.min(count, 1 << 16)).fill(byte);
    for (let left = count; left > 0; left -= block.byteLength) this.append(left >= block.byteLength ? block : block.subarray(0, left));
  }

  /** True when `settle` would wait: too many buffers are being written, or a write failed. */
  get congested(): boolean {
    return this.inFlight.size > AppendFile.maximumInFlight || this.failure !== undefined;
  }

  /** Waits until few enough buffers are being written (back-pressure); rethrows a failed write. */
  async settle(): Promise<void> {
    while (this.inFlight.size > AppendFile.maximumInFlight) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes what is left and closes the file; closing again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
      await Promise.all(this.inFlight);
      if (this.failure !== undefined) throw this.failure;
    } finally {
      await new Promise<void>((resolve) => close(this.descriptor, () => resolve()));
    }
  }

  /** Closes the file at once after a failure, without waiting for writes (their content no longer matters). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight.size === 0) {
      closeSync(this.descriptor);
      return;
    }
    void Promise.allSettled(this.inFlight).then(() => closeSync(this.descriptor));
  }

  private flush(): void {
    if (this.used === 0) return;
    const full = this.buffer.subarray(0, this.used);
    const writing = writeFully(this.descriptor, full, this.written).then(
      () => {
        this.inFlight.delete(writing);
        if (this.spare.length <= AppendFile.maximumInFlight && full.buffer.byteLength === this.bufferBytes) this.spare.push(new Uint8Array(full.buffer));
      },
      (error: unknown) => {
        this.inFlight.delete(writing);
        this.failure ??= error;
      },
    );
    this.inFlight.add(writing);
    this.written += this.used;
    this.buffer = this.spare.pop() ?? new Uint8Array(this.bufferBytes);
    this.used = 0;
  }
}
