import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { ElasticsearchStore } from '../collector/store/elasticsearch-store.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import type { EventArchive } from '../event-router/archive/archive.ts';
import { archiveSchema } from '../event-router/archive/config.ts';
import { createArchive } from '../event-router/archive/create-archive.ts';
import type { ObservedEvent } from '../event-router/event.ts';
import { infraAddress } from './infra/control.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

// The archive writing to the real stores: Elasticsearch's daily indices (the collector's), and a
// collector on its embedded store through POST /api/ingest, searched the way a user searches.
const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const run = randomUUID().slice(0, 8);
const CHINESE = '拉取镜像失败：连接镜像仓库超时';

function observed(namespace: string, n: number, fields: Partial<ObservedEvent> = {}): ObservedEvent {
  const now = Date.now();
  return {
    namespace,
    kind: 'Pod',
    name: `order-${n}`,
    reason: 'BackOff',
    type: 'Warning',
    message: `Back-off restarting failed container app in pod order-${n}`,
    source: 'kubelet',
    labels: { app: 'order', 'app.kubernetes.io/name': 'order' },
    uid: `${run}-uid-${n}`,
    eventName: `order-${n}.${run}`,
    objectUid: `${run}-pod-${n}`,
    count: 1,
    firstTime: now - 60_000,
    lastTime: now,
    host: 'node-1',
    owner: { kind: 'Deployment', name: 'order' },
    ...fields,
  };
}

/** A few events of one namespace: one OOM, one in Chinese, and one seen at two counts. */
function incidents(namespace: string): ObservedEvent[] {
  return [
    observed(namespace, 1),
    observed(namespace, 2, {
      reason: 'OOMKilling',
      message: 'Memory cgroup out of memory: Killed process 4242',
    }),
    observed(namespace, 3, { reason: 'Failed', message: CHINESE }),
    observed(namespace, 1, { count: 2 }),
  ];
}

async function archiveTo(store: Record<string, unknown>): Promise<EventArchive> {
  const config = archiveSchema.parse({ ...store, batchAge: '100ms', retry: { initial: '100ms', max: '1s' } });
  return createArchive(config, { log, metrics: new Metrics({ defaults: false }) });
}

describe('event archive into Elasticsearch', () => {
  const es = new Client({ node: infraAddress('elasticsearch') });
  const namespace = `archive-${run}`;

  afterAll(async () => {
    await es
      .deleteByQuery({
        index: 'lookout-logs-*',
        query: { term: { 'kubernetes.namespace': namespace } },
        refresh: true,
        ignore_unavailable: true,
        allow_no_indices: true,
      })
      .catch(() => {});
    await es.close();
  });

  const search = async (query: object) => {
    await es.indices.refresh({ index: 'lookout-logs-*' });
    const result = await es.search<{ event: { id: string }; message: string }>({
      index: 'lookout-logs-*',
      query: { bool: { filter: [{ term: { 'kubernetes.namespace': namespace } }], must: [query] } },
      size: 100,
    });
    return result.hits.hits.map((hit) => ({ index: hit._index, ...hit._source! }));
  };

  it("stores each occurrence once in the collector's daily indices, found by namespace and text, and by the collector's search", async () => {
    const archive = await archiveTo({
      elasticsearch: { nodes: [infraAddress('elasticsearch')], replicas: 0 },
    });
    const events = incidents(namespace);
    for (const event of events) archive.add(event);
    archive.add(events[0]!); // the same state seen again in the same batch
    await archive.stop(AbortSignal.timeout(30_000));
    expect(archive.healthy).toBe(true);

    const all = await search({ match_all: {} });
    expect(all.map((d) => d.event.id).sort()).toEqual(
      [`${run}-uid-1-1`, `${run}-uid-1-2`, `${run}-uid-2-1`, `${run}-uid-3-1`].sort(),
    );
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
    expect(new Set(all.map((d) => d.index))).toEqual(new Set([`lookout-logs-${day}`]));
    expect((await search({ match: { message: 'memory' } })).map((d) => d.event.id)).toEqual([
      `${run}-uid-2-1`,
    ]);
    expect((await search({ match_phrase: { message: '镜像仓库超时' } })).map((d) => d.message)).toEqual([
      CHINESE,
    ]);
    expect(await search({ term: { 'kubernetes.pod.name': 'order-3' } })).toHaveLength(1);

    // What the console's Events page asks: the collector's store, with its default indices, finds them.
    const collectorStore = new ElasticsearchStore({
      nodes: [infraAddress('elasticsearch')],
      requestTimeout: 30_000,
      replicas: 0,
    });
    try {
      const found = await collectorStore.search({
        from: Date.now() - 3_600_000,
        to: Date.now() + 60_000,
        text: { kind: 'field', field: 'event.reason', value: 'OOMKilling' },
        filters: [{ field: 'kubernetes.namespace', values: [namespace] }],
        order: 'desc',
        size: 10,
      });
      expect(found.hits.map((hit) => hit.id)).toEqual([`${run}-uid-2-1`]);
    } finally {
      await collectorStore.close();
    }

    // A re-list after a restart writes the same states again: still stored once.
    const again = await archiveTo({ elasticsearch: { nodes: [infraAddress('elasticsearch')], replicas: 0 } });
    for (const event of events) again.add(event);
    await again.stop(AbortSignal.timeout(30_000));
    expect(await search({ match_all: {} })).toHaveLength(4);
  }, 60_000);
});

