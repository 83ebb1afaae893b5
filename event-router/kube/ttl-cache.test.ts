import { describe, expect, it } from 'vitest';
import { TtlLruCache } from './ttl-cache.ts';

describe('TtlLruCache', () => {
  it('forgets the least recently used entry beyond its size', () => {
    const cache = new TtlLruCache<number>(2);
    cache.set('a', 1, 1_000);
    cache.set('b', 2, 1_000);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3, 1_000);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });

  it('forgets an entry once its own time to live has passed', () => {
    let now = 0;
    const cache = new TtlLruCache<string>(10, { now: () => now });
    cache.set('short', 'x', 10);
    cache.set('long', 'y', 100);
    now = 10;
    expect([cache.get('short'), cache.get('long'), cache.size]).toEqual([undefined, 'y', 1]);
    cache.set('long', 'z', 5);
    now = 15;
    expect(cache.get('long')).toBeUndefined();
  });

  it('needs room for one entry at least', () => {
    expect(() => new TtlLruCache(0)).toThrow(/at least one entry/);
  });
});
