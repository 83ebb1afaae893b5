import { describe, expect, it } from 'vitest';
import { printPromQL } from './promql-print.ts';

/** Rule expressions and the query Prometheus 2.42's rules API showed for each. */
const PRINTED_BY_PROMETHEUS: [string, string][] = [
  ['up', 'up'],
  ['up == 0', 'up == 0'],
  [
    'sum(rate(http_requests_total{code=~"5.."}[5m])) BY (job) > 0.05 OR absent(up{job="api"}) AND ON() vector(1)',
    'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) > 0.05 or absent(up{job="api"}) and on () vector(1)',
  ],
  [
    '(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 10) * on(instance) group_left (nodename) node_uname_info{nodename=~".+"}',
    '(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 10) * on (instance) group_left (nodename) node_uname_info{nodename=~".+"}',
  ],
  [
    'worker_up{job="compare"} * on() group_left worker_up{job="compare"}',
    'worker_up{job="compare"} * on () group_left () worker_up{job="compare"}',
  ],
  ['x * ignoring(a) group_right(b, c) y', 'x * ignoring (a) group_right (b, c) y'],
  ['x * ignoring() group_left y', 'x * y'],
  ['x and on() y', 'x and on () y'],
  ['x > bool 1', 'x > bool 1'],
  ['sum without(instance) (x)', 'sum without (instance) (x)'],
  ['sum by () (x)', 'sum(x)'],
  ['sum without () (x)', 'sum without () (x)'],
  ['topk(5, x) by (job)', 'topk by (job) (5, x)'],
  ['count_values("value", x)', 'count_values("value", x)'],
  ['quantile(0.9, rate(x[90s]))', 'quantile(0.9, rate(x[1m30s]))'],
  ['-1', '-1'],
  ['+1', '1'],
  ['- x', '-x'],
  ['-(1)', '-(1)'],
  ['1e6', '1e+06'],
  ['100000', '100000'],
  ['0.000001', '1e-06'],
  ['0x1F', '31'],
  ['Inf', '+Inf'],
  ['-Inf', '-Inf'],
  ['NaN', 'NaN'],
  ['1.50', '1.5'],
  ['.5', '0.5'],
  ['x{b="2",a="1"}', 'x{a="1",b="2"}'],
  ['{__name__="x",a="1"}', '{__name__="x",a="1"}'],
  ['{job=\'single "quoted"\'}', '{job="single \\"quoted\\""}'],
  ['x{a=`raw\\n`}', 'x{a="raw\\\\n"}'],
  ['x{a="\\u00e9\\t"}', 'x{a="é\\t"}'],
  ['x offset 5m', 'x offset 5m'],
  ['x offset -1h30m', 'x offset -1h30m'],
  ['x @ 100', 'x @ 100.000'],
  ['x offset 5m @ 100', 'x @ 100.000 offset 5m'],
  ['x @ start()', 'x @ start()'],
  ['x[5m] offset 90s', 'x[5m] offset 1m30s'],
  ['rate(x[7d])', 'rate(x[1w])'],
  ['rate(x[14d])', 'rate(x[2w])'],
  ['rate(x[365d])', 'rate(x[1y])'],
  ['max_over_time(x[10m:1m])', 'max_over_time(x[10m:1m])'],
  ['max_over_time(x[10m:])', 'max_over_time(x[10m:])'],
  ['max_over_time((x > 1)[10m:30s] offset 1m)', 'max_over_time((x > 1)[10m:30s] offset 1m)'],
  ['label_replace(up, "a", "$1", "b", "(.*)")', 'label_replace(up, "a", "$1", "b", "(.*)")'],
  ['x ^ y ^ z', 'x ^ y ^ z'],
  ['x atan2 y', 'x atan2 y'],
  ['x unless y', 'x unless y'],
  ['time() - x', 'time() - x'],
  ['scalar(x) + 1', 'scalar(x) + 1'],
  ['x != 1 and x < 2', 'x != 1 and x < 2'],
  ['{__name__="x"}', '{__name__="x"}'],
];

describe('printPromQL', () => {
  it.each(PRINTED_BY_PROMETHEUS)('prints %s as Prometheus does', (written, printed) => {
    expect(printPromQL(written)).toBe(printed);
  });

  it('keeps as written what does not parse, and syntax newer than Prometheus 2.42', () => {
    for (const expr of ['sum(', 'x{"utf8.name"="a"}', 'x[5m * 2]', 'x + fill(0) y', 'rate(x[300])'])
      expect(printPromQL(expr)).toBe(expr);
  });
});
