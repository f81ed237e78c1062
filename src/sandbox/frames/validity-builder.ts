import { AppendFile } from './append-file.js';

/** Set bits in each byte value. */
const bitsSet = Uint8Array.from({ length: 256 }, (_, value) => {
  let count = 0;
  for (let bits = value; bits !== 0; bits >>= 1) count += bits & 1;
  return count;
});

/** Valid rows among the first `rows` bits of a bitmap (LSB first). */
export function countValid(bitmap: Uint8Array, rows: number): number {
  const whole = rows >> 3;
  let valid = 0;
  for (let index = 0; index < whole; index++) valid += bitsSet[bitmap[index] ?? 0] ?? 0;
  const rest = rows & 7;
  if (rest > 0) valid += bitsSet[(bitmap[whole] ?? 0) & ((1 << rest) - 1)] ?? 0;
  return valid;
}

/**
 * Gathers a column's validity bitmap (LSB first, 1 = valid) across chunks. The file is only created
 * at the first null, filled with ones for the rows before it, so that a column without nulls has none.
 */
export class ValidityBuilder {
  nulls = 0;
  private rows = 0;
  private file: AppendFile | undefined;
  /** Bits of the last, incomplete byte (rows % 8 of them). */
  private partial = 0;
  private closed = false;
  private readonly path: string;
  private readonly bufferBytes: number;

  constructor(path: string, bufferBytes: number) {
    this.path = path;
    this.bufferBytes = bufferBytes;
  }

  /** The file, when the column has nulls. */
  get filePath(): string | undefined {
    return this.file?.path;
  }

  get size(): number {
    return this.file?.size ?? 0;
  }

  /** Appends `rows` rows; `bitmap` null means all valid. */
  append(bitmap: Uint8Array | null, rows: number): void {
    if (rows === 0) return;
    const nulls = bitmap === null ? 0 : rows - countValid(bitmap, rows);
    if (this.file === undefined) {
      if (nulls === 0) {
        this.rows += rows;
        return;
      }
      this.file = new AppendFile(this.path, this.bufferBytes);
      const before = this.rows;
      this.rows = 0;
      this.appendOnes(before);
    }
    this.nulls += nulls;
    if (bitmap === null) this.appendOnes(rows);
    else this.appendBits(bitmap, rows);
  }

  /** The file, when there is one (for back-pressure and closing). */
  get appendFile(): AppendFile | undefined {
    return this.file;
  }

  /** Writes the last byte and closes the file; closing again does nothing. */
  async close(): Promise<void> {
    if (this.file === undefined || this.closed) return;
    this.closed = true;
    if ((this.rows & 7) !== 0) this.file.append(Uint8Array.of(this.partial));
    await this.file.close();
  }

  private appendOnes(rows: number): void {
    let left = rows;
    while (left > 0 && (this.rows & 7) !== 0) {
      this.partial |= 1 << (this.rows & 7);
      this.rows++;
      left--;
      if ((this.rows & 7) === 0) this.emitPartial();
    }
    if (left >= 8) {
      this.file?.fill(0xff, left >> 3);
      this.rows += left & ~7;
      left &= 7;
    }
    for (let bit = 0; bit < left; bit++) this.partial |= 1 << bit;
    this.rows += left;
  }

  private appendBits(bitmap: Uint8Array, rows: number): void {
    const shift = this.rows & 7;
    const whole = rows >> 3;
    if (shift === 0) {
      // Byte-aligned, the usual case (2048-row chunks): copy whole bytes.
      this.file?.append(bitmap.subarray(0, whole));
      this.rows += whole << 3;
      const rest = rows & 7;
      if (rest > 0) {
        this.partial = (bitmap[whole] ?? 0) & ((1 << rest) - 1);
        this.rows += rest;
      }
      return;
    }
    const out = new Uint8Array(whole);
    let carry = this.partial;
    for (let index = 0; index < whole; index++) {
      const byte = bitmap[index] ?? 0;
      out[index] = (carry | (byte << shift)) & 0xff;
      carry = byte >> (8 - shift);
    }
    this.file?.append(out);
    this.partial = carry;
    this.rows += whole << 3;
    const rest = rows & 7;
    for (let bit = 0; bit < rest; bit++) {
      const valid = ((bitmap[whole] ?? 0) >> bit) & 1;
      const position = this.rows & 7;
      this.partial |= valid << position;
      this.rows++;
      if ((this.rows & 7) === 0) this.emitPartial();
    }
  }

  private emitPartial(): void {
    this.file?.append(Uint8Array.of(this.partial));
    this.partial = 0;
  }
}
