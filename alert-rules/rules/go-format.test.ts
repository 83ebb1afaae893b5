import { describe, expect, it } from 'vitest';
import { formatGoExponent, formatGoTime } from './go-format.ts';
import { queryEscape } from './template/builtins.ts';

describe('Go formats', () => {
  it('writes values as strconv.FormatFloat with the e format', () => {
    expect(formatGoExponent(1)).toBe('1e+00');
    expect(formatGoExponent(0)).toBe('0e+00');
    expect(formatGoExponent(-0)).toBe('-0e+00');
    expect(formatGoExponent(0.5)).toBe('5e-01');
    expect(formatGoExponent(123.456)).toBe('1.23456e+02');
    expect(formatGoExponent(1e-300)).toBe('1e-300');
    expect(formatGoExponent(-42)).toBe('-4.2e+01');
    expect(formatGoExponent(Number.NaN)).toBe('NaN');
    expect(formatGoExponent(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatGoExponent(Number.NEGATIVE_INFINITY)).toBe('-Inf');
  });

  it('writes times as Go JSON does', () => {
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 0))).toBe('2026-01-02T03:04:05Z');
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 120))).toBe('2026-01-02T03:04:05.12Z');
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 7))).toBe('2026-01-02T03:04:05.007Z');
    expect(formatGoTime(0)).toBe('0001-01-01T00:00:00Z');
  });

  it('escapes query components as url.QueryEscape', () => {
    expect(queryEscape('sum(rate(x{a="b c"}[5m])) > 0!')).toBe(
      'sum%28rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29%29+%3E+0%21',
    );
    expect(queryEscape("a-_.~*'")).toBe('a-_.~%2A%27');
  });
});
