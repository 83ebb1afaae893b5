import { compatibilityPartitioner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './murmur2.ts';

describe('murmur2', () => {
  // The values Kafka's own Utils test holds the Java implementation to.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('of "%s" is %i, as in Java', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('puts keys in the partitions a Java-compatible partitioner chooses', () => {
    // Another client's implementation, as a reference only here.
    const partitioner = compatibilityPartitioner as (message: unknown, key: Buffer) => number;
    let mismatches = 0;
    for (let n = 0; n < 5_000; n++) {
      const key = Buffer.from(`namespace-${n % 97}/pod-${n.toString(36)}${'x'.repeat(n % 11)}`);
      if (partitionForKey(key, 12) !== partitioner({ topic: 't', key }, key) % 12) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
