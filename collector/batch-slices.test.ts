import { describe, expect, it } from 'vitest';
import { batchSlices } from './batch-slices.ts';

const messages = (...sizes: (number | null)[]) =>
  sizes.map((size, offset) => ({ offset, value: size === null ? null : Buffer.alloc(size) }));
const offsets = (slices: Iterable<{ offset: number }[]>) => [...slices].map((s) => s.map((m) => m.offset));

describe('batchSlices', () => {
  it('cuts by record count', () => {
    expect(offsets(batchSlices(messages(1, 1, 1, 1, 1), { maxRecords: 2, maxBytes: 100 }))).toEqual([
      [0, 1],
      [2, 3],
      [4],
    ]);
  });

  it('cuts by value bytes, a slice never above the limit unless one record is', () => {
    expect(offsets(batchSlices(messages(40, 60, 1, 200, 50, 50), { maxRecords: 10, maxBytes: 100 }))).toEqual(
      [[0, 1], [2], [3], [4, 5]],
    );
  });

  it('counts a tombstone as no bytes and yields nothing for an empty batch', () => {
    expect(offsets(batchSlices(messages(null, 100, null), { maxRecords: 10, maxBytes: 100 }))).toEqual([
      [0, 1, 2],
    ]);
    expect(offsets(batchSlices([], { maxRecords: 10, maxBytes: 100 }))).toEqual([]);
  });
});
