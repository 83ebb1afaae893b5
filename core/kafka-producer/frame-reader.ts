import { KafkaProtocolError } from './errors.ts';

/** Reads a response body in Kafka's big-endian encoding; a read past the end is a protocol error. */
export class FrameReader {
  private readonly buf: Buffer;
  private at: number;

  constructor(buf: Buffer, offset = 0) {
    this.buf = buf;
    this.at = offset;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.take(8));
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  nullString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  string(): string {
    return this.nullString() ?? '';
  }

  nullBytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const at = this.take(length);
    return this.buf.subarray(at, at + length);
  }

  skip(length: number): this {
    this.take(length);
    return this;
  }

  array<T>(read: (reader: FrameReader) => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read(this));
    return items;
  }

  /** Where the next `length` bytes start, moving past them. */
  private take(length: number): number {
    if (this.at + length > this.buf.length) {
      throw new KafkaProtocolError(
        `a response ended early: ${length} bytes wanted at ${this.at} of ${this.buf.length}`,
      );
    }
    const at = this.at;
    this.at += length;
    return at;
  }
}
