import { describe, expect, it } from 'vitest';
import { IdFilter } from './id-filter.ts';

describe('IdFilter', () => {
  it('always finds what was added, and rarely claims what was not', () => {
    const filter = new IdFilter(10_000);
    for (let i = 0; i < 10_000; i++) expect(filter.add(`id-${i}`)).toBe(true);
    for (let i = 0; i < 10_000; i++) expect(filter.mayHave(`id-${i}`)).toBe(true);
    let wrong = 0;
    for (let i = 0; i < 10_000; i++) if (filter.mayHave(`other-${i}`)) wrong++;
    expect(wrong).toBeLessThan(200);
  });

  it('says when it holds more than it was made for', () => {
    const filter = new IdFilter(2);
    expect(filter.add('a')).toBe(true);
    expect(filter.add('b')).toBe(true);
    expect(filter.add('c')).toBe(false);
  });
});
