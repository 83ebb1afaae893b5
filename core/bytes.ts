/** Character codes of the digits of every radix up to 36. */
const DIGITS = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

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
    let digits = 1;
    for (let rest = value; rest >= radix; rest = Math.floor(rest / radix)) digits++;
    this.reserve(digits);
    let rest = value;
    for (let at = this.length + digits - 1; at >= this.length; at--) {
      const digit = rest % radix;
      this.buf[at] = DIGITS[digit]!;
      rest = (rest - digit) / radix;
    }
    this.length += digits;
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
