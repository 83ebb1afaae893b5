import { describe, expect, it } from 'vitest';
import { backoffDelay, RetryStreak } from './backoff.ts';

const backoff = { initialMs: 100, maxMs: 1_000 };

describe('RetryStreak', () => {
  it('doubles the delay per failure up to the maximum, and tells how long the streak lasted', () => {
    const clock = { time: 5_000, now: () => clock.time };
    const retry = new RetryStreak({ backoff, random: () => 1, clock });
    expect(retry.failingSince).toBeUndefined();
    expect([retry.fail(), retry.fail(), retry.fail(), retry.fail(), retry.fail()]).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(retry.failures).toBe(5);
    expect(retry.failingSince).toBe(5_000);
    clock.time = 8_000;
    expect(retry.succeed()).toBe(3_000);
    expect(retry.succeed()).toBeUndefined();
    expect([retry.failures, retry.failingSince]).toEqual([0, undefined]);
    expect(retry.fail()).toBe(100);
  });

  it('jitters half of each delay', () => {
    const retry = new RetryStreak({ backoff, random: () => 0 });
    expect([retry.fail(), retry.fail()]).toEqual([50, 100]);
    expect(backoffDelay(1, backoff, () => 0.5)).toBe(150);
  });

  it('can retry at once first, for work whose single end is normal', () => {
    const retry = new RetryStreak({ backoff, random: () => 1, firstRetryAtOnce: true });
    expect([retry.fail(), retry.fail(), retry.fail()]).toEqual([0, 100, 200]);
  });

  it('takes new backoff settings without ending the streak', () => {
    const retry = new RetryStreak({ backoff, random: () => 1 });
    retry.fail();
    retry.configure({ initialMs: 10, maxMs: 15 });
    expect([retry.failures, retry.fail()]).toEqual([1, 15]);
  });
});
