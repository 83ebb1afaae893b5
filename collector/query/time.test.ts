import { describe, expect, it } from 'vitest';
import { parseInterval, parseTime } from './time.ts';

describe('parseTime', () => {
  const now = Date.UTC(2026, 10, 23, 3, 12);
  it('reads relative, ISO and epoch times', () => {
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('now-15m', now)).toBe(now - 15 * 60_000);
    expect(parseTime('now-7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseTime('2026-11-23T03:00:00Z', now)).toBe(Date.UTC(2026, 10, 23, 3));
    expect(parseTime('1795403520000', now)).toBe(1795403520000);
    expect(() => parseTime('yesterday', now)).toThrow(/not a time/);
    expect(() => parseTime('June 5', now)).toThrow(/not a time/);
    expect(() => parseTime('2026-02-30', now)).toThrow(/not a date on the calendar/);
    expect(() => parseTime('2026-13-01T00:00:00Z', now)).toThrow(/not a date on the calendar/);
    expect(parseTime('2028-02-29', now)).toBe(Date.UTC(2028, 1, 29));
    expect(() => parseTime('now-99999999999w', now)).toThrow(/outside the years 1970 to 9999/);
    expect(() => parseTime('9999999999999999', now)).toThrow(/outside the years/);
  });

  it('reads intervals', () => {
    expect(parseInterval('30s')).toBe(30_000);
    expect(parseInterval('1h')).toBe(3_600_000);
    expect(() => parseInterval('0m')).toThrow();
    expect(() => parseInterval('5 minutes')).toThrow();
    expect(parseInterval('366d')).toBe(366 * 86_400_000);
    expect(() => parseInterval('99999999999999999999w')).toThrow(/widest interval/);
  });
});
