import type { Client } from '@elastic/elasticsearch';
import { bulkChunks } from '../../core/bulk-chunks.ts';
import {
  bulkCreate,
  createElasticsearchClient,
  DailyIndex,
  templateInstaller,
} from '../../core/elasticsearch.ts';
import type { Logger } from '../../core/log.ts';
import type { ElasticsearchSinkConfig } from './config.ts';
import type { AttemptResult, ItemDelivery } from './item-retry.ts';
import type { Batch, Entry, Sink } from './sink.ts';

/**
 * Bulk `create` with `_id = event.id`: a record sent twice is stored once
 * (409 is success). 429 and 5xx items are retried with backoff; other refusals
 * (mapping conflicts) go to the dead-letter file.
 */
export class ElasticsearchSink implements Sink {
  readonly name: string;
  private readonly config: ElasticsearchSinkConfig;
  private readonly client: Client;
  private readonly index: DailyIndex;
  private readonly items: ItemDelivery;
  private readonly ensureTemplate: () => Promise<void>;

  constructor(name: string, config: ElasticsearchSinkConfig, items: ItemDelivery, log: Logger) {
    this.name = name;
    this.config = config;
    this.client = createElasticsearchClient(config);
    this.index = new DailyIndex(config.index);
    this.items = items;
    this.ensureTemplate = templateInstaller(
      this.client,
      this.index,
      { install: config.installTemplate, shards: config.shards, replicas: config.replicas },
      log,
      { sink: name },
    );
  }

  async deliver(batches: Batch[], signal: AbortSignal): Promise<void> {
    await this.ensureTemplate();
    const entries = batches.flatMap((b) => b.entries);
    for (const chunk of bulkChunks(entries, (e) => e.doc.length, {
      maxDocs: this.config.bulkMaxDocs,
      maxBytes: this.config.bulkMaxBytes,
    })) {
      await this.items.deliver(chunk, (pending) => this.bulk(pending, signal), signal);
    }
  }

  private async bulk(entries: Entry[], signal: AbortSignal): Promise<AttemptResult> {
    const docs = entries.map((e) => ({ index: this.index.forTime(e.time), id: e.id, doc: e.doc }));
    const verdicts = await bulkCreate(this.client, docs, signal);
    return {
      retry: verdicts.retry.map(({ at }) => entries[at]!),
      rejected: verdicts.rejected.map(({ at, status, reason }) => ({ entry: entries[at]!, status, reason })),
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
