import { describe, expect, it } from 'vitest';
import { evalTimestamp } from './eval-timestamp.ts';

describe('evalTimestamp', () => {
  // Slots read from a Prometheus 2.42 evaluating these two groups of one file.
  const FILE = '/srv/lookout-check/rules.yml';

  it("puts each group at Prometheus's offset within its interval", () => {
    expect(
      new Date(evalTimestamp(FILE, 'fast', 10_000, Date.parse('2026-12-02T23:58:30Z'))).toISOString(),
    ).toBe('2026-12-02T23:58:25.240Z');
    expect(
      new Date(evalTimestamp(FILE, 'slow', 30_000, Date.parse('2026-12-02T23:58:50Z'))).toISOString(),
    ).toBe('2026-12-02T23:58:28.226Z');
  });

  it('returns the slot at or before the given time', () => {
    const slot = evalTimestamp(FILE, 'fast', 10_000, Date.parse('2026-12-02T23:58:30Z'));
    expect(evalTimestamp(FILE, 'fast', 10_000, slot + 9_999)).toBe(slot);
    expect(evalTimestamp(FILE, 'fast', 10_000, slot + 10_001)).toBe(slot + 10_000);
  });
});
