import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { request } from 'undici';
import { redactUrl } from '../../core/config-types.ts';
import type { ArchiveStore, StoreAttempt } from './archive.ts';
import type { CollectorArchiveConfig } from './config.ts';
import type { EventDocument } from './document.ts';

const gzipAsync = promisify(gzip);

/** The collector's answer to an ingest request: which lines it refused, and why. */
interface IngestResponse {
  accepted?: number;
  errors?: { line: number; status: number; reason: string }[];
}

/**
 * NDJSON (gzip) to a collector's `POST /api/ingest`, which answers once the
 * records are durable and stores each `event.id` once. Lines refused with
 * 429/5xx are sent again; other refusals, and a whole request refused with a
 * 4xx (a bad token, a body too large), are refused for good.
 */
export class CollectorArchive implements ArchiveStore {
  readonly description: string;
  private readonly config: CollectorArchiveConfig;
  private readonly endpoint: string;

  constructor(config: CollectorArchiveConfig) {
    this.config = config;
    this.endpoint = new URL(
      'api/ingest',
      config.url.endsWith('/') ? config.url : `${config.url}/`,
    ).toString();
    this.description = `collector ${redactUrl(this.endpoint)}`;
  }

  async write(documents: EventDocument[], signal: AbortSignal): Promise<StoreAttempt> {
    const body = await gzipAsync(documents.map((document) => `${JSON.stringify(document)}\n`).join(''));
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    };
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    const response = await request(this.endpoint, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.timeout)]),
    });
    const text = await response.body.text();
    const { statusCode } = response;
    if (statusCode === 429 || statusCode >= 500) {
      throw new Error(`collector answered ${statusCode}: ${text.slice(0, 200)}`);
    }
    if (statusCode !== 200) {
      const reason = `collector refused the request (${statusCode}): ${text.slice(0, 200)}`;
      return { retry: [], rejected: documents.map((document) => ({ document, status: statusCode, reason })) };
    }
    const answer = JSON.parse(text) as IngestResponse;
    const result: StoreAttempt = { retry: [], rejected: [] };
    for (const error of answer.errors ?? []) {
      const document = documents[error.line];
      if (!document) continue;
      if (error.status === 429 || error.status >= 500) result.retry.push(document);
      else result.rejected.push({ document, status: error.status, reason: error.reason });
    }
    return result;
  }

  async close(): Promise<void> {}
}
