import { readFileSync } from 'node:fs';
import { Client, type ClientOptions, Serializer } from '@elastic/elasticsearch';
import { ByteWriter } from './bytes.ts';
import type { ElasticsearchConnection } from './elasticsearch-config.ts';
import type { Logger } from './log.ts';

/**
 * How bulkCreate's answer starts when every document was taken (its
 * filter_path puts `errors` first). The items that follow only repeat, some
 * ten thousand times, that a document was created; parsing them took about
 * 0.6 CPU s per million documents.
 */
const BULK_ALL_TAKEN = '{"errors":false,"items":[';

class ResponseSerializer extends Serializer {
  override deserialize<T = unknown>(json: string): T {
    return (json.startsWith(BULK_ALL_TAKEN) ? { errors: false } : super.deserialize(json)) as T;
  }
}

export function createElasticsearchClient(config: ElasticsearchConnection): Client {
  const options: ClientOptions = {
    nodes: config.nodes,
    Serializer: ResponseSerializer,
    requestTimeout: config.requestTimeout,
    // Retries are ours (per item, with backoff and counters), not the client's blind ones.
    maxRetries: 0,
    compression: false,
  };
  if (config.auth) options.auth = config.auth;
  if (config.tls) {
    options.tls = {
      ca: config.tls.caFile ? readFileSync(config.tls.caFile) : undefined,
      rejectUnauthorized: !config.tls.insecureSkipVerify,
    };
  }
  return new Client(options);
}

/**
 * Daily index names from a pattern such as `lookout-logs-{yyyy.MM.dd}`, by the
 * event's UTC day, so a replayed event lands in the same index under the same id.
 */
export class DailyIndex {
  readonly prefix: string;
  private readonly suffix: string;
  private readonly format: string;
  /** Matches the pattern's names; its groups are the date parts in `parts` order. */
  private readonly shape: RegExp;
  private readonly parts: ('yyyy' | 'MM' | 'dd')[] = [];
  private cacheDay = -1;
  private cacheName = '';

  constructor(pattern: string) {
    const match = /^(.*)\{([^}]+)\}(.*)$/.exec(pattern);
    if (!match) throw new Error(`index pattern "${pattern}" needs a date part such as {yyyy.MM.dd}`);
    this.prefix = match[1]!;
    this.format = match[2]!;
    this.suffix = match[3]!;
    const date = this.format.split(/(yyyy|MM|dd)/).map((part, i) => {
      if (i % 2 === 0) return escapeRegExp(part);
      this.parts.push(part as 'yyyy' | 'MM' | 'dd');
      return part === 'yyyy' ? '(\\d{4})' : '(\\d{2})';
    });
    this.shape = new RegExp(`^${escapeRegExp(this.prefix)}${date.join('')}${escapeRegExp(this.suffix)}$`);
  }

  /**
   * The UTC day (days since the epoch) an index name of this pattern stands
   * for; undefined for any other name, even one the wildcard matches.
   */
  dayOf(name: string): number | undefined {
    const match = this.shape.exec(name);
    if (!match) return undefined;
    const date = { yyyy: 1970, MM: 1, dd: 1 };
    this.parts.forEach((part, i) => {
      date[part] = Number(match[i + 1]);
    });
    const day = Date.UTC(date.yyyy, date.MM - 1, date.dd) / 86_400_000;
    // Out-of-range parts (month 13) roll over in Date.UTC; only a name that round-trips counts.
    return this.forTime(day * 86_400_000) === name ? day : undefined;
  }

  /** Wildcard that matches every daily index of the pattern. */
  get wildcard(): string {
    return `${this.prefix}*${this.suffix}`;
  }

  forTime(ms: number): string {
    const day = Math.floor(ms / 86_400_000);
    if (day !== this.cacheDay) {
      this.cacheDay = day;
      this.cacheName = this.prefix + formatDay(new Date(day * 86_400_000), this.format) + this.suffix;
    }
    return this.cacheName;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function formatDay(date: Date, format: string): string {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return format
    .replace('yyyy', String(date.getUTCFullYear()))
    .replace('MM', pad(date.getUTCMonth() + 1, 2))
    .replace('dd', pad(date.getUTCDate(), 2));
}

const keyword = { type: 'keyword', ignore_above: 1024 };

/**
 * The index template for log records: keywords for the Kubernetes and source
 * fields, match_only_text for the message (positions are not needed for the
 * phrase queries log search makes, and it halves the index size), and strings
 * in parsed fields as keywords so they can be filtered on.
 */
export function logIndexTemplate(
  index: DailyIndex,
  options: { shards?: number; replicas?: number; messageType?: 'match_only_text' | 'text' } = {},
) {
  return {
    index_patterns: [index.wildcard],
    // Same-priority templates with overlapping patterns are refused; a longer prefix is the more specific one.
    priority: 100 + index.prefix.length,
    template: {
      settings: {
        number_of_shards: options.shards ?? 1,
        number_of_replicas: options.replicas ?? 1,
      },
      mappings: {
        dynamic_templates: [
          { kubernetes_labels: { path_match: 'kubernetes.labels.*', mapping: keyword } },
          { strings_as_keywords: { match_mapping_type: 'string', mapping: keyword } },
        ],
        properties: {
          '@timestamp': { type: 'date' },
          message: { type: options.messageType ?? 'match_only_text' },
          log: {
            properties: {
              level: keyword,
              offset: { type: 'long' },
              file: { properties: { path: keyword, id: keyword } },
            },
          },
          kubernetes: {
            properties: {
              namespace: keyword,
              pod: { properties: { name: keyword, uid: keyword } },
              container: { properties: { name: keyword } },
              node: { properties: { name: keyword } },
            },
          },
          host: { properties: { name: keyword } },
          service: { properties: { name: keyword } },
          event: { properties: { id: keyword } },
          lookout: {
            properties: { truncated: { type: 'boolean' }, parse_error: keyword, original_timestamp: keyword },
          },
        },
      },
    },
  };
}

/**
 * Installs the log index template. A cluster without the mapper-extras module
 * (minimal distributions) does not know match_only_text; it then gets `text`,
 * which answers the same queries with a larger index. Returns the type used.
 */
export async function installLogTemplate(
  client: Client,
  index: DailyIndex,
  options: { shards?: number; replicas?: number } = {},
): Promise<'match_only_text' | 'text'> {
  const name = index.prefix.replace(/[^a-z0-9_-]/g, '').replace(/-+$/, '') || 'lookout';
  for (const messageType of ['match_only_text', 'text'] as const) {
    try {
      await client.indices.putIndexTemplate({
        name,
        ...logIndexTemplate(index, { ...options, messageType }),
      } as Parameters<Client['indices']['putIndexTemplate']>[0]);
      return messageType;
    } catch (err) {
      // The reason is nested a few causes deep in the response body, not in the message.
      const detail = JSON.stringify(
        (err as { meta?: { body?: unknown } }).meta?.body ?? (err as Error).message,
      );
      if (messageType === 'text' || !detail.includes('match_only_text')) throw err;
    }
  }
  throw new Error('unreachable');
}

/** What became of one item of a bulk request. */
export type BulkOutcome = 'ok' | 'retry' | 'reject';

/** 201 created and 409 already there are both success: ids are deterministic, so a 409 is a duplicate avoided. */
export function bulkItemOutcome(status: number): BulkOutcome {
  if (status < 300 || status === 409) return 'ok';
  if (status === 429 || status >= 500) return 'retry';
  return 'reject';
}

/** One document for a bulk `create`: stored under `_id = id`, so the same document sent twice is stored once. */
export interface BulkCreateDoc {
  index: string;
  id: string;
  /** The document's JSON on one line. */
  doc: Uint8Array;
}

/** A bulk item the cluster did not store: its position in the request, and why. */
export interface BulkRefusal {
  at: number;
  status: number;
  reason: string;
}

/** What the cluster said of a bulk request's documents; the rest it stored. */
export interface BulkVerdicts {
  /** Too busy or failing (429, 5xx): send again later. */
  retry: BulkRefusal[];
  /** Refused for good (a mapping conflict). */
  rejected: BulkRefusal[];
  /** Positions whose id was already stored (409): the cluster kept the stored document, not this one. */
  existing: number[];
}

interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string };
}

