import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer, statusAnswer } from '../../core/kube/fixtures/fake-api-server.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { ObservedEvent } from '../event.ts';
import { observedEvent } from '../fixtures/observed-event.ts';
import { Enricher, type EnricherOptions } from './enrich.ts';

function event(kind: string, name: string, namespace = 'shop'): ObservedEvent {
  return observedEvent({
    namespace,
    kind,
    name,
    uid: `uid-${name}`,
    eventName: `${name}.17f`,
    host: undefined,
  });
}

function controlledBy(kind: string, name: string) {
  return [{ apiVersion: 'v1', kind, name, uid: `uid-${name}`, controller: true }];
}

const api = {
  pod: (name: string) => `/api/v1/namespaces/shop/pods/${name}`,
  node: (name: string) => `/api/v1/nodes/${name}`,
  replicaSet: (name: string) => `/apis/apps/v1/namespaces/shop/replicasets/${name}`,
  deployment: (name: string) => `/apis/apps/v1/namespaces/shop/deployments/${name}`,
  job: (name: string) => `/apis/batch/v1/namespaces/shop/jobs/${name}`,
  cronJob: (name: string) => `/apis/batch/v1/namespaces/shop/cronjobs/${name}`,
};

describe('Enricher', () => {
  let objects: Map<string, unknown>;
  let server: FakeApiServer;
  let logged: string[];
  let metrics: Metrics;

  beforeEach(async () => {
    objects = new Map();
    server = await new FakeApiServer(({ path }) => {
      const object = objects.get(path);
      if (object === undefined) return statusAnswer(404);
      if (typeof object === 'number') return statusAnswer(object);
      return object === 'hang' ? 'hang' : { status: 200, body: object };
    }).start();
    logged = [];
    metrics = new Metrics({ defaults: false });
  });
  afterEach(() => server.close());

  function enricher(options: Partial<EnricherOptions> = {}): Enricher {
    return new Enricher({
      kube: server.client(),
      log: createLogger({ destination: { write: (line: string) => logged.push(line) } }),
      metrics,
      ...options,
    });
  }

  async function requestsCounted(outcome: string): Promise<number> {
    const counter = metrics.registry.getSingleMetric('lookout_event_router_enrich_requests_total');
    const values = (await counter?.get())?.values ?? [];
    return values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
  }

  it('names the Deployment behind a pod’s ReplicaSet, with the pod’s labels', async () => {
    objects.set(api.pod('web-7d9-x2'), {
      metadata: {
        name: 'web-7d9-x2',
        labels: { app: 'web' },
        ownerReferences: controlledBy('ReplicaSet', 'web-7d9'),
      },
    });
    objects.set(api.replicaSet('web-7d9'), {
      metadata: { name: 'web-7d9', ownerReferences: controlledBy('Deployment', 'web') },
    });
    const enriched = await enricher().enrich(event('Pod', 'web-7d9-x2'));
    expect(enriched.labels).toEqual({ app: 'web' });
    expect(enriched.owner).toEqual({ kind: 'Deployment', name: 'web' });
    // The Deployment itself is not read: its name is all the owner needs.
    expect(server.count('GET', api.deployment('web'))).toBe(0);
  });

  it('names the CronJob behind a pod’s Job', async () => {
    objects.set(api.pod('report-1-abc'), {
      metadata: { name: 'report-1-abc', ownerReferences: controlledBy('Job', 'report-1') },
    });
    objects.set(api.job('report-1'), {
      metadata: { name: 'report-1', ownerReferences: controlledBy('CronJob', 'report') },
    });
    expect((await enricher().enrich(event('Pod', 'report-1-abc'))).owner).toEqual({
      kind: 'CronJob',
      name: 'report',
    });
  });

  it('names a StatefulSet owner directly, and a bare ReplicaSet or Job as itself', async () => {
    objects.set(api.pod('db-0'), { metadata: { ownerReferences: controlledBy('StatefulSet', 'db') } });
    objects.set(api.pod('bare-x'), {
      metadata: { ownerReferences: controlledBy('ReplicaSet', 'bare') },
    });
    objects.set(api.replicaSet('bare'), { metadata: { name: 'bare' } });
    objects.set(api.pod('once-x'), { metadata: { ownerReferences: controlledBy('Job', 'once') } });
    objects.set(api.job('once'), { metadata: { name: 'once' } });
    const e = enricher();
    expect((await e.enrich(event('Pod', 'db-0'))).owner).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect((await e.enrich(event('Pod', 'bare-x'))).owner).toEqual({ kind: 'ReplicaSet', name: 'bare' });
    expect((await e.enrich(event('Pod', 'once-x'))).owner).toEqual({ kind: 'Job', name: 'once' });
    expect(server.requests).toHaveLength(5);
  });

  it('gives a ReplicaSet its Deployment, and a Deployment or Node no owner', async () => {
    objects.set(api.replicaSet('web-7d9'), {
      metadata: { labels: { app: 'web' }, ownerReferences: controlledBy('Deployment', 'web') },
    });
    objects.set(api.deployment('web'), { metadata: { labels: { team: 'shop' } } });
    objects.set(api.node('node-1'), { metadata: { labels: { zone: 'a' } } });
    const e = enricher();
    expect((await e.enrich(event('ReplicaSet', 'web-7d9'))).owner).toEqual({
      kind: 'Deployment',
      name: 'web',
    });
    const deployment = await e.enrich(event('Deployment', 'web'));
    expect(deployment).toMatchObject({ labels: { team: 'shop' } });
    expect(deployment).not.toHaveProperty('owner');
    const node = await e.enrich(event('Node', 'node-1', 'default'));
    expect(node).toMatchObject({ labels: { zone: 'a' } });
    expect(node).not.toHaveProperty('owner');
  });

  it('ignores the event’s namespace for cluster-scoped objects', async () => {
    objects.set(api.node('node-1'), { metadata: { labels: { zone: 'a' } } });
    const e = enricher();
    await e.enrich(event('Node', 'node-1', 'default'));
    await e.enrich(event('Node', 'node-1', ''));
    expect(server.count('GET', api.node('node-1'))).toBe(1);
  });

  it('leaves kinds it does not know as they are, without a request', async () => {
    const endpoints = event('Endpoints', 'web');
    expect(await enricher().enrich(endpoints)).toBe(endpoints);
    expect(server.requests).toEqual([]);
  });

  it('remembers that an object is gone: 300 events about a deleted pod make one request', async () => {
    const e = enricher();
    for (let i = 0; i < 300; i++) {
      const gone = event('Pod', 'deleted');
      expect(await e.enrich(gone)).toBe(gone);
    }
    expect(server.count('GET', api.pod('deleted'))).toBe(1);
    expect(await requestsCounted('not_found')).toBe(1);
    expect(logged).toEqual([]);
  });

  it('shares one request among lookups of the same object made at once', async () => {
    objects.set(api.pod('busy'), { metadata: { labels: { app: 'busy' } } });
    const e = enricher();
    const results = await Promise.all(Array.from({ length: 50 }, () => e.enrich(event('Pod', 'busy'))));
    expect(results.every((r) => r.labels.app === 'busy')).toBe(true);
    expect(server.count('GET', api.pod('busy'))).toBe(1);
  });

  it('keeps at most 8 lookups in flight, however many new objects arrive at once', async () => {
    for (let i = 0; i < 30; i++) objects.set(api.pod(`hung-${i}`), 'hang');
    const e = enricher({ requestTimeoutMs: 300 });
    const all = Promise.all(Array.from({ length: 30 }, (_, i) => e.enrich(event('Pod', `hung-${i}`))));
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toHaveLength(8);
    await all;
    expect(server.requests).toHaveLength(30);
  });

  it('forgets the least recently used object beyond maxEntries', async () => {
    for (const name of ['a', 'b', 'c']) objects.set(api.pod(name), { metadata: { labels: { name } } });
    const e = enricher({ maxEntries: 2 });
    for (const name of ['a', 'b', 'a', 'c', 'a', 'b']) await e.enrich(event('Pod', name));
    // a stays (used again before c came), b went when c came.
    expect([api.pod('a'), api.pod('b'), api.pod('c')].map((p) => server.count('GET', p))).toEqual([1, 2, 1]);
  });

  it('asks again once an answer is older than ttlMs', async () => {
    objects.set(api.pod('p'), { metadata: { labels: { v: '1' } } });
    const e = enricher({ ttlMs: 100 });
    await e.enrich(event('Pod', 'p'));
    objects.set(api.pod('p'), { metadata: { labels: { v: '2' } } });
    expect((await e.enrich(event('Pod', 'p'))).labels).toEqual({ v: '1' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await e.enrich(event('Pod', 'p'))).labels).toEqual({ v: '2' });
  });

  it('lets events through unenriched when reading is refused, counting each failure and logging once', async () => {
    for (let i = 0; i < 5; i++) objects.set(api.pod(`p${i}`), 403);
    const e = enricher();
    for (let i = 0; i < 5; i++) {
      const refused = event('Pod', `p${i}`);
      expect(await e.enrich(refused)).toBe(refused);
    }
    expect(await requestsCounted('error')).toBe(5);
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0] ?? '')).toMatchObject({
      err: 'HTTP 403: the fake API server answers 403',
      level: 'warn',
      kind: 'Pod',
      namespace: 'shop',
      name: 'p0',
    });
    expect(logged[0]).not.toContain('secret-test-token');
  });

  it('gives up on an API server that does not answer after requestTimeoutMs', async () => {
    objects.set(api.pod('slow'), 'hang');
    const started = Date.now();
    const slow = event('Pod', 'slow');
    expect(await enricher({ requestTimeoutMs: 200 }).enrich(slow)).toBe(slow);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await requestsCounted('error')).toBe(1);
    expect(JSON.parse(logged[0] ?? '').err).toMatch(/^(?!HTTP).*timeout/i);
  });

  it('lets events through when the API server is down', async () => {
    await server.close();
    const e = enricher();
    const orphan = event('Pod', 'any');
    expect(await e.enrich(orphan)).toBe(orphan);
    expect(await requestsCounted('error')).toBe(1);
    expect(JSON.parse(logged[0] ?? '').err).toMatch(/^(?!HTTP).*(ECONNREFUSED|fetch failed)/);
  });
});
