import { describe, expect, it } from 'vitest';
import { promqlSyntaxError } from './promql-syntax.ts';

describe('promqlSyntaxError', () => {
  it.each([
    'up == 0',
    'sum(rate(http_requests_total{code=~"5.."}[5m])) BY (job) / sum by (job) (rate(x[5m])) > 0.05',
    'up == 0 OR absent(up)',
    'a AND ON(instance) b UNLESS c',
    'x * ON(a) GROUP_LEFT(b) y',
    'vector(1) Offset 5m',
    'max_over_time(x[1h30m:1m]) @ end()',
    'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))',
    'count_values("v", x) > bool 1',
  ])('accepts %s', (expr) => {
    expect(promqlSyntaxError(expr)).toBeUndefined();
  });

  it.each([
    ['rate(foo[5m', 'syntax error at 1:12: unexpected end of expression'],
    ['foo bar', 'syntax error at 1:5: unexpected "bar"'],
    ['nosuchfunc(x)', 'syntax error at 1:1: unknown function "nosuchfunc"'],
    ['up + \n  rat (x[5m])', 'syntax error at 2:3: unknown function "rat"'],
    ['sum(x) BY(a) WITHOUT(b)', 'syntax error at 1:14: unexpected "WITHOUT(b)"'],
    ['sum(\n  rate(x[5m]) +\n)', 'syntax error at 3:1: unexpected ")"'],
    ['x offset 5m (y)', 'syntax error at 1:13: unexpected "(y)"'],
  ])('refuses %j', (expr, message) => {
    expect(promqlSyntaxError(expr)).toBe(message);
  });
});
