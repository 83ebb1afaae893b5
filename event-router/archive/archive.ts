import { describeError } from '../../core/errors.ts';
import { type Attempt, retryItems } from '../../core/item-retry.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { ReportThrottle } from '../../core/report-throttle.ts';
import type { ObservedEvent } from '../event.ts';
import { EVENT_ROUTER_METRICS } from '../metrics.ts';
import { BoundedQueue } from './bounded-queue.ts';
import type { BufferSettings } from './config.ts';
import { type EventDocument, eventDocument } from './document.ts';

/** Every event the router sees, kept in the log store so it can be searched next to the logs. */
export interface EventArchive {
  /** Queues the event for writing; never blocks and never throws. */
  add(event: ObservedEvent): void;
  /** Writes what is queued until the deadline aborts; what is left then is dropped (counted). Closes the store. */
  stop(deadline: AbortSignal): Promise<void>;
  /** False from a failed write until the next one succeeds. */
  readonly healthy: boolean;
}

/** A document the store refused for good. */
export interface Refusal {
  document: EventDocument;
  status: number;
  reason: string;
}

export type StoreAttempt = Attempt<EventDocument, Refusal>;

/** Where the documents go: it writes one batch and says, per document, what became of it. */
export interface ArchiveStore {
  /** Names the store in logs, without credentials. */
  readonly description: string;
  /** Documents refused for a passing reason go in `retry`; throws when the whole request failed. */
  write(documents: EventDocument[], signal: AbortSignal): Promise<StoreAttempt>;
  close(): Promise<void>;
}

export interface ArchiveDeps {
  log: Logger;
  metrics: Metrics;
}

const REPORT_INTERVAL_MS = 30_000;

interface Queued {
  document: EventDocument;
  /** Epoch ms it was queued, for the batch age. */
  at: number;
}

/**
 * Batches events (by count or age), writes them with backoff while the store
 * is down or busy, and holds at most `maxBuffered` waiting: beyond that the
 * oldest are dropped, so an outage of the store costs old events, never the
 * router's progress. The batch being written is held on top of the bound.
 */
export class BufferedArchive implements EventArchive {
  private readonly store: ArchiveStore;
  private readonly settings: BufferSettings;
  private readonly log: Logger;
  private readonly queue: BoundedQueue<Queued>;
  /** Aborted at the stop deadline: ends waits and requests. */
  private readonly abort = new AbortController();
  private readonly running: Promise<void>;
  private wake: (() => void) | undefined;
  private stopping = false;
  /** No more writes: what is added now is dropped. */
  private closed = false;
  private stopped: Promise<void> | undefined;
  private failing = false;
  private inFlight = 0;
  private readonly dropReports = new ReportThrottle(REPORT_INTERVAL_MS);
  private readonly refusalReports = new ReportThrottle(REPORT_INTERVAL_MS);
  private readonly failureReports = new ReportThrottle(REPORT_INTERVAL_MS);
  private readonly metrics;

  constructor(store: ArchiveStore, settings: BufferSettings, deps: ArchiveDeps) {
    this.store = store;
    this.settings = settings;
    this.log = deps.log;
    this.queue = new BoundedQueue(settings.maxBuffered);
    const { metrics } = deps;
    this.metrics = {
      written: metrics.counter(EVENT_ROUTER_METRICS.archiveWritten),
      rejected: metrics.counter(EVENT_ROUTER_METRICS.archiveRejected),
      dropped: metrics.counter(EVENT_ROUTER_METRICS.archiveDropped),
      retries: metrics.counter(EVENT_ROUTER_METRICS.archiveRetries),
      buffered: metrics.gauge(EVENT_ROUTER_METRICS.archiveBuffered),
      up: metrics.gauge(EVENT_ROUTER_METRICS.archiveUp),
    };
    this.metrics.up.set(1);
    this.running = this.run();
  }

  get healthy(): boolean {
    return !this.failing;
  }

  add(event: ObservedEvent): void {
    if (this.closed) {
      this.drop('shutdown', 1);
      return;
    }
    let document: EventDocument;
    try {
      document = eventDocument(event);
    } catch (err) {
      // An event without a valid time cannot be placed in a daily index.
      this.refused(1, 0, describeError(err));
      return;
    }
    if (this.queue.push({ document, at: Date.now() })) this.drop('overflow', 1);
    this.metrics.buffered.set(this.queue.length);
    if (this.queue.length === 1 || this.queue.length >= this.settings.batchSize) this.wake?.();
  }

