import { describe, expect, it } from 'vitest';
import { READ_TIME_STEP_MS, ReadTimes } from './read-times.ts';

const T = Date.parse('2026-12-02T23:59:59Z');

describe('read times', () => {
  it('asks for a new read time at first, after a step, and after being closed', () => {
    const times = new ReadTimes();
    expect(times.open).toBe(false);
    expect(times.wantsNew(T)).toBe(true);
    times.start(0, T);
    expect(times.wantsNew(T + READ_TIME_STEP_MS - 1)).toBe(false);
    expect(times.wantsNew(T + READ_TIME_STEP_MS)).toBe(true);
    times.close(100, T + 10, false);
    expect(times.open).toBe(true);
    times.close(100, T + READ_TIME_STEP_MS, false);
    expect(times.open).toBe(false);
    expect(times.saved(100)).toEqual({ readTimes: [{ from: 0, at: T + READ_TIME_STEP_MS }], readUntil: 100 });
  });

  it('times a line by its offset, and keeps only what a checkpoint still needs', () => {
    const times = new ReadTimes();
    times.start(0, T);
    times.start(50, T + 2_000);
    times.start(90, T + 4_000);
    expect([0, 49, 50, 89, 90, 500].map((o) => times.at(o) - T - READ_TIME_STEP_MS)).toEqual([
      0, 0, 2_000, 2_000, 4_000, 4_000,
    ]);
    expect(times.saved(60).readTimes).toEqual([
      { from: 50, at: T + 2_000 + READ_TIME_STEP_MS },
      { from: 90, at: T + 4_000 + READ_TIME_STEP_MS },
    ]);
  });

  it('after a crash, keeps the saved read time for everything the file held, and starts new ones past it', () => {
    // Saved at offset 10 with the read time started at 10; the file had grown to 300 when opened again.
    const times = new ReadTimes({ readTimes: [{ from: 10, at: T }] }, 300);
    expect(times.open).toBe(true);
    times.start(10, T + 60_000);
    expect(times.at(299)).toBe(T);
    expect(times.at(300)).toBe(T + 60_000 + READ_TIME_STEP_MS);
  });

  it('never stamps a line before it was read: a step shares the time it ends at', () => {
    const times = new ReadTimes();
    times.start(0, T);
    // Read in a later pass of the same step, half a step after the step began.
    expect(times.at(500)).toBeGreaterThanOrEqual(T + READ_TIME_STEP_MS / 2);
  });

  it('after a clean stop, starts the next read time where reading ended', () => {
    const times = new ReadTimes({ readTimes: [{ from: 10, at: T }], readUntil: 120 }, 300);
    expect(times.open).toBe(false);
    times.start(10, T + 60_000);
    expect(times.at(119)).toBe(T);
    expect(times.at(120)).toBe(T + 60_000 + READ_TIME_STEP_MS);
  });
});
