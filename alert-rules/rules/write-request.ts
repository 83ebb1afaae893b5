import { varintSize, writeVarint } from './varint.ts';

/**
 * Protobuf encoding of Prometheus's remote-write 1.0 `WriteRequest`:
 * timeseries = 1 { labels = 1 { name = 1, value = 2 }, samples = 2 { value = 1 (double), timestamp = 2 (int64 ms) } }.
 * Sizes are computed first, so the message is written into one buffer.
 */

export interface SeriesSamples {
  /** Sorted by name, empty values left out: what receivers expect. */
  labels: readonly (readonly [string, string])[];
  samples: readonly { value: number; timeMs: number }[];
}

const LENGTH_DELIMITED = 2;
const FIXED64 = 1;
const VARINT = 0;
const tag = (field: number, wireType: number) => (field << 3) | wireType;

export function encodeWriteRequest(series: readonly SeriesSamples[]): Buffer {
  const seriesSizes = series.map(seriesSize);
  const total = seriesSizes.reduce((sum, size) => sum + delimitedSize(size), 0);
  const out = new Writer(total);
  for (const [i, one] of series.entries()) {
    out.byte(tag(1, LENGTH_DELIMITED));
    out.varint(seriesSizes[i]!);
    for (const [name, value] of one.labels) {
      out.byte(tag(1, LENGTH_DELIMITED));
      out.varint(labelSize(name, value));
      out.string(1, name);
      out.string(2, value);
    }
    for (const sample of one.samples) {
      out.byte(tag(2, LENGTH_DELIMITED));
      out.varint(sampleSize(sample.timeMs));
      out.byte(tag(1, FIXED64));
      out.double(sample.value);
      out.byte(tag(2, VARINT));
      out.varint(sample.timeMs);
    }
  }
  return out.done();
}

function seriesSize(series: SeriesSamples): number {
  let size = 0;
  for (const [name, value] of series.labels) size += delimitedSize(labelSize(name, value));
  for (const sample of series.samples) size += delimitedSize(sampleSize(sample.timeMs));
  return size;
}

function labelSize(name: string, value: string): number {
  return delimitedSize(Buffer.byteLength(name)) + delimitedSize(Buffer.byteLength(value));
}

function sampleSize(timeMs: number): number {
  return 1 + 8 + 1 + varintSize(timeMs);
}

/** A tag byte, the length, and the content. */
function delimitedSize(contentSize: number): number {
  return 1 + varintSize(contentSize) + contentSize;
}

class Writer {
  private readonly buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  byte(value: number): void {
    this.buffer[this.at++] = value;
  }

  varint(value: number): void {
    this.at = writeVarint(this.buffer, this.at, value);
  }

  double(value: number): void {
    this.buffer.writeDoubleLE(value, this.at);
    this.at += 8;
  }

  string(field: number, value: string): void {
    this.byte(tag(field, LENGTH_DELIMITED));
    this.varint(Buffer.byteLength(value));
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  done(): Buffer {
    if (this.at !== this.buffer.length)
      throw new Error(`protobuf size mismatch: wrote ${this.at} of ${this.buffer.length}`);
    return this.buffer;
  }
}
