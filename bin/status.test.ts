import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { COLLECTOR_METRICS } from '../collector/metrics.ts';
import { createHttpApp, type HttpApp } from '../core/http.ts';
import { httpSchema } from '../core/http-config.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import { MAX_SERIES_PER_METRIC, registerStatusApi, type StatusSources } from './status.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const ADMIN = 'admin-token-0123456789';
const SHOP = 'shop-viewer-token-0123456789';

let http: HttpApp | undefined;
afterEach(() => http?.close());

async function start(
  sources: (metrics: Metrics, http: HttpApp) => Omit<StatusSources, 'metrics' | 'readiness'>,
) {
  const config = httpSchema.parse({
    listen: '127.0.0.1:0',
    auth: {
      tokens: [
        { name: 'admin', token: ADMIN, role: 'admin' },
        { name: 'shop-dev', token: SHOP, role: 'viewer', namespaces: ['shop'] },
      ],
    },
  });
  const metrics = new Metrics({ defaults: false });
  http = createHttpApp({ config, log: silent, metrics });
  registerStatusApi(http.app, { ...sources(metrics, http), metrics, readiness: http.readiness });
  const base = await http.listen();
  return (query = '', token = ADMIN) =>
    fetch(`${base}/api/status${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

interface StatusBody {
  components: { metrics?: { series: unknown[]; more?: number }[] }[];
  robots: { robots: { refusals: unknown[] }[] } | null;
}

const refusal = {
  at: '2026-01-01T00:00:00.000Z',
  errcode: '310000',
  errmsg: 'keywords not in content',
  title: 'ProbeDown shop-home',
  messages: 1,
};

it("lists the running components' metrics and readiness, how to enable the others, and the robots", async () => {
  const status = await start((metrics, http) => {
    const lag = metrics.gauge(COLLECTOR_METRICS.kafkaLag);
    lag.set({ topic: 'logs', partition: '0' }, 42);
    http.readiness.add('kafka', () => true);
    return {
      components: [
        {
          name: 'collector',
          section: 'collector',
          running: true,
          doc: 'docs/collector.md',
          metrics: [COLLECTOR_METRICS.kafkaLag, COLLECTOR_METRICS.bytesInFlight],
        },
        { name: 'sidecar', section: 'sidecar', running: false, doc: 'docs/sidecar.md', metrics: [] },
      ],
      robots: () => ({
        sending: true,
        robots: [{ name: 'ops', type: 'dingtalk', queued: 2, oldestQueuedAt: null, refusals: [refusal] }],
      }),
    };
  });
  const answer = await status();
  expect(answer.status).toBe(200);
  expect(await answer.json()).toEqual({
    ready: true,
    checks: { kafka: true },
    components: [
      {
        name: 'collector',
        running: true,
        doc: 'docs/collector.md',
        // bytes in flight is left out: the collector has not created it yet.
        metrics: [
          {
            name: 'lookout_collector_kafka_lag',
            help: COLLECTOR_METRICS.kafkaLag.help,
            series: [{ labels: { topic: 'logs', partition: '0' }, value: 42 }],
          },
        ],
      },
      {
        name: 'sidecar',
        running: false,
        doc: 'docs/sidecar.md',
        enable: 'add a "sidecar" section to the configuration and start lookout all (see docs/sidecar.md)',
      },
    ],
    robots: {
      sending: true,
      robots: [{ name: 'ops', type: 'dingtalk', queued: 2, oldestQueuedAt: null, refusals: [refusal] }],
    },
  });
});

it('bounds the series of a gauge and says how many it left out', async () => {
  const status = await start((metrics) => {
    const lag = metrics.gauge(COLLECTOR_METRICS.kafkaLag);
    for (let i = 0; i < MAX_SERIES_PER_METRIC + 7; i++) lag.set({ topic: 'logs', partition: String(i) }, i);
    return {
      components: [
        {
          name: 'collector',
          section: 'collector',
          running: true,
          doc: '',
          metrics: [COLLECTOR_METRICS.kafkaLag],
        },
      ],
    };
  });
  const body = (await (await status()).json()) as StatusBody;
  expect(body.components[0]?.metrics?.[0]?.series).toHaveLength(MAX_SERIES_PER_METRIC);
  expect(body.components[0]?.metrics?.[0]?.more).toBe(7);
  expect(body.robots).toBeNull();
});

it("leaves refused messages' titles out for a token limited to namespaces, refuses parameters, and wants a token", async () => {
  const status = await start(() => ({
    components: [],
    robots: () => ({
      sending: true,
      robots: [{ name: 'ops', type: 'dingtalk', queued: 0, oldestQueuedAt: null, refusals: [refusal] }],
    }),
  }));
  const limited = (await (await status('', SHOP)).json()) as StatusBody;
  const { title: _, ...untitled } = refusal;
  expect(limited.robots?.robots[0]?.refusals).toEqual([untitled]);
  const withQuery = await status('?component=collector');
  expect(withQuery.status).toBe(400);
  expect(((await withQuery.json()) as { error: string }).error).toBe(
    'GET /api/status takes no parameters, got component',
  );
  expect((await status('', '')).status).toBe(401);
});
