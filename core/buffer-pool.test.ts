import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.ts';

describe('buffer pool', () => {
  it('hands out its own buffers again once they are given back, keeping at most `keep`', () => {
    const pool = new BufferPool(1024, 1);
    const a = pool.take();
    const b = pool.take();
    expect(a.length).toBe(1024);
    expect(a.buffer).not.toBe(b.buffer);
    pool.give(a.subarray(0, 10));
    pool.give(b);
    expect(pool.take().buffer).toBe(a.buffer);
    expect(pool.take().buffer).not.toBe(b.buffer);
  });

  it('never takes back memory it did not make, even of its size', () => {
    const pool = new BufferPool(8192, 4);
    // Small buffers share Node's 8 KiB slab with others: reusing it would overwrite them.
    const shared = Buffer.allocUnsafe(10);
    pool.give(shared);
    pool.give(Buffer.allocUnsafeSlow(8192));
    const taken = pool.take();
    expect(taken.buffer).not.toBe(shared.buffer);
    expect(taken.length).toBe(8192);
  });

  it('frees its free buffers once none has been taken for a while, and not before', async () => {
    const pool = new BufferPool(1024, 2, 100);
    let taken = pool.take();
    for (let i = 0; i < 5; i++) {
      pool.give(taken);
      await delay(40);
      taken = pool.take();
    }
    pool.give(taken);
    expect(pool.held).toBe(1);
    await delay(150);
    expect(pool.held).toBe(0);
    expect((taken.buffer as ArrayBuffer).detached).toBe(true);
    pool.give(pool.take());
    expect(pool.held).toBe(1);
  });
});
