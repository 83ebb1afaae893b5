import type { Client } from '@elastic/elasticsearch';
import { bulkChunks } from '../../core/bulk-chunks.ts';
import { redactUrl } from '../../core/config-types.ts';
import {
  bulkCreate,
  createElasticsearchClient,
  DailyIndex,
  templateInstaller,
} from '../../core/elasticsearch.ts';
import type { Logger } from '../../core/log.ts';
import type { ArchiveStore, StoreAttempt } from './archive.ts';
import type { ElasticsearchArchiveConfig } from './config.ts';
import type { EventDocument } from './document.ts';

/**
 * Daily indices (`lookout-logs-YYYY.MM.DD`, the collector's) by the event's last time, written
 * with bulk `create` and `_id = event.id`: an occurrence written twice (a
 * re-list, a retried request) is stored once, its 409 counted as success.
 */
export class ElasticsearchArchive implements ArchiveStore {
  readonly description: string;
  private readonly config: ElasticsearchArchiveConfig;
  private readonly client: Client;
  private readonly index: DailyIndex;
  private readonly ensureTemplate: () => Promise<void>;

  constructor(config: ElasticsearchArchiveConfig, log: Logger) {
    this.config = config;
    this.client = createElasticsearchClient(config);
    this.index = new DailyIndex(config.index);
    this.ensureTemplate = templateInstaller(
      this.client,
      this.index,
      { install: config.installTemplate, shards: config.shards, replicas: config.replicas },
      log,
      { store: 'event archive' },
    );
    this.description = `elasticsearch ${config.nodes.map(redactUrl).join(',')} ${this.index.wildcard}`;
  }

  async write(documents: EventDocument[], signal: AbortSignal): Promise<StoreAttempt> {
    await this.ensureTemplate();
    const items = documents.map((document) => ({
      document,
      index: this.index.forTime(Date.parse(document['@timestamp'])),
      id: document.event.id,
      doc: Buffer.from(JSON.stringify(document)),
    }));
    const result: StoreAttempt = { retry: [], rejected: [] };
    for (const chunk of bulkChunks(items, (item) => item.doc.length, {
      maxDocs: items.length,
      maxBytes: this.config.bulkMaxBytes,
    })) {
      const verdicts = await bulkCreate(this.client, chunk, signal);
      for (const { at } of verdicts.retry) result.retry.push(chunk[at]!.document);
      for (const { at, status, reason } of verdicts.rejected)
        result.rejected.push({ document: chunk[at]!.document, status, reason });
    }
    return result;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