/**
 * Sends one bulk request of `create` actions and sorts its answer with
 * bulkItemOutcome. The body is built from the documents' bytes: no parse and
 * re-serialisation per document.
 */
export async function bulkCreate(
  client: Client,
  docs: readonly BulkCreateDoc[],
  signal?: AbortSignal,
): Promise<BulkVerdicts> {
  const body = new ByteWriter(docs.reduce((n, d) => n + d.doc.length + 100, 0));
  let index: string | undefined;
  let indexJson = '';
  for (const doc of docs) {
    // Consecutive documents mostly share their daily index.
    if (doc.index !== index) {
      index = doc.index;
      indexJson = JSON.stringify(index);
    }
    body
      .text(`{"create":{"_index":${indexJson},"_id":${JSON.stringify(doc.id)}}}\n`)
      .bytes(doc.doc)
      .byte(0x0a);
  }
  const response = (await client.transport.request(
    {
      method: 'POST',
      path: '/_bulk',
      bulkBody: body.finish(),
      querystring: { filter_path: 'errors,items.*.status,items.*.error.type,items.*.error.reason' },
    },
    { signal },
  )) as { errors: boolean; items?: Record<string, BulkItem>[] };
  const verdicts: BulkVerdicts = { retry: [], rejected: [], existing: [] };
  if (!response.errors) return verdicts;
  for (let at = 0; at < docs.length; at++) {
    const outcome = Object.values(response.items?.[at] ?? {})[0];
    if (!outcome) {
      verdicts.retry.push({ at, status: 500, reason: 'no answer for this item' });
      continue;
    }
    if (outcome.status === 409) verdicts.existing.push(at);
    const verdict = bulkItemOutcome(outcome.status);
    if (verdict === 'ok') continue;
    const reason = `${outcome.error?.type ?? 'error'}: ${outcome.error?.reason ?? 'refused'}`;
    verdicts[verdict === 'retry' ? 'retry' : 'rejected'].push({ at, status: outcome.status, reason });
  }
  return verdicts;
}

/**
 * Installs the log template for an index pattern on first use; a cluster
 * that could not be reached is asked again at the next call.
 */
export function templateInstaller(
  client: Client,
  index: DailyIndex,
  options: { install: boolean; shards?: number; replicas?: number },
  log: Logger | undefined,
  fields: Record<string, unknown> = {},
): () => Promise<void> {
  let installed: Promise<void> | undefined;
  return () => {
    if (!options.install) return Promise.resolve();
    installed ??= installLogTemplate(client, index, options).then(
      (messageType) => {
        const about = { ...fields, pattern: index.wildcard, messageType };
        if (messageType === 'text')
          log?.warn(about, 'cluster has no match_only_text; message is mapped as text');
        else log?.info(about, 'index template installed');
      },
      (err: unknown) => {
        installed = undefined;
        throw err;
      },
    );
    return installed;
  };
}
