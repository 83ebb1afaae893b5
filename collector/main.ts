import { join } from 'node:path';
import type { BackoffOptions } from '../core/backoff.ts';
import type { ComponentContext } from '../core/component.ts';
import { describeError } from '../core/errors.ts';
import type { Service } from '../core/lifecycle.ts';
import type { CollectorConfig } from './config.ts';
import type { LogConsumer } from './consumer.ts';
import { registerExport } from './http/export.ts';
import { registerIngest } from './http/ingest.ts';
import { registerSearch } from './http/search.ts';
import { registerTail } from './http/tail.ts';
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
  private readonly ctx: ComponentContext;
  private readonly store = new StoreHandle();
  private consumer: LogConsumer | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(config: CollectorConfig, ctx: ComponentContext) {
    this.config = config;
    this.ctx = ctx;
    const { app, readiness } = ctx.http;
    const limits = config.search;
    registerIngest(app, {
      store: this.store,
      maxBodyBytes: config.ingest.maxBodyBytes,
      maxLines: config.ingest.maxLines,
      rules: recordRules(config.records),
      metrics: ctx.metrics,
    });
    registerSearch(app, this.store, limits);
    registerTail(app, {
      store: this.store,
      limits,
      intervalMs: config.tail.interval,
      lookbackMs: config.tail.lookback,
    });
    registerExport(app, { store: this.store, limits, maxRows: config.search.exportMaxRows });
    readiness.add('log store', () => this.store.ping(AbortSignal.timeout(2_000)));
    readiness.add('kafka', () => !this.config.kafka || (this.consumer?.healthy ?? false));
  }

  async start(): Promise<void> {
    const { config, ctx } = this;
    // Loading the Kafka client overlaps with opening the store.
    const consumerModule = config.kafka && import('./consumer.ts');
    const store = await this.openStore(config);
    this.store.current = store;
    if (config.kafka && consumerModule) {
      const { LogConsumer } = await consumerModule;
      const backoff: BackoffOptions = { initialMs: config.retry.initial, maxMs: config.retry.max };
      const retried = ctx.metrics.counter(
        'collector_store_retries_total',
        'Records written again after a 429/5xx',
      );
      this.consumer = new LogConsumer({
        connection: config.kafka,
        topics: config.kafka.topics,
        groupId: config.kafka.groupId,
        deadLetterTopic: config.kafka.deadLetterTopic,
        fromBeginning: config.kafka.fromBeginning,
        writer: new StoreWriter(store, backoff, (n) => retried.inc(n)),
        rules: recordRules(config.records),
        backoff,
        log: ctx.log,
        metrics: ctx.metrics,
      });
      this.consumer.start();
    }
    this.scheduleRetention();
    ctx.log.info({ store: store.kind, kafka: config.kafka?.topics ?? null }, 'collector started');
  }

  async stop(): Promise<void> {
    clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    await this.consumer?.stop();
    this.consumer = undefined;
    const store = this.store.current;
    this.store.current = undefined;
    await store?.close();
  }

  /** Any change restarts the consumer and reopens the store; routes stay. */
  async reload(next: CollectorConfig): Promise<void> {
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    await this.stop();
    this.config = next;
    await this.start();
  }

  private async openStore(config: CollectorConfig): Promise<LogStore> {
    let store: LogStore;
    if (config.elasticsearch) {
      const { ElasticsearchStore } = await import('./store/elasticsearch-store.ts');
      store = new ElasticsearchStore(config.elasticsearch, { log: this.ctx.log });
    } else {
      const { EmbeddedStore } = await import('./store/embedded-store.ts');
      store = new EmbeddedStore({ dir: join(this.ctx.dataDir, 'collector', 'store'), log: this.ctx.log });
    }
    await store.open();
    return store;
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