  stop(deadline: AbortSignal): Promise<void> {
    this.stopped ??= this.finish(deadline);
    return this.stopped;
  }

  private async finish(deadline: AbortSignal): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const onDeadline = () => this.abort.abort();
    if (deadline.aborted) onDeadline();
    else deadline.addEventListener('abort', onDeadline, { once: true });
    await this.running;
    deadline.removeEventListener('abort', onDeadline);
    this.closed = true;
    this.drop('shutdown', this.queue.take(this.queue.length).length);
    this.metrics.buffered.set(0);
    const dropped = this.dropReports.take();
    if (dropped > 0) this.log.warn({ dropped }, 'event archive: events dropped without being archived');
    await this.store.close();
  }

  private async run(): Promise<void> {
    for (;;) {
      const batch = await this.nextBatch();
      if (batch.length === 0) return;
      await this.deliver(batch);
    }
  }

  /** Waits until a batch is full, its oldest event is `batchAge` old, or the archive stops. */
  private async nextBatch(): Promise<EventDocument[]> {
    const { batchSize, batchAge } = this.settings;
    for (;;) {
      if (this.abort.signal.aborted) return [];
      const oldest = this.queue.peek();
      if (oldest) {
        const wait = oldest.at + batchAge - Date.now();
        if (this.stopping || this.queue.length >= batchSize || wait <= 0) break;
        await this.woken(wait);
      } else if (this.stopping) return [];
      else await this.woken(undefined);
    }
    const batch = this.queue.take(batchSize);
    this.metrics.buffered.set(this.queue.length);
    return batch.map((queued) => queued.document);
  }

  /** Resolves on wake() or after ms (never, when undefined). */
  private woken(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async deliver(documents: EventDocument[]): Promise<void> {
    const { signal } = this.abort;
    try {
      await retryItems(documents, (pending) => this.attempt(pending, signal), {
        backoff: { initialMs: this.settings.retry.initial, maxMs: this.settings.retry.max },
        signal,
        onRetry: (count) => this.metrics.retries.inc(count),
        onRejected: async (refusals) => {
          const first = refusals[0]!;
          this.refused(refusals.length, first.status, first.reason);
        },
      });
    } catch (err) {
      if (!signal.aborted) throw err;
      this.drop('shutdown', this.inFlight);
    } finally {
      this.inFlight = 0;
    }
  }

  /** One write; a failure of the whole request becomes a retry of every document in it. */
  private async attempt(pending: EventDocument[], signal: AbortSignal): Promise<StoreAttempt> {
    this.inFlight = pending.length;
    let result: StoreAttempt;
    try {
      result = await this.store.write(pending, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      this.failed(err);
      return { retry: pending, rejected: [] };
    }
    this.recovered();
    this.metrics.written.inc(pending.length - result.retry.length - result.rejected.length);
    return result;
  }

  private failed(err: unknown): void {
    this.failing = true;
    this.metrics.up.set(0);
    const failures = this.failureReports.occur(1);
    if (failures > 0) {
      this.log.warn(
        { store: this.store.description, err: describeError(err), failures, buffered: this.queue.length },
        'event archive: cannot write to the store; keeping events and retrying',
      );
    }
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.metrics.up.set(1);
    this.failureReports.reset();
    this.log.info({ store: this.store.description }, 'event archive: writing to the store again');
  }

  /** Logs the first refusal of a report interval, with how many there were. */
  private refused(count: number, status: number, reason: string): void {
    this.metrics.rejected.inc(count);
    const reported = this.refusalReports.occur(count);
    if (reported > 0) {
      this.log.warn(
        { store: this.store.description, rejected: reported, status, reason },
        'event archive: the store refused events; they are not archived',
      );
    }
  }

  private drop(reason: 'overflow' | 'shutdown', count: number): void {
    if (count === 0) return;
    this.metrics.dropped.inc({ reason }, count);
    const dropped = this.dropReports.occur(count);
    if (dropped > 0) {
      this.log.warn(
        { dropped, reason, maxBuffered: this.settings.maxBuffered },
        reason === 'overflow'
          ? 'event archive: buffer full; dropping the oldest events'
          : 'event archive: stopped before these events were archived',
      );
    }
  }
}
