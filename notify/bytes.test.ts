import { describe, expect, it } from 'vitest';
import { byteLength, type Encoding, prefixWithin, split, truncate } from './bytes.ts';

const utf8 = (text: string) => Buffer.byteLength(text);
/** Survives a UTF-8 round trip unchanged: no character was cut in half. */
const wholeCharacters = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;
const cutOf = (text: string) => Number(/truncated, (\d+) more bytes/.exec(text)?.[1]);

function randomText(seed: number, length: number): string {
  const alphabet = [
    'a',
    ' ',
    '"',
    '\\',
    '\n',
    '\t',
    '\u0001',
    '\u007f',
    'é',
    '中',
    '文',
    '😀',
    '👍🏽',
    '\ud800',
    '\u2028',
  ];
  let state = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

describe('byte limits', () => {
  it.each<Encoding>(['utf8', 'json'])('finds the longest prefix within a budget (%s)', (encoding) => {
    for (let seed = 1; seed <= 20; seed++) {
      const text = randomText(seed, 60);
      const total = byteLength(text, encoding);
      expect(prefixWithin(text, total, encoding)).toBe(text);
      for (let budget = 0; budget <= total; budget += 7) {
        const prefix = prefixWithin(text, budget, encoding);
        expect(text.startsWith(prefix)).toBe(true);
        expect(byteLength(prefix, encoding)).toBeLessThanOrEqual(budget);
        // One more character would not have fitted.
        const next = [...text.slice(prefix.length)][0];
        if (next) expect(byteLength(prefix + next, encoding)).toBeGreaterThan(budget);
      }
    }
  });

  it('counts JSON escapes the way JSON.stringify writes them', () => {
    expect(byteLength('a"b', 'json')).toBe(4);
    expect(byteLength('\n', 'json')).toBe(2);
    expect(byteLength('\u0001', 'json')).toBe(6);
    expect(byteLength('中', 'json')).toBe(3);
    expect(byteLength('😀', 'json')).toBe(4);
  });

  it('leaves a text that fits exactly alone, and cuts one byte more', () => {
    const text = '中'.repeat(20);
    expect(truncate(text, 60, 'utf8')).toBe(text);
    const cut = truncate(`${text}a`, 60, 'utf8');
    expect(utf8(cut)).toBeLessThanOrEqual(60);
    expect(cut).toMatch(/^中+… \(truncated, \d+ more bytes\)$/);
  });

  it.each([
    ['Chinese', '告警'.repeat(500)],
    ['emoji', '😀👍🏽'.repeat(300)],
    ['mixed', `${'a'.repeat(7)}中😀é`.repeat(200)],
  ])('truncates %s on a character boundary, to the byte, and says how much is missing', (_name, text) => {
    for (const limit of [100, 101, 102, 103, 1000, 2048]) {
      const cut = truncate(text, limit, 'utf8');
      expect(wholeCharacters(cut)).toBe(true);
      expect(utf8(cut)).toBeLessThanOrEqual(limit);
      // Nothing usable is wasted: at most one character and one digit of the marker.
      expect(utf8(cut)).toBeGreaterThan(limit - 6);
      const kept = cut.slice(0, cut.indexOf('… (truncated'));
      expect(text.startsWith(kept)).toBe(true);
      expect(cutOf(cut)).toBe(utf8(text) - utf8(kept));
    }
  });

  it('truncates for a JSON body counting escapes', () => {
    const text = '"quoted"\n'.repeat(100);
    const cut = truncate(text, 200, 'json');
    expect(Buffer.byteLength(JSON.stringify(cut)) - 2).toBeLessThanOrEqual(200);
    expect(Buffer.byteLength(JSON.stringify(cut)) - 2).toBeGreaterThan(190);
  });

  it('cuts without a marker when the limit is smaller than the marker', () => {
    expect(truncate('中文中文中文', 7, 'utf8')).toBe('中文');
  });

  it('splits into pieces that each fit and join back to the text, preferring line ends', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `第 ${i} 行: "value" 😀`);
    const text = lines.join('\n');
    const parts = split(text, 200, 'utf8', 20);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(utf8(part)).toBeLessThanOrEqual(200);
      expect(wholeCharacters(part)).toBe(true);
    }
    expect(parts.slice(0, -1).every((part) => part.endsWith('\n'))).toBe(true);
  });

  it('truncates the last piece when there would be more than maxParts', () => {
    const parts = split('中'.repeat(1000), 300, 'utf8', 3);
    expect(parts).toHaveLength(3);
    expect(parts[2]).toMatch(/truncated, \d+ more bytes/);
    expect(utf8(parts[2]!)).toBeLessThanOrEqual(300);
  });
});
