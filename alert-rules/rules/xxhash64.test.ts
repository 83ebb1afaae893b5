import { describe, expect, it } from 'vitest';
import { xxhash64 } from './xxhash64.ts';

const hex = (text: string) => xxhash64(new TextEncoder().encode(text)).toString(16);

describe('xxhash64', () => {
  it('matches the reference values for short and long inputs', () => {
    expect(hex('')).toBe('ef46db3751d8e999');
    expect(hex('a')).toBe('d24ec4f1a98c6e5b');
    expect(hex('abc')).toBe('44bc2cf5ad770999');
    expect(hex('Nobody inspects the spammish repetition')).toBe('fbcea83c8a378bf1');
  });
});
