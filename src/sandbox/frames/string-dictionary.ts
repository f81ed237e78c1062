/**
 * Distinct strings, kept as UTF-8 bytes, each with a code (0, 1, 2… in order of first sight). Keyed by
 * bytes, not JS strings, so that encoding a column never decodes it: an open-addressing hash table
 * over FNV-1a hashes, all in typed arrays.
 */
export class StringDictionary {
  /** Distinct strings so far. */
  count = 0;
  /** UTF-8 bytes of the strings, back to back; `offsets[code]..offsets[code + 1]`. */
  private bytes = new Uint8Array(1 << 12);
  private offsets = new Int32Array(1 << 10);
  private hashes = new Int32Array(1 << 10);
  /** code + 1 per slot, 0 = empty; the length is a power of two, at most half full. */
  private slots = new Int32Array(1 << 11);
  /** False once `push` added strings without hashing them: `encode` is then unavailable. */
  private hashed = true;

  /** Bytes held by the distinct strings. */
  get byteLength(): number {
    return this.offsets[this.count] ?? 0;
  }

  /** The code of `source[start..end)`, adding it when new. */
  encode(source: Uint8Array, start: number, end: number): number {
    if (!this.hashed) throw new Error('StringDictionary.encode after push');
    let hash = 0x811c9dc5;
    for (let index = start; index < end; index++) hash = Math.imul(hash ^ (source[index] ?? 0), 0x01000193);
    const mask = this.slots.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] ?? 0;
      if (entry === 0) return this.add(source, start, end, hash, slot);
      const code = entry - 1;
      if (this.hashes[code] !== hash) continue;
      const at = this.offsets[code] ?? 0;
      if ((this.offsets[code + 1] ?? 0) - at !== length) continue;
      let same = true;
      for (let index = 0; index < length; index++) {
        if (this.bytes[at + index] !== source[start + index]) {
          same = false;
          break;
        }
      }
      if (same) return code;
    }
  }

  /** Adds `source[start..end)` as the next code without looking it up (the caller knows it is new). */
  push(source: Uint8Array, start: number, end: number): void {
    this.hashed = false;
    this.store(source, start, end, 0);
  }

  /** The bytes of a code's string (a view). */
  stringBytes(code: number): Uint8Array {
    return this.bytes.subarray(this.offsets[code] ?? 0, this.offsets[code + 1] ?? 0);
  }

  /** All strings' bytes and the count + 1 offsets into them (views). */
  contents(): { bytes: Uint8Array; offsets: Int32Array } {
    return { bytes: this.bytes.subarray(0, this.byteLength), offsets: this.offsets.subarray(0, this.count + 1) };
  }

  private add(source: Uint8Array, start: number, end: number, hash: number, slot: number): number {
    const code = this.store(source, start, end, hash);
    this.slots[slot] = code + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return code;
  }

  private store(source: Uint8Array, start: number, end: number, hash: number): number {
    const code = this.count;
    const at = this.byteLength;
    const length = end - start;
    if (at + length > this.bytes.length) this.bytes = grow(this.bytes, at + length);
    this.bytes.set(source.subarray(start, end), at);
    if (code + 2 > this.offsets.length) {
      this.offsets = grow(this.offsets, code + 2);
      this.hashes = grow(this.hashes, code + 2);
    }
    this.offsets[code + 1] = at + length;
    this.hashes[code] = hash;
    this.count++;
    return code;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let code = 0; code < this.count; code++) {
      let slot = (this.hashes[code] ?? 0) & mask;
      while ((this.slots[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = code + 1;
    }
  }
}

function grow<T extends Uint8Array | Int32Array>(array: T, atLeast: number): T {
  let length = array.length * 2;
  while (length < atLeast) length *= 2;
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
