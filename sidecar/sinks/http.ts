import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { request } from 'undici';
import type { HttpSinkConfig } from './config.ts';
import type { AttemptResult, ItemDelivery } from './item-retry.ts';
import type { Batch, Entry, Sink } from './sink.ts';

const NEWLINE = Buffer.from('\n');

const gzipAsync = promisify(gzip);

/** The collector's answer to an ingest request: which lines it refused, and why. */
interface IngestResponse {
  accepted?: number;
  errors?: { line: number; status: number; reason: string }[];
}

/**
 * NDJSON (gzip) to a collector's `POST /api/ingest`, which answers only once
 * the records are durable. Per-line refusals follow the same rules as
 * Elasticsearch items: 429/5xx are retried, other 4xx dead-lettered.
 */
export class HttpSink implements Sink {
  readonly name: string;
  private readonly config: HttpSinkConfig;
  private readonly items: ItemDelivery;

  constructor(name: string, config: HttpSinkConfig, items: ItemDelivery) {
    this.name = name;
    this.config = config;
    this.items = items;
  }

  deliver(batches: Batch[], signal: AbortSignal): Promise<void> {
    const entries = batches.flatMap((b) => b.entries);
    return this.items.deliver(entries, (pending) => this.post(pending, signal), signal);
  }

  private async post(entries: Entry[], signal: AbortSignal): Promise<AttemptResult> {
    let body = Buffer.concat(entries.flatMap((e) => [e.doc, NEWLINE]));
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.config.gzip) {
      body = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    const response = await request(this.config.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.timeout)]),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      // The whole request failed (auth, overload, collector down): the runner retries it as a unit.
      throw new Error(`collector answered ${response.statusCode}: ${text.slice(0, 200)}`);
    }
    const answer = JSON.parse(text) as IngestResponse;
    const result: AttemptResult = { retry: [], rejected: [] };
    for (const error of answer.errors ?? []) {
      const entry = entries[error.line];
      if (!entry) continue;
      if (error.status === 429 || error.status >= 500) result.retry.push(entry);
      else result.rejected.push({ entry, status: error.status, reason: error.reason });
    }
    return result;
  }

  async close(): Promise<void> {}
}
