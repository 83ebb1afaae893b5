import { setTimeout as wait } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { Metrics } from '../metrics.ts';
import {
  type FakeAnswer,
  FakeApiServer,
  type FakeRequest,
  statusAnswer,
} from './fixtures/fake-api-server.ts';
import { LeaderElector, type LeaderElectorOptions } from './leader.ts';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/router/leases';
const LEASE = `${LEASES}/event-router`;
/** metav1.MicroTime: the API server refuses any other number of fraction digits. */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

/** The Lease part of the API server: reads, creates, and replaces guarded by resourceVersion. */
class LeaseStore {
  lease: StoredLease | undefined;
  trouble: 'none' | 'failing' | 'hanging' = 'none';
  private version = 0;

  handle({ method, path, body }: FakeRequest): FakeAnswer {
    if (this.trouble === 'hanging') return 'hang';
    if (this.trouble === 'failing') return statusAnswer(500);
    if (method === 'GET' && path === LEASE)
      return this.lease ? { status: 200, body: this.lease } : statusAnswer(404);
    const incoming = body as StoredLease;
    for (const time of ['renewTime', 'acquireTime']) {
      const value = incoming.spec[time];
      if (value !== undefined && !MICRO_TIME.test(String(value))) return statusAnswer(400);
    }
    if (method === 'POST' && path === LEASES) {
      if (this.lease) return statusAnswer(409);
      return this.store(incoming);
    }
    if (method === 'PUT' && path === LEASE) {
      if (incoming.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
        return statusAnswer(409);
      return this.store(incoming);
    }
    return statusAnswer(405);
  }

  /** As another replica on another machine would write it. */
  put(spec: Record<string, unknown>): void {
    this.store({ metadata: { name: 'event-router', namespace: 'router', resourceVersion: '' }, spec });
  }

  private store(lease: StoredLease): FakeAnswer {
    this.version++;
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.version) } };
    return { status: 200, body: this.lease };
  }
}

describe('LeaderElector', () => {
  let store: LeaseStore;
  let server: FakeApiServer;
  const electors: LeaderElector[] = [];
  const calls: string[] = [];

  beforeEach(async () => {
    store = new LeaseStore();
    server = await new FakeApiServer((request) => store.handle(request)).start();
    calls.length = 0;
  });
  afterEach(async () => {
    store.trouble = 'none';
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await server.close();
  });

  function elector(identity: string, options: Partial<LeaderElectorOptions> = {}): LeaderElector {
    const e = new LeaderElector({
      kube: server.client(),
      namespace: 'router',
      name: 'event-router',
      identity,
      leaseDurationMs: 1_000,
      renewDeadlineMs: 600,
      retryPeriodMs: 100,
      log: createLogger({ level: 'silent' }),
      onStartedLeading: () => calls.push(`${identity} started`),
      onStoppedLeading: () => calls.push(`${identity} stopped`),
      ...options,
    });
    electors.push(e);
    return e;
  }

  async function until(condition: () => boolean, timeoutMs = 5_000): Promise<number> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
      await wait(20);
    }
    return Date.now() - started;
  }

  it('creates the Lease when there is none, leads, and keeps renewing it', async () => {
    const metrics = new Metrics({ defaults: false });
    const a = elector('a', { metrics });
    a.start();
    await until(() => a.isLeader);
    expect(store.lease?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });
    const firstRenewal = store.lease?.spec.renewTime;
    await until(() => store.lease?.spec.renewTime !== firstRenewal);
    expect(store.lease?.spec.acquireTime).not.toBe(store.lease?.spec.renewTime);
    expect(await metrics.text()).toContain('lookout_leader{lease="event-router"} 1');
    await a.stop();
    expect(await metrics.text()).toContain('lookout_leader{lease="event-router"} 0');
    expect(calls).toEqual(['a started', 'a stopped']);
  });

  it('lets one of two replicas lead, and hands over at once when the leader stops', async () => {
    const a = elector('a');
    const b = elector('b');
    a.start();
    await until(() => a.isLeader);
    b.start();
    await wait(1_500);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    await a.stop();
    expect(store.lease?.spec.holderIdentity).toBe('');
    // Sooner than the lease duration: released, not expired.
    expect(await until(() => b.isLeader)).toBeLessThan(800);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('takes over a Lease that stopped changing, timed on its own clock whatever the renewTime says', async () => {
    // Written by a replica whose clock runs an hour behind: by renewTime the Lease expired long ago.
    store.put({
      holderIdentity: 'crashed',
      leaseDurationSeconds: 1,
      renewTime: '2020-01-01T00:00:00.000000Z',
      leaseTransitions: 4,
    });
    const b = elector('b');
    b.start();
    const tookMs = await until(() => b.isLeader);
    expect(tookMs).toBeGreaterThanOrEqual(950);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
  });

  it('steps down within the renew deadline when the API server fails, before the Lease could expire', async () => {
    const a = elector('a');
    a.start();
    await until(() => a.isLeader);
    const renewedAt = Date.now();
    store.trouble = 'failing';
    await until(() => !a.isLeader);
    const ledOnMs = Date.now() - renewedAt;
    expect(ledOnMs).toBeLessThan(1_000);
    expect(ledOnMs).toBeGreaterThan(300);
    // The Lease is still ours when the API server is back.
    store.trouble = 'none';
    await until(() => a.isLeader);
    expect(calls).toEqual(['a started', 'a stopped', 'a started']);
  });

  it('steps down within the renew deadline when the API server stops answering', async () => {
    const a = elector('a');
    a.start();
    await until(() => a.isLeader);
    store.trouble = 'hanging';
    expect(await until(() => !a.isLeader)).toBeLessThan(1_000);
  });

  it('steps down when another replica holds the Lease', async () => {
    const a = elector('a');
    a.start();
    await until(() => a.isLeader);
    store.put({ holderIdentity: 'usurper', leaseDurationSeconds: 1 });
    await until(() => !a.isLeader, 500);
  });

  it('leaves the Lease held on stop when releaseOnStop is off, as a crash would', async () => {
    const a = elector('a', { releaseOnStop: false });
    a.start();
    await until(() => a.isLeader);
    await a.stop();
    expect(a.isLeader).toBe(false);
    expect(store.lease?.spec.holderIdentity).toBe('a');
  });

  it('refuses durations that could let two replicas lead at once', () => {
    expect(() => elector('a', { leaseDurationMs: 1_000, renewDeadlineMs: 1_000 })).toThrow(/renew deadline/);
    expect(() => elector('a', { renewDeadlineMs: 600, retryPeriodMs: 500 })).toThrow(/retry periods/);
    electors.length = 0;
  });

  it('makes up an identity unique to the process when given none', () => {
    const options = { identity: undefined } as const;
    expect(elector('x', options).identity).not.toBe(elector('x', options).identity);
    expect(elector('x', options).identity).toContain(`_${process.pid}_`);
  });
});
