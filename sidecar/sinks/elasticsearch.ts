import type { Client } from '@elastic/elasticsearch';
import {
  bulkChunks,
  bulkItemOutcome,
  createElasticsearchClient,
  DailyIndex,
  installLogTemplate,
} from '../../core/elasticsearch.ts';
import type { Logger } from '../../core/log.ts';
import { ByteWriter } from '../bytes.ts';
import type { ElasticsearchSinkConfig } from './config.ts';
import type { AttemptResult, ItemDelivery } from './item-retry.ts';
import type { Batch, Entry, Sink } from './sink.ts';

const NEWLINE = 0x0a;

interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string };
}

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
  private readonly log: Logger;
  private template: Promise<void> | undefined;

  constructor(name: string, config: ElasticsearchSinkConfig, items: ItemDelivery, log: Logger) {
    this.name = name;
    this.config = config;
    this.client = createElasticsearchClient(config);
    this.index = new DailyIndex(config.index);
    this.items = items;
    this.log = log;
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
    // The body is built from the stored record bytes: no parse and re-serialise per event.
    const body = new ByteWriter(entries.reduce((n, e) => n + e.doc.length + 100, 0));
    for (const entry of entries) {
      body
        .text(
          `{"create":{"_index":${JSON.stringify(this.index.forTime(entry.time))},"_id":${JSON.stringify(entry.id)}}}\n`,
        )
        .bytes(entry.doc)
        .byte(NEWLINE);
    }
    const response = (await this.client.transport.request(
      {
        method: 'POST',
        path: '/_bulk',
        bulkBody: body.finish(),
        querystring: { filter_path: 'errors,items.*.status,items.*.error' },
      },
      { signal },
    )) as { errors: boolean; items?: Record<string, BulkItem>[] };
    const result: AttemptResult = { retry: [], rejected: [] };
    if (!response.errors) return result;
    response.items?.forEach((item, i) => {
      const outcome = Object.values(item)[0]!;
      const verdict = bulkItemOutcome(outcome.status);
      if (verdict === 'retry') result.retry.push(entries[i]!);
      else if (verdict === 'reject') {
        const reason = `${outcome.error?.type ?? 'error'}: ${outcome.error?.reason ?? 'refused'}`;
        result.rejected.push({ entry: entries[i]!, status: outcome.status, reason });
      }
    });
    return result;
  }

  /** Installed once per process; retried on the next delivery if the cluster was unreachable. */
  private ensureTemplate(): Promise<void> {
    if (!this.config.installTemplate) return Promise.resolve();
    this.template ??= installLogTemplate(this.client, this.index, {
      shards: this.config.shards,
      replicas: this.config.replicas,
    }).then(
      (messageType) => {
        const fields = { sink: this.name, pattern: this.index.wildcard, messageType };
        if (messageType === 'text')
          this.log.warn(fields, 'cluster has no match_only_text; message is mapped as text');
        else this.log.info(fields, 'index template installed');
      },
      (err: unknown) => {
        this.template = undefined;
        throw err;
      },
    );
    return this.template;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
