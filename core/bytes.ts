/** Character codes of the digits of every radix up to 36. */
const DIGITS = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

const MAX_INT32 = 2 ** 31 - 1;

/** Per radix, the largest power of it that fits an int32 (`size`), and its number of zeros (`digits`). */
const CHUNKS = Array.from({ length: 37 }, (_, radix) => {
  let size = 1;
  let digits = 0;
  while (radix >= 2 && size * radix <= MAX_INT32) {
    size *= radix;
    digits++;
  }
  return { size, digits };
});

/**
 * Builds one Buffer from many strings and buffers without first joining
 * them into one large string: a megabyte-sized string lands in V8's old
 * space and is flattened and copied again on conversion, which is most of
 * the garbage a busy sidecar makes.
 */
export class ByteWriter {
  private buf: Buffer;
  private length = 0;
  private readonly growUpTo: number;

  /**
   * Writes into `start` (a buffer, or a new one of that many bytes), then into new buffers of twice the
   * size, but not past `growUpTo` unless one write needs more: a writer filled to a known size stops there.
   */
  constructor(start: number | Buffer = 64 * 1024, growUpTo = Number.POSITIVE_INFINITY) {
    this.buf = typeof start === 'number' ? Buffer.allocUnsafe(Math.max(start, 64)) : start;
    this.growUpTo = growUpTo;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.length;
  }

  text(value: string): this {
    const room = this.buf.length - this.length;
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit, so only a near-full buffer needs the exact size.
    if (room < value.length * 3) this.reserve(Buffer.byteLength(value));
    this.length += this.buf.write(value, this.length);
    return this;
  }

  /** A non-negative safe integer's digits in `radix` (2 to 36; letters in lower case), as Number#toString writes them. */
  integer(value: number, radix = 10): this {
    if (value <= MAX_INT32) return this.digits(value | 0, radix, 1);
    // Above int32, `%` on doubles is a runtime call in V8 (fmod), many times slower than on small integers:
    // peel off the low digits in chunks that fit an int32, whose division is exact in a double.
    const chunk = CHUNKS[radix]!;
    const high = Math.floor(value / chunk.size);
    return this.integer(high, radix).digits((value - high * chunk.size) | 0, radix, chunk.digits);
  }

  /** `value` (an int32) in `radix`, with leading zeros up to `width` digits. */
  private digits(value: number, radix: number, width: number): this {
    let count = 1;
    for (let rest = value; rest >= radix; rest = (rest / radix) | 0) count++;
    if (count < width) count = width;
    this.reserve(count);
    let rest = value;
    for (let at = this.length + count - 1; at >= this.length; at--) {
      const next = (rest / radix) | 0;
      this.buf[at] = DIGITS[rest - next * radix]!;
      rest = next;
    }
    this.length += count;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buf.set(value, this.length);
    this.length += value.length;
    return this;
  }

  byte(value: number): this {
    this.reserve(1);
    this.buf[this.length++] = value;
    return this;
  }

  /** The bytes written; a view, so the writer must not be used afterwards. */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.buf.length * 2, this.growUpTo)));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}
