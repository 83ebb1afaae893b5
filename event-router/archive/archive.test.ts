import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { ObservedEvent } from '../event.ts';
import { type ArchiveStore, BufferedArchive, type StoreAttempt } from './archive.ts';
import type { BufferSettings } from './config.ts';
import type { EventDocument } from './document.ts';

const observed = (n: number): ObservedEvent => ({
  namespace: 'shop',
  kind: 'Pod',
  name: `order-${n}`,
  reason: 'BackOff',
  type: 'Warning',
  message: `event ${n}`,
  source: 'kubelet',
  labels: {},
  uid: `uid-${n}`,
  eventName: `order-${n}.1`,
  objectUid: undefined,
  count: 1,
  firstTime: 1_700_000_000_000,
  lastTime: 1_700_000_000_000,
  host: undefined,
});

/** A store whose answer to each write the test decides; it keeps what it accepted. */
class FakeStore implements ArchiveStore {
  readonly description = 'fake';
  readonly stored: EventDocument[] = [];
  readonly writes: number[] = [];
  closed = false;
  down = false;
  /** Per event id: refuse for a passing reason this many more times. */
  readonly busy = new Map<string, number>();
  readonly refuse = new Set<string>();

  async write(documents: EventDocument[]): Promise<StoreAttempt> {
    this.writes.push(documents.length);
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9200');
    const result: StoreAttempt = { retry: [], rejected: [] };
    for (const document of documents) {
      const id = document.event.id;
      const busy = this.busy.get(id) ?? 0;
      if (busy > 0) {
        this.busy.set(id, busy - 1);
        result.retry.push(document);
      } else if (this.refuse.has(id)) result.rejected.push({ document, status: 400, reason: 'mapping' });
      else this.stored.push(document);
    }
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const fast: BufferSettings = {
  batchSize: 10,
  batchAge: 20,
  maxBuffered: 100,
  retry: { initial: 5, max: 20 },
};
const logLines: Record<string, unknown>[] = [];
const log = createLogger({
  level: 'info',
  destination: new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)));
      done();
    },
  }),
});

let metrics: Metrics;
const archives: BufferedArchive[] = [];
function archive(store: ArchiveStore, settings: Partial<BufferSettings> = {}): BufferedArchive {
  metrics = new Metrics({ defaults: false });
  const made = new BufferedArchive(store, { ...fast, ...settings }, { log, metrics });
  archives.push(made);
  return made;
}

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(`lookout_${name}`);
  const { values } = await metric!.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

