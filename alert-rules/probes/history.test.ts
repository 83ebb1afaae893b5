import { describe, expect, it } from 'vitest';
import { ProbeHistory } from './history.ts';
import type { ProbeResult } from './types.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);

const result = (startedAtMs: number, success: boolean): ProbeResult => ({
  success,
  startedAtMs,
  durationMs: 250,
  samples: [],
  ...(success ? {} : { failure: 'status 503' }),
});

describe('ProbeHistory', () => {
  it('keeps the newest results up to the bound, newest first', () => {
    const history = new ProbeHistory(3);
    for (let i = 0; i < 5; i++) history.record('shop', result(T0 + i * 60_000, i !== 4));
    const { results } = history.json('shop', T0 + 5 * 60_000);
    expect(results).toEqual([
      { startedAt: '2026-01-01T00:04:00.000Z', durationSeconds: 0.25, success: false, failure: 'status 503' },
      { startedAt: '2026-01-01T00:03:00.000Z', durationSeconds: 0.25, success: true },
      { startedAt: '2026-01-01T00:02:00.000Z', durationSeconds: 0.25, success: true },
    ]);
  });

  it('answers uptime over 24 h, 7 d and 30 d from hourly and daily counts', () => {
    const history = new ProbeHistory(10);
    // One probe an hour for 40 days; down for the whole 10th day and for 6 hours yesterday.
    const end = T0 + 40 * DAY;
    for (let at = T0; at < end; at += HOUR) {
      const day = Math.floor((at - T0) / DAY);
      const hour = Math.floor((at - T0) / HOUR) % 24;
      history.record(
        'shop',
        result(at, !(day === 10 || (day === 38 && hour < 6) || (day === 39 && hour >= 18))),
      );
    }
    const { uptime } = history.json('shop', end);
    // The last 24 h: 6 of them down (the hour now beginning has no probe yet).
    expect(uptime['24h']).toEqual({ ratio: 18 / 24, probes: 24, successes: 18 });
    // Days 33 to 39: 12 hours down.
    expect(uptime['7d']).toEqual({ ratio: (7 * 24 - 12) / (7 * 24), probes: 7 * 24, successes: 7 * 24 - 12 });
    // Days 10 to 39: day 10 and 12 hours more down.
    expect(uptime['30d']).toEqual({
      ratio: (30 * 24 - 36) / (30 * 24),
      probes: 30 * 24,
      successes: 30 * 24 - 36,
    });
    // Half a day later, the 7 days touch day 33 still (whole days), the 24 hours only the second half of day 39.
    const later = history.json('shop', end + 12 * HOUR).uptime;
    expect(later['24h']).toEqual({ ratio: 6 / 12, probes: 12, successes: 6 });
    expect(later['7d'].probes).toBe(7 * 24);
  });

  it('answers no ratio without probes in the window, and forgets what lies beyond its buckets', () => {
    const history = new ProbeHistory(10);
    history.record('shop', result(T0, true));
    expect(history.json('shop', T0 + 2 * DAY).uptime['24h']).toEqual({
      ratio: null,
      probes: 0,
      successes: 0,
    });
    expect(history.json('shop', T0 + 2 * DAY).uptime['7d']).toEqual({ ratio: 1, probes: 1, successes: 1 });
    history.record('shop', result(T0 + 60 * DAY, false));
    expect(history.json('shop', T0 + 60 * DAY).uptime['30d']).toEqual({ ratio: 0, probes: 1, successes: 0 });
    expect(history.json('unknown', T0).results).toEqual([]);
  });

  it('restores what it saved, for the targets kept', () => {
    const history = new ProbeHistory(5);
    for (let i = 0; i < 8; i++) history.record('shop', result(T0 + i * HOUR, i % 2 === 0));
    history.record('gone', result(T0, true));
    const restored = new ProbeHistory(5);
    restored.restore(JSON.parse(JSON.stringify([...history.snapshot()])), (id) => id !== 'gone');
    expect(restored.json('shop', T0 + 8 * HOUR)).toEqual(history.json('shop', T0 + 8 * HOUR));
    expect(restored.json('gone', T0).uptime['24h'].probes).toBe(0);
    const countsOnly = new ProbeHistory(5);
    countsOnly.restore([...history.snapshot(false)], () => true);
    expect(countsOnly.json('shop', T0 + 8 * HOUR).results).toEqual([]);
    expect(countsOnly.json('shop', T0 + 8 * HOUR).uptime).toEqual(history.json('shop', T0 + 8 * HOUR).uptime);
  });

  it('keeps 10,000 targets with 30 days of counts small on disk', () => {
    const history = new ProbeHistory(50);
    for (let t = 0; t < 10_000; t++)
      for (let day = 0; day < 30; day++) history.record(`target-${t}`, result(T0 + day * DAY, true));
    const bytes = JSON.stringify([...history.snapshot(false)]).length;
    expect(bytes).toBeLessThan(10_000 * 400);
  });
});
