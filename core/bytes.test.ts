import { describe, expect, it } from 'vitest';
import { ByteWriter } from './bytes.ts';

describe('ByteWriter', () => {
  it('writes integers as Number#toString does, in base 10 and 36, growing as it goes', () => {
    // Around 2 ** 31, and past it with zeros inside the low chunk, are where the int32 chunks join.
    const values = [
      0,
      9,
      10,
      35,
      36,
      4096,
      2 ** 31 - 1,
      2 ** 31,
      1e9 + 7,
      36 ** 6 + 5,
      1_790_000_000_123,
      Number.MAX_SAFE_INTEGER,
    ];
    const out = new ByteWriter(4);
    for (const value of values)
      out.integer(value).byte(0x20).integer(value, 36).byte(0x20).integer(value, 2).byte(0x20);
    expect(out.finish().toString()).toBe(
      values.map((v) => `${v} ${v.toString(36)} ${v.toString(2)} `).join(''),
    );
  });

  it('mixes text, bytes and single bytes in order', () => {
    const out = new ByteWriter(64).text('é:').bytes(Buffer.from('ab')).byte(0x0a);
    expect(out.size).toBe(6);
    expect(out.finish().toString()).toBe('é:ab\n');
  });
});