async function until(check: () => boolean, what: string): Promise<void> {
  // Retries back off for seconds; a loaded machine stretches that, so wait well past it (the test allows 20 s).
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(async () => {
  await Promise.all(archives.splice(0).map((a) => a.stop(AbortSignal.timeout(100))));
  logLines.length = 0;
});

describe('BufferedArchive', () => {
  it('writes full batches at once and a partial one when its oldest event is batchAge old', async () => {
    const store = new FakeStore();
    const a = archive(store, { batchAge: 200 });
    for (let n = 0; n < 23; n++) a.add(observed(n));
    await until(() => store.stored.length === 20, 'two full batches');
    expect(store.writes).toEqual([10, 10]);
    await until(() => store.stored.length === 23, 'the partial batch');
    expect(store.writes).toEqual([10, 10, 3]);
    expect(store.stored.map((d) => d.message)).toEqual(Array.from({ length: 23 }, (_, n) => `event ${n}`));
    expect(await counter('event_router_archive_written_total')).toBe(23);
  });

  it('keeps events while the store is down, unhealthy, and writes them all once it is back', async () => {
    const store = new FakeStore();
    store.down = true;
    const a = archive(store);
    for (let n = 0; n < 25; n++) a.add(observed(n));
    await until(() => store.writes.length >= 3, 'retries');
    expect(a.healthy).toBe(false);
    store.down = false;
    await until(() => store.stored.length === 25, 'everything written');
    expect(a.healthy).toBe(true);
    expect(new Set(store.stored.map((d) => d.event.id)).size).toBe(25);
    expect(await counter('event_router_archive_retries_total')).toBeGreaterThanOrEqual(20);
    expect(logLines.map((l) => l.msg)).toContain('event archive: writing to the store again');
  });

  it('holds at most maxBuffered events, dropping the oldest, counting and logging it without blocking', async () => {
    const store = new FakeStore();
    store.down = true;
    const a = archive(store, { maxBuffered: 50, retry: { initial: 60_000, max: 60_000 } });
    a.add(observed(0));
    // The first batch is taken and held in flight; the queue behind it fills.
    await until(() => store.writes.length >= 1, 'the first attempt');
    const started = Date.now();
    for (let n = 1; n <= 1_000; n++) a.add(observed(n));
    expect(Date.now() - started).toBeLessThan(500);
    expect(await counter('event_router_archive_dropped_total', { reason: 'overflow' })).toBe(950);
    expect(await counter('event_router_archive_buffered')).toBe(50);
    // Rate limited: one line for the flood, not one per event.
    const drops = logLines.filter((l) => l.msg === 'event archive: buffer full; dropping the oldest events');
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ dropped: 1, reason: 'overflow', maxBuffered: 50 });

    // The newest 50 are what is left: written after the outage (the in-flight one too).
    store.down = false;
    await a.stop(AbortSignal.timeout(0));
    expect(store.stored).toEqual([]);
    expect(await counter('event_router_archive_dropped_total', { reason: 'shutdown' })).toBe(51);
    expect(store.closed).toBe(true);
  });

  it('writes the newest events once the store is back after an overflow', async () => {
    const store = new FakeStore();
    store.down = true;
    const a = archive(store, { maxBuffered: 20, batchSize: 5 });
    a.add(observed(0));
    await until(() => store.writes.length >= 1, 'the first attempt');
    for (let n = 1; n <= 100; n++) a.add(observed(n));
    store.down = false;
    await until(() => store.stored.length === 21, 'the in-flight event and the newest 20');
    expect(store.stored.map((d) => d.message)).toEqual([
      'event 0',
      ...Array.from({ length: 20 }, (_, i) => `event ${81 + i}`),
    ]);
    expect(await counter('event_router_archive_dropped_total', { reason: 'overflow' })).toBe(80);
  });

  it('sends busy events again and counts refused ones, logged with the reason', async () => {
    const store = new FakeStore();
    store.busy.set('uid-1-1', 2);
    store.refuse.add('uid-2-1');
    const a = archive(store);
    for (let n = 0; n < 4; n++) a.add(observed(n));
    await until(() => store.stored.length === 3, 'the busy one after its retries');
    expect(store.stored.map((d) => d.message)).toEqual(['event 0', 'event 3', 'event 1']);
    expect(await counter('event_router_archive_rejected_total')).toBe(1);
    expect(await counter('event_router_archive_retries_total')).toBe(2);
    expect(a.healthy).toBe(true);
    expect(logLines).toContainEqual(
      expect.objectContaining({ rejected: 1, status: 400, reason: 'mapping', store: 'fake' }),
    );
  });

  it('flushes what is queued on stop, without waiting for the batch age', async () => {
    const store = new FakeStore();
    const a = archive(store, { batchAge: 60_000 });
    for (let n = 0; n < 15; n++) a.add(observed(n));
    await a.stop(AbortSignal.timeout(5_000));
    expect(store.stored).toHaveLength(15);
    expect(store.closed).toBe(true);
    a.add(observed(99));
    expect(await counter('event_router_archive_dropped_total', { reason: 'shutdown' })).toBe(1);
  });

  it('refuses an event without a valid time instead of throwing at the router', async () => {
    const store = new FakeStore();
    const a = archive(store);
    expect(() => a.add({ ...observed(1), lastTime: Number.NaN })).not.toThrow();
    expect(await counter('event_router_archive_rejected_total')).toBe(1);
  });
});
