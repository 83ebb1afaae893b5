import { describe, expect, it } from 'vitest';
import { parsePrometheusDuration } from './duration.ts';

describe('parsePrometheusDuration', () => {
  it.each([
    ['0', 0],
    ['0m', 0],
    ['15s', 15_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['2h0m5s10ms', 7_205_010],
  ])('reads %s', (text, ms) => {
    expect(parsePrometheusDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'empty duration string'],
    ['1.5h', 'unknown unit "." in duration "1.5h"'],
    ['5', 'not a valid duration string: "5"'],
    ['-5m', 'not a valid duration string: "-5m"'],
    [' 5m', 'not a valid duration string: " 5m"'],
    ['5M', 'unknown unit "M" in duration "5M"'],
    ['1m1h', 'units go from largest to smallest'],
    ['1m1m', 'units go from largest to smallest'],
    ['300y', 'duration out of range'],
  ])('refuses %j', (text, message) => {
    expect(() => parsePrometheusDuration(text)).toThrow(message);
  });
});
