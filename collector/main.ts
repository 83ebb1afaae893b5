import { join } from 'node:path';
import { type BackoffOptions, RetryStreak, sleep } from '../core/backoff.ts';
import type { ComponentContext } from '../core/component.ts';
import { describeError } from '../core/errors.ts';
import type { HttpApp } from '../core/http.ts';
import type { Service } from '../core/lifecycle.ts';
import { memoryLimit } from '../core/memory-limit.ts';
import { optimizeHeapForSize } from '../core/v8-heap.ts';
import type { CollectorConfig } from './config.ts';
import type { LogConsumer } from './consume/consumer.ts';
import { defaultMaxBytesInFlight } from './consume/in-flight.ts';
import { registerReadApi } from './http/api.ts';
import { registerIngest } from './http/ingest.ts';
import { COLLECTOR_METRICS } from './metrics.ts';
import { recordRules } from './records.ts';
import type { LogStore } from './store/store.ts';
import { StoreHandle } from './store-handle.ts';
import { StoreWriter } from './store-writer.ts';

const DAY_MS = 86_400_000;

/**
 * The collector: Kafka (and HTTP ingest) into the log store, and log search
 * over it. The store is Elasticsearch when configured, else the embedded one
 * in the data directory.
 */
export class Collector implements Service<CollectorConfig> {
  readonly name = 'collector';
  private config: CollectorConfig;
  private readonly ctx: ComponentContext<HttpApp>;
  private readonly store = new StoreHandle();
  private consumer: LogConsumer | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  /** The store of this start, opened or not: closed at stop either way. */
  private created: LogStore | undefined;
  private opening: AbortController | undefined;
  private opened: Promise<void> | undefined;

  constructor(config: CollectorConfig, ctx: ComponentContext<HttpApp>) {
    this.config = config;
    this.ctx = ctx;
    const { app, readiness } = ctx.http;
    registerIngest(app, {
      store: this.store,
      maxBodyBytes: config.ingest.maxBodyBytes,
      maxLines: config.ingest.maxLines,
      rules: recordRules(config.records),
      metrics: ctx.metrics,
    });
    registerReadApi(app, this.store, () => this.config);
    readiness.add('log store', () => this.store.ping(AbortSignal.timeout(2_000)));
    readiness.add('kafka', () => !this.config.kafka || (this.consumer?.healthy ?? false));
  }

  async start(): Promise<void> {
    const { config, ctx } = this;
    if (config.optimizeHeapForSize) optimizeHeapForSize();
    // Loading the Kafka client overlaps with opening the store.
    const consumerModule = config.kafka && import('./consume/consumer.ts');
    const store = await this.createStore(config);
    this.created = store;
    this.opening = new AbortController();
    // Usually the store opens at once, and the API serves it from the first request.
    const open = await this.tryOpen(store, true);
    this.opened = this.openAndConsume(store, open, consumerModule, this.opening.signal);
    ctx.log.info({ store: store.kind, kafka: config.kafka?.topics ?? null }, 'collector started');
  }

  async stop(deadline: AbortSignal): Promise<void> {
    clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    this.opening?.abort();
    await this.opened;
    this.opened = undefined;
    await this.consumer?.stop(deadline);
    this.consumer = undefined;
    this.store.current = undefined;
    await this.created?.close();
    this.created = undefined;
  }

  /** Any change restarts the consumer and reopens the store; routes stay. */
  async reload(next: CollectorConfig, deadline: AbortSignal): Promise<void> {
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    await this.stop(deadline);
    this.config = next;
    await this.start();
  }

  /**
   * A store that cannot be opened yet (Elasticsearch unreachable) must not
   * stop the process: under Kubernetes that is a crash loop whose back-off
   * outlasts the outage. It is opened again with backoff while readiness is
   * red (the routes answer 503), and Kafka is consumed only once it takes
   * writes. An open store is served before the first await.
   */
  private async openAndConsume(
    store: LogStore,
    open: boolean,
    consumerModule: Promise<typeof import('./consume/consumer.ts')> | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const { config, ctx } = this;
    const backoff: BackoffOptions = { initialMs: config.retry.initial, maxMs: config.retry.max };
    const retry = new RetryStreak({ backoff });
    while (!open) {
      await sleep(retry.fail(), signal).catch(() => {});
      if (signal.aborted) return;
      open = await this.tryOpen(store, false);
    }
    this.store.current = store;
    this.scheduleRetention();
    if (!config.kafka || !consumerModule) return;
    const { LogConsumer } = await consumerModule;
    if (signal.aborted) return;
    const retried = ctx.metrics.counter(COLLECTOR_METRICS.storeRetries);
    this.consumer = new LogConsumer({
      connection: config.kafka,
      topics: config.kafka.topics,
      groupId: config.kafka.groupId,
      deadLetterTopic: config.kafka.deadLetterTopic,
      fromBeginning: config.kafka.fromBeginning,
      writer: new StoreWriter(store, backoff, (n) => retried.inc(n)),
      rules: recordRules(config.records),
      backoff,
      maxBytesInFlight: config.kafka.maxBytesInFlight ?? defaultMaxBytesInFlight(memoryLimit()),
      log: ctx.log,
      metrics: ctx.metrics,
    });
    this.consumer.start();
  }

  private async tryOpen(store: LogStore, first: boolean): Promise<boolean> {
    try {
      await store.open();
      if (!first) this.ctx.log.info({ store: store.kind }, 'log store opened');
      return true;
    } catch (err) {
      if (first)
        this.ctx.log.warn(
          { err: describeError(err) },
          'cannot open the log store yet; retrying in the background, not ready meanwhile',
        );
      return false;
    }
  }

  /** The store, not opened yet: the routes answer 503 until it is. */
  private async createStore(config: CollectorConfig): Promise<LogStore> {
    if (config.elasticsearch) {
      const { ElasticsearchStore } = await import('./store/elasticsearch-store.ts');
      return new ElasticsearchStore(config.elasticsearch, { log: this.ctx.log });
    }
    const { EmbeddedStore } = await import('./store/embedded/store.ts');
    return new EmbeddedStore({ dir: join(this.ctx.dataDir, 'collector', 'store'), log: this.ctx.log });
  }

  private scheduleRetention(): void {
    const run = () => {
      const { days } = this.config.retention;
      const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      this.store
        .deleteBefore(today - (days - 1) * DAY_MS)
        .then((deleted) => {
          if (deleted.length > 0) this.ctx.log.info({ deleted, days }, 'retention deleted old days');
        })
        .catch((err: unknown) =>
          this.ctx.log.warn({ err: describeError(err) }, 'retention failed; will retry'),
        );
    };
    run();
    this.retentionTimer = setInterval(run, this.config.retention.checkInterval);
    this.retentionTimer.unref();
  }
}
