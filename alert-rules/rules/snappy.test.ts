import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snappyCompress } from './snappy.ts';

/** The format's decoder, written from its description, to check the encoder round trip. */
function snappyDecompress(input: Buffer): Buffer {
  let at = 0;
  let length = 0;
  for (let shift = 1; ; shift *= 128) {
    const byte = input[at++]!;
    length += (byte & 0x7f) * shift;
    if (byte < 0x80) break;
  }
  const out = Buffer.alloc(length);
  let written = 0;
  while (at < input.length) {
    const tag = input[at++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = input.readUIntLE(at, bytes);
        at += bytes;
      }
      input.copy(out, written, at, at + n + 1);
      at += n + 1;
      written += n + 1;
      continue;
    }
    let copyLength: number;
    let offset: number;
    if (kind === 1) {
      copyLength = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | input[at++]!;
    } else if (kind === 2) {
      copyLength = (tag >> 2) + 1;
      offset = input.readUInt16LE(at);
      at += 2;
    } else {
      copyLength = (tag >> 2) + 1;
      offset = input.readUInt32LE(at);
      at += 4;
    }
    if (offset === 0 || offset > written) throw new Error(`bad offset ${offset} at ${written}`);
    for (let i = 0; i < copyLength; i++) out[written + i] = out[written - offset + i]!;
    written += copyLength;
  }
  if (written !== length) throw new Error(`decoded ${written} bytes of ${length}`);
  return out;
}

describe('snappyCompress', () => {
  const roundTrip = (input: Buffer) => {
    const compressed = snappyCompress(input);
    expect(snappyDecompress(compressed).equals(input)).toBe(true);
    return compressed;
  };

  it('writes the known encoding of small inputs', () => {
    expect(snappyCompress(Buffer.alloc(0))).toEqual(Buffer.from([0]));
    expect(snappyCompress(Buffer.from('abc'))).toEqual(Buffer.from([3, 2 << 2, 0x61, 0x62, 0x63]));
    // "abcd" then a copy of 8 bytes at offset 4.
    expect(snappyCompress(Buffer.from('abcdabcdabcd'))).toEqual(
      Buffer.from([12, 3 << 2, 0x61, 0x62, 0x63, 0x64, 1 | (4 << 2), 4]),
    );
  });

  it('round-trips repetitive, random and long inputs, across 64 KiB blocks', () => {
    const labels = Buffer.from(
      '__name__\u0000job:http_requests:rate5m\u0000job\u0000api\u0000instance\u000010.0.0.1:9090\n'.repeat(
        5_000,
      ),
    );
    expect(roundTrip(labels).length).toBeLessThan(labels.length / 10);
    const random = randomBytes(200_000);
    expect(roundTrip(random).length).toBeLessThanOrEqual(32 + random.length + random.length / 6);
    roundTrip(Buffer.alloc(300_000, 7));
    roundTrip(
      Buffer.concat([
        randomBytes(3_000),
        Buffer.alloc(70),
        randomBytes(100),
        Buffer.alloc(67),
        randomBytes(5),
      ]),
    );
    // Short far matches between long literals: the case where the output can outgrow the input.
    const chunk = randomBytes(4);
    const parts = [chunk, randomBytes(3_000)];
    for (let i = 0; i < 500; i++) parts.push(chunk, randomBytes(61));
    roundTrip(Buffer.concat(parts));
  });

  it('compresses a view into a larger buffer by its own bytes only', () => {
    const backing = Buffer.from('xxxxhello hello hello helloyyyy');
    const view = backing.subarray(4, backing.length - 4);
    expect(snappyDecompress(snappyCompress(view)).toString()).toBe('hello hello hello hello');
  });
});
