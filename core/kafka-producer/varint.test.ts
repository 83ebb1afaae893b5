import { describe, expect, it } from 'vitest';
import { readVarint } from './fixtures/record-batch-decoder.ts';
import { varintSize, writeVarint, zigzag } from './varint.ts';

describe('varints', () => {
  it.each([
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [-64, [0x7f]],
    [64, [0x80, 0x01]],
    [300, [0xd8, 0x04]],
    [2 ** 31 - 1, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-(2 ** 31), [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('writes %i as Kafka does', (value, bytes) => {
    const buf = Buffer.alloc(8);
    const end = writeVarint(buf, 1, value);
    expect([...buf.subarray(1, end)]).toEqual(bytes);
    expect(varintSize(zigzag(value))).toBe(bytes.length);
    expect(readVarint(buf, 1)).toEqual({ value, next: end });
  });

  it('sizes every boundary of a byte more', () => {
    for (const bits of [7, 14, 21, 28]) {
      const top = 2 ** bits - 1;
      expect(varintSize(top)).toBe(bits / 7);
      expect(varintSize(top + 1)).toBe(bits / 7 + 1);
    }
  });
});
