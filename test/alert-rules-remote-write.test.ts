import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../alert-rules/rules/fixtures/settings.ts';
import { PrometheusQueryClient, prometheusQuerySchema } from '../alert-rules/rules/prometheus-client.ts';
import { RemoteWriteClient, remoteWriteSchema } from '../alert-rules/rules/remote-write.ts';
import type { TimedSample } from '../alert-rules/types.ts';
import { type HttpServer, startPrometheus } from './infra/prometheus.ts';

// A Prometheus of this test's own: the shared one does not accept remote write.
describe('RemoteWriteClient into Prometheus', () => {
  let prometheus: HttpServer;
  let query: PrometheusQueryClient;
  let writer: RemoteWriteClient;
  const dropped: [number, string][] = [];

  beforeAll(async () => {
    prometheus = await startPrometheus({ remoteWriteReceiver: true });
    query = new PrometheusQueryClient(settings(prometheusQuerySchema, { url: prometheus.url }));
    writer = new RemoteWriteClient(
      settings(remoteWriteSchema, { url: prometheus.url, maxSamplesPerRequest: 2_000 }),
      { onDropped: (n, reason) => dropped.push([n, reason]) },
    );
  });
  afterAll(async () => {
    await writer?.close();
    await query?.close();
    await prometheus?.close();
  });

  it('writes samples that the query API then reads back', async () => {
    const now = Date.now();
    const labels = { __name__: 'lookout_rw_test', job: 'rules', city: 'Zürich' };
    await writer.write([
      { labels, value: 1.5, timeMs: now - 20_000 },
      { labels, value: -2, timeMs: now - 10_000 },
      { labels: { ...labels, job: 'other' }, value: Number.POSITIVE_INFINITY, timeMs: now - 10_000 },
    ]);
    expect(await query.query('lookout_rw_test{job="rules"}', now - 15_000)).toEqual([
      { labels: { __name__: 'lookout_rw_test', job: 'rules', city: 'Zürich' }, value: 1.5 },
    ]);
    expect(await query.query('lookout_rw_test', now - 5_000)).toEqual(
      expect.arrayContaining([
        { labels: expect.objectContaining({ job: 'rules' }), value: -2 },
        { labels: expect.objectContaining({ job: 'other' }), value: Infinity },
      ]),
    );
    expect(await query.query('count_over_time(lookout_rw_test{job="rules"}[1m])', now)).toEqual([
      { labels: { job: 'rules', city: 'Zürich' }, value: 2 },
    ]);
  });

  it('writes many series over several requests', async () => {
    const now = Date.now() - 1_000;
    const samples: TimedSample[] = [];
    for (let i = 0; i < 5_000; i++) {
      samples.push({
        labels: {
          __name__: 'lookout_rw_many',
          instance: `10.0.${i % 250}.${Math.floor(i / 250)}:9100`,
          job: 'node',
        },
        value: i,
        timeMs: now,
      });
    }
    await writer.write(samples);
    expect(await query.query('count(lookout_rw_many)', now)).toEqual([{ labels: {}, value: 5_000 }]);
    expect(await query.query('sum(lookout_rw_many)', now)).toEqual([
      { labels: {}, value: (4_999 * 5_000) / 2 },
    ]);
    expect(writer.writtenSamples).toBe(3 + 5_000);
  });

  it("counts what Prometheus refuses as dropped, with Prometheus's message", async () => {
    const now = Date.now();
    const labels = { __name__: 'lookout_rw_order', job: 'rules' };
    await writer.write([{ labels, value: 1, timeMs: now - 1_000 }]);
    await writer.write([{ labels, value: 2, timeMs: now - 60_000 }]);
    expect(dropped).toEqual([[1, expect.stringMatching(/^HTTP 400: .*out of order/)]]);
  });
});
