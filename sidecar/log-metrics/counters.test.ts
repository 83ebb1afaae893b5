import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../core/metrics.ts';
import { enrichSchema, nodeSourceFields } from '../enrich.ts';
import { compilePipeline, FilePipeline, pipelineSchema } from '../parse/pipeline.ts';
import type { LogEvent, SourceFields } from '../types.ts';
import { logMetricsSchema } from './config.ts';
import { LogMetrics } from './counters.ts';
import { LogMetricsExport } from './export.ts';

const pod = (name: string, container = 'app'): SourceFields => ({
  kubernetes: { namespace: 'shop', pod: { name }, container: { name: container } },
  host: { name: 'node-1' },
});

function event(level?: string, fields?: Record<string, unknown>, message = 'm'): LogEvent {
  return { message, offset: 0, end: 1, truncated: false, readAt: 0, receivedAt: 0, level, fields };
}

const access = (status: unknown, method = 'GET') => ({
  http: { request: { method }, response: { status_code: status } },
});

async function scrape(metrics: Metrics): Promise<string[]> {
  return (await metrics.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

function exported(config: unknown, now = () => 0) {
  const metrics = new Metrics({ defaults: false });
  const logMetrics = new LogMetrics(logMetricsSchema.parse(config), now);
  new LogMetricsExport(metrics).use(logMetrics);
  return { metrics, logMetrics };
}

describe('log metrics', () => {
  it('counts events per container and level, an event without a level under ""', async () => {
    const { metrics, logMetrics } = exported({});
    const a = logMetrics.forFile(pod('a'))!;
    const b = logMetrics.forFile(pod('b', 'proxy'))!;
    for (const level of ['info', 'info', 'error', undefined]) a.count(event(level));
    b.count(event('warn'));
    expect(await scrape(metrics)).toEqual([
      'lookout_sidecar_log_events_total{namespace="shop",pod="a",container="app",level="info"} 2',
      'lookout_sidecar_log_events_total{namespace="shop",pod="a",container="app",level="error"} 1',
      'lookout_sidecar_log_events_total{namespace="shop",pod="a",container="app",level=""} 1',
      'lookout_sidecar_log_events_total{namespace="shop",pod="b",container="proxy",level="warn"} 1',
      'lookout_sidecar_log_metric_overflow_total{metric="lookout_sidecar_log_events_total",reason="value"} 0',
      'lookout_sidecar_log_metric_overflow_total{metric="lookout_sidecar_log_events_total",reason="series"} 0',
    ]);
  });

  it('takes a node’s container log’s namespace, pod and container from its path', async () => {
    const { metrics, logMetrics } = exported({});
    const source = nodeSourceFields(
      enrichSchema.parse({}),
      `/var/log/containers/web-7d9f8_shop_nginx-${'a'.repeat(64)}.log`,
      {},
      {},
      'node-1',
    );
    logMetrics.forFile(source)!.count(event('warn'));
    expect(await scrape(metrics)).toContain(
      'lookout_sidecar_log_events_total{namespace="shop",pod="web-7d9f8",container="nginx",level="warn"} 1',
    );
  });

  it('counts nothing and costs a file nothing when levels are off and no counter is configured', async () => {
    const { metrics, logMetrics } = exported({ levels: false });
    expect(logMetrics.forFile(pod('a'))).toBeUndefined();
    expect(await scrape(metrics)).toEqual([]);
  });

  it('counts status classes and field values, with filters on parsed and source fields', async () => {
    const { metrics, logMetrics } = exported({
      levels: false,
      counters: [
        {
          name: 'http_requests_total',
          help: 'Requests in the access log',
          labels: {
            status_class: { field: 'http.response.status_code', map: 'class' },
            method: 'http.request.method',
          },
          filter: { field: 'http.response.status_code' },
        },
        {
          name: 'checkout_errors_total',
          filter: [
            { field: 'log.level', values: ['error', 'fatal'] },
            { field: 'kubernetes.pod.name', pattern: '^checkout-' },
          ],
        },
      ],
    });
    const web = logMetrics.forFile(pod('web-1'))!;
    const checkout = logMetrics.forFile(pod('checkout-1'))!;
    for (const status of [200, 201, '503', 502, 404, 999, 'x']) web.count(event(undefined, access(status)));
    web.count(event(undefined, access(500, 'POST')));
    web.count(event('error', { other: 1 }));
    checkout.count(event('error'));
    checkout.count(event('fatal'));
    checkout.count(event('info'));
    expect(await scrape(metrics)).toEqual([
      'lookout_sidecar_log_metric_overflow_total{metric="http_requests_total",reason="value"} 0',
      'lookout_sidecar_log_metric_overflow_total{metric="http_requests_total",reason="series"} 0',
      'lookout_sidecar_log_metric_overflow_total{metric="checkout_errors_total",reason="value"} 0',
      'lookout_sidecar_log_metric_overflow_total{metric="checkout_errors_total",reason="series"} 0',
      'http_requests_total{namespace="shop",pod="web-1",container="app",status_class="2xx",method="GET"} 2',
      'http_requests_total{namespace="shop",pod="web-1",container="app",status_class="5xx",method="GET"} 2',
      'http_requests_total{namespace="shop",pod="web-1",container="app",status_class="4xx",method="GET"} 1',
      'http_requests_total{namespace="shop",pod="web-1",container="app",status_class="",method="GET"} 2',
      'http_requests_total{namespace="shop",pod="web-1",container="app",status_class="5xx",method="POST"} 1',
      'checkout_errors_total{namespace="shop",pod="checkout-1",container="app"} 2',
    ]);
  });

  it('caps the values of a label and the series of a metric, counting the overflow', async () => {
    const { metrics, logMetrics } = exported({
      levels: false,
      maxLabelValues: 2,
      maxLabelValueLength: 10,
      maxSeries: 3,
      counters: [{ name: 'paths_total', labels: { path: 'url.path' } }],
    });
    const a = logMetrics.forFile(pod('a'))!;
    for (const path of ['/a', '/b', '/c', '/d', '/a', '/a-very-long-path'])
      a.count(event(undefined, { url: { path } }));
    // A second pod: its /a would be a fourth series.
    const b = logMetrics.forFile(pod('b'))!;
    b.count(event(undefined, { url: { path: '/a' } }));
    b.count(event(undefined, { url: { path: '/b' } }));
    expect(await scrape(metrics)).toEqual([
      'lookout_sidecar_log_metric_overflow_total{metric="paths_total",reason="value"} 3',
      'lookout_sidecar_log_metric_overflow_total{metric="paths_total",reason="series"} 2',
      'paths_total{namespace="shop",pod="a",container="app",path="/a"} 2',
      'paths_total{namespace="shop",pod="a",container="app",path="/b"} 1',
      'paths_total{namespace="shop",pod="a",container="app",path="other"} 3',
      'paths_total{namespace="other",pod="other",container="other",path="other"} 2',
    ]);
  });

  it('drops the series of a container whose files have all been closed for expireAfter', async () => {
    let now = 0;
    const { metrics, logMetrics } = exported({ expireAfter: '1m' }, () => now);
    const open = logMetrics.forFile(pod('open'))!;
    const gone = logMetrics.forFile(pod('gone'))!;
    open.count(event('info'));
    gone.count(event('info'));
    now = 50_000;
    open.alive(now);
    now = 90_000;
    const lines = await scrape(metrics);
    expect(lines.filter((line) => line.includes('pod="gone"'))).toEqual([]);
    expect(lines).toContain(
      'lookout_sidecar_log_events_total{namespace="shop",pod="open",container="app",level="info"} 1',
    );
    // A file of that container read again starts its series again.
    gone.count(event('info'));
    expect(await scrape(metrics)).toContain(
      'lookout_sidecar_log_events_total{namespace="shop",pod="gone",container="app",level="info"} 1',
    );
  });

  it('counts what the pipeline parsed: an nginx access log through the combined parser', async () => {
    const { metrics, logMetrics } = exported({
      counters: [
        {
          name: 'nginx_requests_total',
          labels: { code: { field: 'http.response.status_code', map: 'class' } },
        },
      ],
    });
    const compiled = compilePipeline(
      pipelineSchema.parse({ parser: { type: 'combined' } }),
      undefined,
      logMetrics,
    );
    const pipeline = new FilePipeline(compiled, {
      source: pod('web'),
      identity: { dev: 1, ino: 2, fingerprint: 'f', fingerprintLength: 1, generation: 0 },
      path: '/var/log/nginx/access.log',
    });
    let offset = 0;
    for (const status of [200, 500, 502]) {
      const text = `10.0.0.1 - - [15/Jun/2024:11:59:58 +0000] "GET / HTTP/1.1" ${status} 5 "-" "curl/8"`;
      pipeline.push({
        text,
        offset,
        end: offset + text.length + 1,
        truncated: false,
        readAt: 0,
        receivedAt: 0,
      });
      offset += text.length + 1;
    }
    const lines = await scrape(metrics);
    expect(lines).toContain('nginx_requests_total{namespace="shop",pod="web",container="app",code="5xx"} 2');
    expect(lines).toContain(
      'lookout_sidecar_log_events_total{namespace="shop",pod="web",container="app",level=""} 3',
    );
  });
});

describe('log metrics export', () => {
  it('follows a reload: counts start again, a removed counter goes, a changed one is made anew', async () => {
    const metrics = new Metrics({ defaults: false });
    const exporter = new LogMetricsExport(metrics);
    const config = (counters: unknown[]) =>
      new LogMetrics(logMetricsSchema.parse({ levels: false, counters }));
    const first = config([{ name: 'kept_total' }, { name: 'gone_total' }, { name: 'changed_total' }]);
    exporter.use(first);
    const file = first.forFile(pod('a'))!;
    file.count(event('info', { x: 'y' }));
    expect(await scrape(metrics)).toContain('gone_total{namespace="shop",pod="a",container="app"} 1');
    const second = config([{ name: 'kept_total' }, { name: 'changed_total', labels: { x: 'x' } }]);
    exporter.use(second);
    second.forFile(pod('a'))!.count(event('info', { x: 'y' }));
    const lines = await scrape(metrics);
    expect(lines.filter((line) => !line.startsWith('lookout_'))).toEqual([
      'kept_total{namespace="shop",pod="a",container="app"} 1',
      'changed_total{namespace="shop",pod="a",container="app",x="y"} 1',
    ]);
  });
});

describe('log metrics configuration', () => {
  const issues = (config: unknown) =>
    logMetricsSchema.safeParse(config).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

  it('refuses names that are not Prometheus counter names or are Lookout’s own, and bad labels', () => {
    expect(
      issues({
        counters: [
          { name: 'http-requests_total' },
          { name: 'requests' },
          { name: 'lookout_sidecar_read_lines_total' },
          { name: 'nodejs_x_total' },
          { name: 'a_total', labels: { pod: 'x', '1x': 'y', __x: 'z', ok: { field: 'a..b' } } },
          { name: 'a_total', filter: { field: 'x', pattern: '(' } },
        ],
      }),
    ).toEqual([
      'counters.0.name: expected a Prometheus counter name ([a-zA-Z_][a-zA-Z0-9_]*) ending in _total',
      'counters.1.name: expected a Prometheus counter name ([a-zA-Z_][a-zA-Z0-9_]*) ending in _total',
      "counters.2.name: names starting with lookout_, process_, nodejs_, probe_ are Lookout's own",
      "counters.3.name: names starting with lookout_, process_, nodejs_, probe_ are Lookout's own",
      'counters.4.labels.ok.field: expected a field name such as http.response.status_code',
      'counters.4.labels.pod: label "pod" is one of the labels every log metric has (namespace, pod, container)',
      'counters.4.labels.1x: label "1x" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)',
      'counters.4.labels.__x: label "__x" starts with __, which Prometheus reserves',
      expect.stringMatching(/^counters\.5\.filter\.pattern: /),
      'counters.5.name: a_total is defined twice',
    ]);
  });

  it('refuses a configured name another part of the process already exports', () => {
    const metrics = new Metrics({ defaults: false });
    new Counter({ name: 'taken_total', help: 'x', registers: [metrics.registry] });
    const taken = new LogMetrics(logMetricsSchema.parse({ counters: [{ name: 'taken_total' }] }));
    expect(() => new LogMetricsExport(metrics).use(taken)).toThrow(
      'sidecar.metrics.counters: taken_total is already a metric of this process; choose another name',
    );
  });
});
