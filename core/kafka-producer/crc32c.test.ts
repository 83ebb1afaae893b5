import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.ts';

const bytes = (length: number, at: (i: number) => number) =>
  Buffer.from(Array.from({ length }, (_, i) => at(i)));

describe('crc32c', () => {
  it.each([
    ['the check value of "123456789"', Buffer.from('123456789'), 0xe3069283],
    ['nothing', Buffer.alloc(0), 0],
    // RFC 3720, appendix B.4.
    ['32 bytes of zeros', bytes(32, () => 0), 0x8a9136aa],
    ['32 bytes of ones', bytes(32, () => 0xff), 0x62a8ab43],
    ['32 incrementing bytes', bytes(32, (i) => i), 0x46dd794e],
    ['32 decrementing bytes', bytes(32, (i) => 31 - i), 0x113fdb5c],
  ])('of %s is the known value', (_, input, expected) => {
    expect(crc32c(input)).toBe(expected);
  });

  it('agrees with a bytewise reference on every length and alignment, and continues over split input', () => {
    const data = bytes(300, (i) => (i * 167 + 13) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        const part = data.subarray(start, end);
        expect(crc32c(part)).toBe(bytewise(part));
        const middle = start + Math.floor((end - start) / 3);
        expect(crc32c(data.subarray(middle, end), crc32c(data.subarray(start, middle)))).toBe(bytewise(part));
      }
    }
  });
});

function bytewise(input: Uint8Array): number {
  let crc = ~0;
  for (const byte of input) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}
