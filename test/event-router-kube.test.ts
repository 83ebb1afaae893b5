import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as wait } from 'node:timers/promises';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1ObjectMeta,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, KubeClient } from '../core/kube/client.ts';
import { StaticCredentials } from '../core/kube/credentials.ts';
import { LeaderElector } from '../core/kube/leader.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import type { ObservedEvent } from '../event-router/event.ts';
import { observedEvent } from '../event-router/fixtures/observed-event.ts';
import { Enricher, type EnricherOptions } from '../event-router/kube/enrich.ts';
import { kubernetesAccess } from './infra/control.ts';

const id = randomUUID().slice(0, 8);
const namespace = `router-kube-${id}`;
const nodeName = `router-kube-node-${id}`;
const log = createLogger({ level: 'warn' });

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetesAccess().kubeconfig);
  return kc;
}

/** The client Lookout's code takes; client-node makes the test's own objects. */
function kubeClient(): KubeClient {
  return createKubeClient({ kubeconfig: kubernetesAccess().kubeconfig });
}

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

function event(kind: string, name: string, eventNamespace = namespace): ObservedEvent {
  const now = Date.now();
  return observedEvent({
    namespace: eventNamespace,
    kind,
    name,
    message: 'Back-off restarting failed container',
    uid: randomUUID(),
    eventName: `${name}.${id}`,
    firstTime: now,
    lastTime: now,
    host: undefined,
  });
}

function controlledBy(apiVersion: string, kind: string, object: { metadata?: V1ObjectMeta }) {
  const ref: V1OwnerReference = {
    apiVersion,
    kind,
    name: object.metadata?.name ?? '',
    uid: object.metadata?.uid ?? '',
    controller: true,
  };
  return [ref];
}

const podSpec = { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] };

async function createPod(name: string, labels: Record<string, string> = {}) {
  return core.createNamespacedPod({ namespace, body: { metadata: { name, labels }, spec: podSpec } });
}

