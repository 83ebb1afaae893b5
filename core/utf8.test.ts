import { describe, expect, it } from 'vitest';
import { utf8Boundary, utf8Prefix } from './utf8.ts';

describe('utf8', () => {
  it('cuts before a character that does not fit whole', () => {
    expect(utf8Prefix('ab€', 4)).toBe('ab');
    expect(utf8Prefix('ab€', 5)).toBe('ab€');
    expect(utf8Prefix('😀x', 3)).toBe('');
    expect(utf8Prefix('anything', 0)).toBe('');
    const bytes = Buffer.from('a界b');
    expect(utf8Boundary(bytes, 2)).toBe(1);
    expect(utf8Boundary(bytes, 4)).toBe(4);
    expect(utf8Boundary(bytes, 99)).toBe(5);
  });
});
