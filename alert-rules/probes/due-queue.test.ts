import { describe, expect, it } from 'vitest';
import { DueQueue } from './due-queue.ts';

describe('DueQueue', () => {
  it('gives items back earliest first, whatever the order they came in', () => {
    const queue = new DueQueue<string>();
    const times = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    for (const at of times) queue.push(at, `item ${at}`);
    expect(queue.size).toBe(1000);
    expect(queue.peekTime()).toBe(0);
    const out: number[] = [];
    for (let next = queue.pop(); next; next = queue.pop()) out.push(next.atMs);
    expect(out).toEqual([...times].sort((a, b) => a - b));
    expect(queue.peekTime()).toBeUndefined();
  });
});