describe('event archive through a collector on its embedded store', () => {
  const ADMIN = 'admin-token-0123456789';
  const INGEST = 'router-token-0123456789';
  const namespace = `archive-${run}`;
  let collector: LookoutProcess | undefined;
  let api: string;

  afterAll(async () => {
    await collector?.kill();
  });

  async function freePort(): Promise<number> {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  type Hit = { doc: { message: string; event: { id: string } } };
  async function searchHits(q?: string): Promise<Hit[]> {
    const params = new URLSearchParams({ from: 'now-1h', to: 'now+1m', namespace, size: '500' });
    if (q) params.set('q', q);
    const response = await fetch(`${api}/api/logs/search?${params}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { hits: Hit[] }).hits;
  }

  it('makes events searchable, and loses none while the collector is down for a while', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-event-archive-'));
    // A fixed port, so the collector comes back where the archive keeps sending.
    const port = await freePort();
    const file = await writeConfig(
      dir,
      `
http:
  listen: "127.0.0.1:${port}"
  auth:
    tokens:
      - { name: admin, token: ${ADMIN}, role: admin }
      - { name: event-router, token: ${INGEST}, role: editor }
dataDir: ${join(dir, 'collector-data')}
collector: {}
`,
    );
    collector = new LookoutProcess('collector', file);
    api = await collector.start();
    const archive = await archiveTo({ collector: { url: api, token: INGEST } });

    const events = incidents(namespace);
    for (const event of events) archive.add(event);
    archive.add(events[0]!);
    const first = await eventually(
      () => searchHits(),
      (hits) => hits.length >= 4,
      'the first events',
      30_000,
    );
    expect(first).toHaveLength(4);
    expect((await searchHits('"out of memory"')).map((h) => h.doc.event.id)).toEqual([`${run}-uid-2-1`]);
    expect((await searchHits(`"镜像仓库超时"`)).map((h) => h.doc.message)).toEqual([CHINESE]);

    await collector.kill();
    const during = Array.from({ length: 120 }, (_, i) => observed(namespace, 100 + i));
    for (const event of during) archive.add(event);
    await eventually(
      async () => archive.healthy,
      (healthy) => !healthy,
      'the archive to notice',
      10_000,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    await collector.start();

    const all = await eventually(
      () => searchHits(),
      (hits) => hits.length >= 124,
      'every event',
      30_000,
    );
    expect(new Set(all.map((h) => h.doc.event.id)).size).toBe(124);
    await archive.stop(AbortSignal.timeout(10_000));
    expect(archive.healthy).toBe(true);
    expect(await searchHits()).toHaveLength(124);
  }, 90_000);
});