describe('event router and the real API server', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await core.deleteNode({ name: nodeName }).catch(() => {});
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  describe('Enricher', () => {
    function enricher(options: Partial<EnricherOptions> = {}): { enricher: Enricher; metrics: Metrics } {
      const metrics = new Metrics({ defaults: false });
      return { enricher: new Enricher({ kube: kubeClient(), log, metrics, ...options }), metrics };
    }

    async function requests(metrics: Metrics, outcome: string): Promise<number> {
      const counter = metrics.registry.getSingleMetric('lookout_event_router_enrich_requests_total');
      const values = (await counter?.get())?.values ?? [];
      return values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
    }

    it('gives a pod its labels and the Deployment that owns it through a ReplicaSet', async () => {
      // No controller-manager runs: the objects are made as the Deployment and ReplicaSet controllers would.
      const labels = { app: 'web', tier: 'front' };
      const template = { metadata: { labels }, spec: podSpec };
      const selector = { matchLabels: labels };
      const deployment = await apps.createNamespacedDeployment({
        namespace,
        body: { metadata: { name: 'web', labels: { team: 'shop' } }, spec: { selector, template } },
      });
      const replicaSet = await apps.createNamespacedReplicaSet({
        namespace,
        body: {
          metadata: {
            name: 'web-5d8',
            labels,
            ownerReferences: controlledBy('apps/v1', 'Deployment', deployment),
          },
          spec: { selector, template },
        },
      });
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: {
            name: 'web-5d8-x2k',
            labels,
            ownerReferences: controlledBy('apps/v1', 'ReplicaSet', replicaSet),
          },
          spec: podSpec,
        },
      });

      const { enricher: e } = enricher();
      const pod = await e.enrich(event('Pod', 'web-5d8-x2k'));
      expect(pod.labels).toEqual(labels);
      expect(pod.owner).toEqual({ kind: 'Deployment', name: 'web' });
      const rs = await e.enrich(event('ReplicaSet', 'web-5d8'));
      expect(rs.owner).toEqual({ kind: 'Deployment', name: 'web' });
      const workload = await e.enrich(event('Deployment', 'web'));
      expect(workload.labels).toEqual({ team: 'shop' });
      expect(workload.owner).toBeUndefined();
    });

    it('gives a Node event the node’s labels', async () => {
      await core.createNode({
        body: { metadata: { name: nodeName, labels: { 'topology.kubernetes.io/zone': 'zone-a' } } },
      });
      // Node events are recorded in the default namespace.
      const node = await enricher().enricher.enrich(event('Node', nodeName, 'default'));
      expect(node.labels).toEqual({ 'topology.kubernetes.io/zone': 'zone-a' });
      expect(node.owner).toBeUndefined();
    });

    it('lets events about a deleted pod through as they are, asking the API server once', async () => {
      await createPod('gone', { app: 'gone' });
      await core.deleteNamespacedPod({ namespace, name: 'gone' });
      const { enricher: e, metrics } = enricher();
      for (let i = 0; i < 300; i++) {
        const about = event('Pod', 'gone');
        expect(await e.enrich(about)).toBe(about);
      }
      expect(await requests(metrics, 'not_found')).toBe(1);
      expect(await requests(metrics, 'error')).toBe(0);
    });

    it('keeps no more than maxEntries objects', async () => {
      for (const name of ['p1', 'p2', 'p3']) await createPod(name, { name });
      const { enricher: e, metrics } = enricher({ maxEntries: 2 });
      for (const name of ['p1', 'p2', 'p1', 'p2']) await e.enrich(event('Pod', name));
      expect(await requests(metrics, 'found')).toBe(2);
      // p3 pushes p1 out; p2 is still there.
      await e.enrich(event('Pod', 'p3'));
      await e.enrich(event('Pod', 'p2'));
      expect(await requests(metrics, 'found')).toBe(3);
      expect((await e.enrich(event('Pod', 'p1'))).labels).toEqual({ name: 'p1' });
      expect(await requests(metrics, 'found')).toBe(4);
    });

    it('lets events through unenriched when the API server refuses to answer', async () => {
      const { url, caFile } = kubernetesAccess();
      const anonymous = new KubeClient({
        server: url,
        tls: { ca: readFileSync(caFile), rejectUnauthorized: true },
        credentials: new StaticCredentials({}),
      });
      const { enricher: e, metrics } = enricher({ kube: anonymous });
      const about = event('Pod', 'web-5d8-x2k');
      expect(await e.enrich(about)).toBe(about);
      expect(await requests(metrics, 'error')).toBe(1);
    });
  });

  describe('LeaderElector', () => {
    const leaseName = 'event-router';
    const coordination = kc.makeApiClient(CoordinationV1Api);

    function elector(identity: string, releaseOnStop = true): LeaderElector {
      return new LeaderElector({
        kube: kubeClient(),
        namespace,
        name: leaseName,
        identity,
        leaseDurationMs: 2_000,
        renewDeadlineMs: 1_500,
        retryPeriodMs: 300,
        releaseOnStop,
        log,
        onStartedLeading: () => {},
        onStoppedLeading: () => {},
      });
    }

    async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
      const started = Date.now();
      while (!condition()) {
        if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
        await wait(50);
      }
      return Date.now() - started;
    }

    it('lets one replica lead at a time, through a handover and a crash', async () => {
      const electors: LeaderElector[] = [];
      let overlaps = 0;
      let samples = 0;
      const sampler = setInterval(() => {
        samples++;
        if (electors.filter((e) => e.isLeader).length > 1) overlaps++;
      }, 100);
      try {
        const a = elector('replica-a');
        const b = elector('replica-b', false);
        electors.push(a, b);
        a.start();
        await until(() => a.isLeader, 10_000);
        b.start();
        // b keeps trying for a few lease durations; a keeps leading.
        await wait(5_000);
        expect(electors.map((e) => e.isLeader)).toEqual([true, false]);

        // A leader that stops releases the Lease: b takes over well before the lease would have expired.
        await a.stop();
        expect(await until(() => b.isLeader, 10_000)).toBeLessThan(1_500);

        // b does not release the Lease on stop, as if it crashed: c takes over once it has not changed for 2 s.
        const c = elector('replica-c');
        electors.push(c);
        c.start();
        await wait(1_000);
        expect(c.isLeader).toBe(false);
        const crashedAt = Date.now();
        await b.stop();
        const takeoverMs = await until(() => c.isLeader, 10_000);
        expect(Date.now() - crashedAt).toBeGreaterThan(1_500);
        expect(takeoverMs).toBeLessThan(6_000);

        const lease = await coordination.readNamespacedLease({ namespace, name: leaseName });
        expect(lease.spec?.holderIdentity).toBe('replica-c');
        expect(lease.spec?.leaseTransitions).toBe(2);
        await c.stop();
      } finally {
        clearInterval(sampler);
        await Promise.all(electors.map((e) => e.stop()));
      }
      expect(samples).toBeGreaterThan(50);
      expect(overlaps).toBe(0);
    });
  });
});
