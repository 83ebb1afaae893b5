import { describe, expect, it } from 'vitest';
import { bulkChunks } from './bulk-chunks.ts';

describe('bulkChunks', () => {
  it('splits by count and by body size, and sends an oversized item alone', () => {
    const sizes = [100, 100, 100, 2_000, 100];
    const chunks = [...bulkChunks(sizes, (n) => n, { maxDocs: 2, maxBytes: 1_000 })];
    expect(chunks).toEqual([[100, 100], [100], [2_000], [100]]);
  });

  it('counts each item action line, so empty documents still fill a request, and yields nothing for no items', () => {
    const empties = [0, 0, 0, 0, 0];
    expect([...bulkChunks(empties, (n) => n, { maxDocs: 10, maxBytes: 250 })]).toEqual([[0, 0], [0, 0], [0]]);
    expect([...bulkChunks([], (n: number) => n, { maxDocs: 10, maxBytes: 250 })]).toEqual([]);
  });
});
