import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ApiException,
  CoreV1Api,
  type CoreV1Event,
  EventsV1Api,
  KubeConfig,
  V1MicroTime,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKubeClient, type KubeClient, type WatchFunction } from '../core/kube/client.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import type { ObservedEvent } from '../event-router/event.ts';
import { type EventsApi, EventWatcher } from '../event-router/watch/event-watcher.ts';
import { ResumePoint, type ResumeState, type Verdict } from '../event-router/watch/resume.ts';
import { ConfigMapStateStore, FileStateStore, type StateStore } from '../event-router/watch/state-store.ts';
import { kubernetesAccess, restartServer } from './infra/control.ts';

// The watcher and the resume point against the real kube-apiserver: Events are created through the API as
// the kubelet would, and every test asserts the one promise of the pair: each event is news exactly once.
const run = randomUUID().slice(0, 8);
const namespace = `watch-${run}`;
const logLines: string[] = [];
const log = createLogger({
  level: 'debug',
  destination: new Writable({
    write: (chunk, _encoding, done) => {
      logLines.push(String(chunk));
      done();
    },
  }),
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetesAccess().kubeconfig);
  return kc;
}
const core = () => kubeConfig().makeApiClient(CoreV1Api);
/** The client Lookout's code takes; client-node makes the test's own objects. */
const kubeClient = (): KubeClient => createKubeClient({ kubeconfig: kubernetesAccess().kubeconfig });

