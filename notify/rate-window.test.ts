import { describe, expect, it } from 'vitest';
import { RateWindow } from './rate-window.ts';

function send(window: RateWindow, at: number, latency = 0): void {
  window.begin();
  window.end(at + latency);
}

describe('RateWindow', () => {
  it('allows the limit at once, then waits for the oldest send to leave the minute', () => {
    const window = new RateWindow(20);
    for (let i = 0; i < 20; i++) {
      expect(window.delay(1_000 + i)).toBe(0);
      send(window, 1_000 + i);
    }
    expect(window.available(1_020)).toBe(0);
    expect(window.delay(1_020)).toBe(60_000 - 20);
    expect(window.delay(61_000)).toBe(0);
    expect(window.available(61_000)).toBe(1);
  });

  it('counts a send in flight, and dates it by its completion', () => {
    const window = new RateWindow(1);
    window.begin();
    expect(window.delay(0)).toBe(60_000);
    window.end(5_000);
    expect(window.delay(5_000)).toBe(60_000);
    expect(window.delay(65_000)).toBe(0);
  });

  it('never lets any 60 s window see more than the limit, however sends are timed', () => {
    let state = 7;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const window = new RateWindow(20);
    const times: number[] = [];
    let now = 0;
    while (times.length < 500) {
      now += window.delay(now) + Math.floor(random() * 3_000);
      if (window.delay(now) > 0) continue;
      const latency = Math.floor(random() * 2_000);
      // The robot counts the send when it arrives, anywhere between start and completion.
      times.push(now + Math.floor(random() * latency));
      send(window, now, latency);
      now += latency;
    }
    for (const start of times) {
      expect(times.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(20);
    }
  });

  it('holds everything back while blocked', () => {
    const window = new RateWindow(20);
    window.block(600_000);
    expect(window.available(1_000)).toBe(0);
    expect(window.delay(1_000)).toBe(599_000);
    expect(window.delay(600_000)).toBe(0);
  });
});
