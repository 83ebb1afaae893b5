import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { settings } from '../alert-rules/rules/fixtures/settings.ts';
import {
  PrometheusQueryClient,
  prometheusQuerySchema,
  QueryError,
} from '../alert-rules/rules/prometheus-client.ts';
import { infraAddress } from './infra/control.ts';

function client(url: string, more: Record<string, unknown> = {}): PrometheusQueryClient {
  return new PrometheusQueryClient(settings(prometheusQuerySchema, { url, ...more }));
}

// The shared Prometheus scrapes itself every second, so `up` has its own series.
describe('PrometheusQueryClient against Prometheus', () => {
  const prometheus = client(infraAddress('prometheus'));
  afterAll(() => prometheus.close());

  it('reads an instant vector', async () => {
    const samples = await prometheus.query('up{job="prometheus"}', Date.now());
    expect(samples).toEqual([
      { labels: expect.objectContaining({ __name__: 'up', job: 'prometheus' }), value: 1 },
    ]);
  });

  it('reads a scalar, and special values', async () => {
    expect(await prometheus.query('scalar(up{job="prometheus"}) * 2', Date.now())).toEqual([
      { labels: {}, value: 2 },
    ]);
    const special = await prometheus.query(
      'vector(1) / vector(0) or label_replace(vector(-1/0), "a", "b", "", "")',
      Date.now(),
    );
    expect(special.map((s) => s.value).sort()).toEqual([-Infinity, Infinity]);
    expect((await prometheus.query('vector(0) / vector(0)', Date.now()))[0]!.value).toBeNaN();
  });

  it("passes on Prometheus's error for bad PromQL and for a range vector", async () => {
    const parse = (await prometheus.query('sum(up', Date.now()).catch((e) => e)) as QueryError;
    expect(parse).toBeInstanceOf(QueryError);
    expect(parse.errorType).toBe('bad_data');
    expect(parse.message).toBe('1:7: parse error: unclosed left parenthesis');
    await expect(prometheus.query('up[1m]', Date.now())).rejects.toThrow(
      'rule result is not a vector or scalar',
    );
  });

  it('gives up on a server that hangs', async () => {
    const hanging = createServer(() => {
      // Accepts the request and never answers.
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    const stuck = client(`http://127.0.0.1:${port}`, { queryTimeout: '500ms' });
    try {
      await expect(stuck.query('up', Date.now())).rejects.toMatchObject({ errorType: 'timeout' });
    } finally {
      await stuck.close();
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});
