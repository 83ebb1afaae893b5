import { getHeapSpaceStatistics } from 'node:v8';
import { expect, it } from 'vitest';
import { optimizeHeapForSize } from './v8-heap.ts';

const newSpaceMiB = () =>
  (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;

/** Objects that live a while, as records in flight do: what makes V8 grow its young generation. */
function allocate(): void {
  const kept: object[][] = [];
  for (let round = 0; round < 100; round++) {
    kept.push(Array.from({ length: 20_000 }, (_, i) => ({ text: `line ${i}`, offsets: [i, i + 1] })));
    if (kept.length > 3) kept.shift();
  }
}

it('keeps the young generation small once set, whatever was allocated before', () => {
  allocate();
  optimizeHeapForSize();
  allocate();
  // Unflagged, V8 can let it grow to 128 MiB on a machine with memory to spare; optimized for size it is a
  // few MiB, or up to some 20 MiB until its heuristics next shrink it.
  expect(newSpaceMiB()).toBeLessThanOrEqual(32);
});
