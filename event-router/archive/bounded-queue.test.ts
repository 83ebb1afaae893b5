import { describe, expect, it } from 'vitest';
import { BoundedQueue } from './bounded-queue.ts';

describe('BoundedQueue', () => {
  it('takes in order and drops the oldest when full', () => {
    const queue = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((n) => queue.push(n))).toEqual([false, false, false]);
    expect(queue.push(4)).toBe(true);
    expect(queue.peek()).toBe(2);
    expect(queue.take(2)).toEqual([2, 3]);
    expect(queue.take(5)).toEqual([4]);
    expect(queue.length).toBe(0);
    expect(queue.peek()).toBeUndefined();
  });

  it('stays in order across compactions', () => {
    const queue = new BoundedQueue<number>(5_000);
    for (let n = 0; n < 20_000; n++) queue.push(n);
    expect(queue.length).toBe(5_000);
    expect(queue.take(3)).toEqual([15_000, 15_001, 15_002]);
    for (let n = 20_000; n < 20_003; n++) queue.push(n);
    const rest = queue.take(10_000);
    expect(rest).toHaveLength(5_000);
    expect(rest[0]).toBe(15_003);
    expect(rest.at(-1)).toBe(20_002);
  });
});
