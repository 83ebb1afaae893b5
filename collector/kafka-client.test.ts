import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateGzip } from './kafka-client.ts';

describe('inflateGzip', () => {
  it('inflates batches small and large, text and random bytes', () => {
    for (const data of [
      Buffer.from('{"message":"one line"}'),
      Buffer.from('{"message":"some log line","level":"info"}\n'.repeat(100_000)),
      randomBytes(300_000),
      Buffer.alloc(0),
    ])
      expect(inflateGzip(gzipSync(data)).equals(data)).toBe(true);
  });

  it('takes several gzip members, whose trailer states the last one only', () => {
    const first = Buffer.from('a'.repeat(200_000));
    const second = Buffer.from('b');
    const inflated = inflateGzip(Buffer.concat([gzipSync(first), gzipSync(second)]));
    expect(inflated.equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('refuses a trailer that lies about the size or a stream cut short, without trusting the size', () => {
    const lying = gzipSync(Buffer.from('short'));
    lying.writeUInt32LE(0xffffffff, lying.length - 4);
    expect(() => inflateGzip(lying)).toThrow();
    expect(() => inflateGzip(gzipSync(Buffer.from('x'.repeat(1000))).subarray(0, 12))).toThrow();
  });
});
