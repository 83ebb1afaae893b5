import { describe, expect, it } from 'vitest';
import { promqlError } from './promql-check.ts';

describe('promqlError', () => {
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
    'quantile_over_time(0.5, x[5m]) / predict_linear(x[1h], 3600)',
    'max_over_time(rate(x[5m])[1h:5m])',
    'rate((x offset 5m)[5m:])',
    'absent_over_time(up{job="a"}[5m]) or avg_over_time((x[5m] offset 1m))',
    'label_replace(up, "a", "$1", "b", "(.*)")',
  ])('accepts %s', (expr) => {
    expect(promqlError(expr)).toBeUndefined();
  });

  it.each([
    ['rate(foo[5m', 'syntax error at 1:12: unexpected end of expression'],
    ['foo bar', 'syntax error at 1:5: unexpected "bar"'],
    ['nosuchfunc(x)', 'syntax error at 1:1: unknown function "nosuchfunc"'],
    ['up + \n  rat (x[5m])', 'syntax error at 2:3: unknown function "rat"'],
    ['sum(x) BY(a) WITHOUT(b)', 'syntax error at 1:14: unexpected "WITHOUT(b)"'],
    ['sum(\n  rate(x[5m]) +\n)', 'syntax error at 3:1: unexpected ")"'],
    ['rate(x)', 'type error at 1:6: rate() needs a range vector (like x[5m]) as argument 1'],
    [
      'quantile_over_time(x[5m], 0.5)',
      'type error at 1:20: quantile_over_time() cannot take a range vector as argument 1',
    ],
    ['abs((x[5m]))', 'type error at 1:5: abs() cannot take a range vector as argument 1'],
    [
      'sum(x[5m] offset 1m)',
      'type error at 1:5: an aggregation cannot take a range vector; wrap it in a function such as rate()',
    ],
    [
      'x[5m] + 1',
      'type error at 1:1: an operator cannot take a range vector; wrap it in a function such as rate()',
    ],
    [
      '1 + x[5m]',
      'type error at 1:6: a range like [5m] applies to a series selector only; an expression needs a subquery like [5m:]',
    ],
    ['x offset 5m (y)', 'syntax error at 1:13: unexpected "(y)"'],
  ])('refuses %j', (expr, message) => {
    expect(promqlError(expr)).toBe(message);
  });
});