function podEvent(name: string, reason = 'BackOff'): CoreV1Event {
  const now = new Date();
  return {
    metadata: { name, namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: name.split('.')[0] },
    reason,
    message: `${reason} for ${name}`,
    type: 'Warning',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

async function createEvent(name: string): Promise<void> {
  await core().createNamespacedEvent({ namespace, body: podEvent(name) });
}

/** The kubelet's way to report a recurrence: the same Event object, count + 1 and a new lastTimestamp. */
async function recur(name: string): Promise<void> {
  const api = core();
  const current = await api.readNamespacedEvent({ namespace, name });
  await api.replaceNamespacedEvent({
    namespace,
    name,
    body: { ...current, count: (current.count ?? 1) + 1, lastTimestamp: new Date(Date.now() + 1_000) },
  });
}

/** Every Event in the test namespace, as the API server has them: the truth the verdicts are checked against. */
async function eventNames(): Promise<string[]> {
  const listed = await core().listNamespacedEvent({ namespace });
  return listed.items.map((e) => e.metadata?.name ?? '').sort();
}

/** Event times have whole seconds: wait for the next one, so an event created now is newer than now. */
async function nextSecond(): Promise<void> {
  await delay(1_050 - (Date.now() % 1_000));
}

interface Judged {
  name: string;
  verdict: Verdict;
  event: ObservedEvent;
}

/** One run of the router's watching half: a watcher feeding a resume point, the verdicts kept in order. */
class RouterRun {
  readonly judged: Judged[] = [];
  readonly metrics = new Metrics({ defaults: false });
  readonly resume: ResumePoint;
  readonly watcher: EventWatcher;
  synced = 0;

  constructor(
    state: ResumeState | undefined,
    options: { api?: EventsApi; allNamespaces?: boolean; watch?: WatchFunction },
  ) {
    this.resume = new ResumePoint(state);
    this.watcher = new EventWatcher({
      kube: kubeClient(),
      api: options.api ?? 'core/v1',
      namespaces: options.allNamespaces ? [] : [namespace],
      log,
      metrics: this.metrics,
      backoff: { initialMs: 200, maxMs: 2_000 },
      watch: options.watch,
      onEvent: (event) => {
        // Across all namespaces the shared server shows other tests' events too.
        if (event.namespace !== namespace) return;
        this.judged.push({ name: event.eventName, verdict: this.resume.judge(event), event });
      },
      onSynced: () => {
        this.synced++;
      },
    });
    this.watcher.start();
  }

  verdicts(name: string): Verdict[] {
    return this.judged.filter((j) => j.name === name).map((j) => j.verdict);
  }

  news(): string[] {
    return this.judged.filter((j) => j.verdict === 'new').map((j) => j.name);
  }

  async counter(name: string): Promise<number> {
    const metric = this.metrics.registry.getSingleMetric(`lookout_${name}`);
    const values = (await metric?.get())?.values ?? [];
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  /** Stops watching, then takes the state to save: nothing can be judged after it. */
  async stop(): Promise<ResumeState> {
    await this.watcher.stop();
    return this.resume.snapshot();
  }
}

/** Names judged new more than once. */
function repeated(news: string[]): string[] {
  return news.filter((name, i) => news.indexOf(name) !== i);
}

/** Creates events one after another until stopped; a create that fails (server away) is tried again. */
class Producer {
  private stopped = false;
  private readonly done: Promise<void>;
  created = 0;

  constructor(prefix: string, intervalMs: number) {
    this.done = (async () => {
      while (!this.stopped) {
        const name = `${prefix}-${this.created}.${run}`;
        try {
          await createEvent(name);
          this.created++;
        } catch (err) {
          // Tried again under the same name; a create that went through all the same now answers 409.
          if (err instanceof ApiException && err.code === 409) this.created++;
        }
        await delay(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Retries `check` until it passes: events take a moment through the API server and the watch. */
function until<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 100 });
}

/** Waits until every event whose name starts with `prefix` was judged new by one of the runs; returns them. */
async function allJudgedNew(prefix: string, runs: RouterRun[]): Promise<string[]> {
  const expected = (await eventNames()).filter((name) => name.startsWith(prefix));
  await until(() => {
    const news = new Set(runs.flatMap((r) => r.news()));
    expect(expected.filter((name) => !news.has(name))).toEqual([]);
  }, 60_000);
  return expected;
}

beforeAll(async () => {
  await core().createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core()
    .deleteNamespace({ name: namespace })
    .catch(() => {});
  // Whatever failed and was logged, the token was not.
  expect(logLines.join('')).not.toContain(kubernetesAccess().token);
});

describe('EventWatcher and ResumePoint on a real API server', () => {
  it('judges what happened before the first start old, then hands over new events and their recurrence', async () => {
    await createEvent(`before.${run}`);
    await nextSecond();
    const router = new RouterRun(undefined, {});
    try {
      await until(() => expect(router.synced).toBe(1));
      expect(router.verdicts(`before.${run}`)).toEqual(['old']);
      expect(router.watcher.healthy).toBe(true);

      await nextSecond();
      await createEvent(`crash.${run}`);
      await until(() => expect(router.verdicts(`crash.${run}`)).toEqual(['new']));

      await recur(`crash.${run}`);
      await until(() => expect(router.verdicts(`crash.${run}`)).toEqual(['new', 'update']));
      const update = router.judged.at(-1);
      expect(update?.event).toMatchObject({ count: 2, kind: 'Pod', name: 'crash', source: 'kubelet' });
      expect(update?.event.lastTime).toBeGreaterThan(router.judged.at(-2)?.event.lastTime ?? Infinity);
      expect(await router.counter('event_router_events_seen_total')).toBeGreaterThanOrEqual(3);
    } finally {
      await router.stop();
    }
  });

  it('reads an events.k8s.io/v1 event with only eventTime, through both APIs', async () => {
    await nextSecond();
    const v1 = new RouterRun(undefined, { api: 'events.k8s.io/v1', allNamespaces: true });
    const coreV1 = new RouterRun(undefined, {});
    try {
      await until(() => expect(v1.synced + coreV1.synced).toBe(2));
      const eventTime = new V1MicroTime(Date.now());
      const created = await kubeConfig()
        .makeApiClient(EventsV1Api)
        .createNamespacedEvent({
          namespace,
          body: {
            metadata: { name: `scaled.${run}`, namespace },
            eventTime,
            regarding: { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: 'web' },
            reason: 'ScalingReplicaSet',
            action: 'Scale',
            type: 'Normal',
            note: 'Scaled up replica set web-7d4 to 3',
            reportingController: 'deployment-controller',
            reportingInstance: 'kube-controller-manager-1',
          },
        });
      for (const router of [v1, coreV1]) {
        await until(() => expect(router.verdicts(`scaled.${run}`)).toEqual(['new']));
        expect(router.judged.at(-1)?.event).toMatchObject({
          uid: created.metadata?.uid,
          namespace,
          kind: 'Deployment',
          name: 'web',
          reason: 'ScalingReplicaSet',
          message: 'Scaled up replica set web-7d4 to 3',
          source: 'deployment-controller',
          count: 1,
          firstTime: eventTime.getTime(),
          lastTime: eventTime.getTime(),
        });
      }
    } finally {
      await Promise.all([v1.stop(), coreV1.stop()]);
    }
  });

  const stores: [string, () => Promise<StateStore>][] = [
    [
      'a state file',
      async () =>
        new FileStateStore({ path: join(await mkdtemp(join(tmpdir(), 'resume-')), 'state.json'), log }),
    ],
    [
      'a ConfigMap',
      async () =>
        new ConfigMapStateStore({
          kube: kubeClient(),
          namespace,
          name: `resume-${randomUUID().slice(0, 6)}`,
          log,
        }),
    ],
  ];

  it.each(stores)('restarted mid-stream with %s: every event is news exactly once', async (_, makeStore) => {
    const store = await makeStore();
    expect(await store.load()).toBeUndefined();
    const prefix = `restart-${randomUUID().slice(0, 4)}`;
    const first = new RouterRun(await store.load(), {});
    await until(() => expect(first.synced).toBe(1));
    await nextSecond();
    const producer = new Producer(prefix, 50);
    await until(() => expect(first.news().length).toBeGreaterThanOrEqual(10));
    await store.save(first.resume.snapshot());
    await until(() => expect(first.news().length).toBeGreaterThanOrEqual(20));
    // Stopped while events keep coming: some were created but not yet received.
    await store.save(await first.stop());
    const bumped = first.news()[0] ?? '';
    await recur(bumped);
    await delay(1_000);

    const second = new RouterRun(await store.load(), {});
    try {
      await delay(1_000);
      await producer.stop();
      const expected = await allJudgedNew(prefix, [first, second]);
      expect(expected.length).toBe(producer.created);
      const news = [...first.news(), ...second.news()];
      expect(repeated(news)).toEqual([]);
      expect(second.news().length).toBeGreaterThan(0);
      expect(second.verdicts(bumped)).toEqual(['update']);
      // The second run listed the first run's events again and recognised them.
      expect(second.judged.filter((j) => j.verdict === 'seen').length).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });

  it('recovers from a watch at a resourceVersion the server may no longer have (410 Gone)', async () => {
    /** Opens the first watch at resourceVersion 1, the oldest there is. */
    const kube = kubeClient();
    let first = true;
    const fromTheStart: WatchFunction = (path, options) => {
      const resourceVersion = first ? '1' : options.query?.resourceVersion;
      first = false;
      return kube.watch(path, { ...options, query: { ...options.query, resourceVersion } });
    };
    const prefix = `gone-${randomUUID().slice(0, 4)}`;
    await createEvent(`${prefix}-history.${run}`);
    await nextSecond();
    const router = new RouterRun(undefined, { watch: fromTheStart });
    try {
      await nextSecond();
      await createEvent(`${prefix}-new-a.${run}`);
      await createEvent(`${prefix}-new-b.${run}`);
      expect(await allJudgedNew(`${prefix}-new`, [router])).toHaveLength(2);
      // Once etcd has compacted revision 1 away (every 5 minutes) the server answers 410 and the watcher lists
      // again; on a younger server the watch replays the history from revision 1 instead. Either way the
      // event from before the start is handed over twice and judged old twice, and nothing is news twice.
      const relists = await router.counter('event_router_watch_relists_total');
      expect(relists).toBeLessThanOrEqual(1);
      expect(router.synced).toBe(1 + relists);
      expect(router.verdicts(`${prefix}-history.${run}`)).toEqual(['old', 'old']);
      expect(repeated(router.news())).toEqual([]);
      expect(router.watcher.healthy).toBe(true);
    } finally {
      await router.stop();
    }
  });

  it('loses and repeats nothing across an API server restart', async () => {
    await nextSecond();
    const router = new RouterRun(undefined, { allNamespaces: true });
    try {
      await until(() => expect(router.synced).toBe(1));
      await nextSecond();
      const prefix = `apiserver-${randomUUID().slice(0, 4)}`;
      const producer = new Producer(prefix, 100);
      await until(() => expect(router.news().length).toBeGreaterThanOrEqual(5));
      await restartServer('kubernetes');
      await delay(2_000);
      await producer.stop();
      expect(await allJudgedNew(prefix, [router])).toHaveLength(producer.created);
      expect(repeated(router.news())).toEqual([]);
      await until(() => expect(router.watcher.healthy).toBe(true));
      expect(await router.counter('event_router_watch_restarts_total')).toBeGreaterThanOrEqual(1);
    } finally {
      await router.stop();
    }
  });
});

describe('state stores', () => {
  const state = (keys: number, time = 1_000): ResumeState => ({
    time,
    keys: Object.fromEntries(
      Array.from({ length: keys }, (_, i) => [randomUUID(), { count: 1 + (i % 5), lastTime: time + i }]),
    ),
  });

  it('a state file survives a round trip, and a corrupt one is reported and treated as missing', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'resume-')), 'state.json');
    const store = new FileStateStore({ path, log });
    expect(await store.load()).toBeUndefined();
    const saved = state(3);
    await store.save(saved);
    expect(await store.load()).toEqual(saved);
    await writeFile(path, '{"time": 12, "keys": {"a": ');
    const before = logLines.length;
    expect(await store.load()).toBeUndefined();
    expect(logLines.slice(before).join('')).toContain('cannot be read');
    expect(store.describe()).toBe(`file ${path}`);
  });

  it('a ConfigMap store writes over a conflicting writer, and keeps the newest keys when too large', async () => {
    const name = `resume-${randomUUID().slice(0, 6)}`;
    const a = new ConfigMapStateStore({ kube: kubeClient(), namespace, name, log });
    const b = new ConfigMapStateStore({ kube: kubeClient(), namespace, name, log });
    await a.save(state(1, 1_000));
    await b.save(state(1, 2_000));
    // a's resourceVersion is stale now: the write conflicts, a reads again and writes once more.
    const third = state(2, 3_000);
    await a.save(third);
    expect(await b.load()).toEqual(third);

    const large = state(20_000, 10_000);
    await a.save(large);
    const configMap = await core().readNamespacedConfigMap({ namespace, name });
    const json = configMap.data?.['state.json'] ?? '';
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(900_000);
    const fitted = JSON.parse(json) as ResumeState;
    const kept = Object.values(fitted.keys).map((k) => k.lastTime);
    expect(kept.length).toBeGreaterThan(5_000);
    expect(Math.max(...kept)).toBe(10_000 + 19_999);
    // Everything dropped is at or before the new time, so it can never be judged new again.
    expect(fitted.time).toBe(Math.min(...kept) - 1);
  });
});
