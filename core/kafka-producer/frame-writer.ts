/**
 * Writes one Kafka request: its size, header and body in Kafka's big-endian
 * encoding. Large payloads (record batches) are attached by reference rather
 * than copied: the request goes out as a list of buffers in one corked write.
 */
export class FrameWriter {
  private buf: Buffer;
  private at = 0;
  /** Where the framing written since the last attached payload starts. */
  private pieceStart = 0;
  private readonly chunks: Buffer[] = [];

  /** Starts a request with the v1 header (the one of every non-flexible API version). */
  constructor(apiKey: number, apiVersion: number, clientId: string, capacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 64 + clientId.length * 3));
    this.int32(0); // size, set by finish()
    this.int16(apiKey);
    this.int16(apiVersion);
    this.int32(0); // correlation id, set by the connection when it sends the request
    this.string(clientId);
  }

  int8(value: number): this {
    this.at = this.room(1).writeInt8(value, this.at);
    return this;
  }

  int16(value: number): this {
    this.at = this.room(2).writeInt16BE(value, this.at);
    return this;
  }

  int32(value: number): this {
    this.at = this.room(4).writeInt32BE(value, this.at);
    return this;
  }

  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  string(value: string): this {
    const length = Buffer.byteLength(value);
    this.int16(length);
    this.at += this.room(length).write(value, this.at);
    return this;
  }

  nullString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  bytes(value: Uint8Array): this {
    this.int32(value.length);
    this.room(value.length).set(value, this.at);
    this.at += value.length;
    return this;
  }

  /** `length` bytes to be written at once in the returned buffer from `offset`, before any other write. */
  claim(length: number): { buffer: Buffer; offset: number } {
    const buffer = this.room(length);
    const offset = this.at;
    this.at += length;
    return { buffer, offset };
  }

  /** Sends `payload` here as it is: it must not change until the request is written. */
  attach(payload: Buffer): this {
    this.cut();
    if (payload.length > 0) this.chunks.push(payload);
    return this;
  }

  /** The request's buffers, its size prefix set; the writer is done. */
  finish(): Buffer[] {
    this.cut();
    const size = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0) - 4;
    this.chunks[0]!.writeInt32BE(size, 0);
    return this.chunks;
  }

  private cut(): void {
    if (this.at > this.pieceStart) this.chunks.push(this.buf.subarray(this.pieceStart, this.at));
    this.pieceStart = this.at;
  }

  private room(length: number): Buffer {
    if (this.at + length <= this.buf.length) return this.buf;
    // What was written stays valid where it is: the pieces already cut keep the old buffer.
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at - this.pieceStart + length + 64));
    this.buf.copy(grown, 0, this.pieceStart, this.at);
    this.at -= this.pieceStart;
    this.pieceStart = 0;
    this.buf = grown;
    return grown;
  }
}
