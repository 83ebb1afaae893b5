import { request } from 'undici';
import { z } from 'zod';
import { backoffDelay, sleep } from '../../core/backoff.ts';
import { byteSize, duration, redactUrl } from '../../core/config-types.ts';
import {
  type HttpTarget,
  httpTargetSchema,
  openHttpTarget,
  readBodyLimited,
} from '../../core/http-target.ts';
import type { RemoteWriter, TimedSample } from '../types.ts';
import { snappyCompress } from './snappy.ts';
import { encodeWriteRequest, type SeriesSamples } from './write-request.ts';

export const remoteWriteSchema = httpTargetSchema.extend({
  /** One request, from connecting to the end of the answer. */
  timeout: duration().default(30_000),
  /** Prometheus's own remote write sends at most 2,000 samples a request by default. */
  maxSamplesPerRequest: z.number().int().positive().default(2_000),
  retry: z
    .strictObject({
      /** Attempts of one request, the first included, before its samples are dropped. */
      maxAttempts: z.number().int().positive().default(5),
      initialBackoff: duration().default(100),
      maxBackoff: duration().default(5_000),
    })
    .default({ maxAttempts: 5, initialBackoff: 100, maxBackoff: 5_000 }),
  /** Of an error answer, only this much is read for its message. */
  maxErrorBytes: byteSize().default(64 * 1024),
  maxConnections: z.number().int().positive().default(4),
});
export type RemoteWriteConfig = z.output<typeof remoteWriteSchema>;

/** Samples not written: the receiver refused them (4xx) or kept failing (5xx, 429, unreachable). */
export class RemoteWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteWriteError';
  }
}

export interface RemoteWriteOptions {
  /** Told of every request whose samples are dropped, with the receiver's reason. */
  onDropped?: (samples: number, reason: string) => void;
  /** For the backoff's jitter; injectable so tests are repeatable. */
  random?: () => number;
}

type Outcome =
  | { kind: 'written' }
  | { kind: 'drop'; reason: string }
  /** retryAfterMs: what the receiver asked for with Retry-After. */
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

/** Prometheus remote write 1.0: snappy-compressed protobuf `WriteRequest`s. */
export class RemoteWriteClient implements RemoteWriter {
  private readonly config: RemoteWriteConfig;
  private readonly options: RemoteWriteOptions;
  private readonly target: HttpTarget;
  private readonly closing = new AbortController();
  private written = 0;
  private dropped = 0;

  constructor(config: RemoteWriteConfig, options: RemoteWriteOptions = {}) {
    this.config = config;
    this.options = options;
    this.target = openHttpTarget(config, config.maxConnections);
  }

  get writtenSamples(): number {
    return this.written;
  }

  get droppedSamples(): number {
    return this.dropped;
  }

  /**
   * Resolves once every sample is written, or dropped because the receiver
   * refused it (4xx: sending it again would not help). Rejects when a request
   * still failed after its retries; those samples are dropped too.
   */
  async write(samples: readonly TimedSample[]): Promise<void> {
    const failures: string[] = [];
    for (let start = 0; start < samples.length; start += this.config.maxSamplesPerRequest) {
      const batch = samples.slice(start, start + this.config.maxSamplesPerRequest);
      const failure = await this.send(batch.length, toSeries(batch));
      if (failure) failures.push(failure);
    }
    if (failures.length > 0) throw new RemoteWriteError(`remote write failed: ${failures.join('; ')}`);
  }

  /** Stops retries and requests in flight, then closes the connections. */
  async close(): Promise<void> {
    this.closing.abort(new Error('the remote writer is closed'));
    await this.target.close();
  }

  /** Undefined once written or refused; the last reason when the retries ran out. */
  private async send(count: number, series: SeriesSamples[]): Promise<string | undefined> {
    const body = snappyCompress(encodeWriteRequest(series));
    const { maxAttempts, initialBackoff, maxBackoff } = this.config.retry;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.post(body);
      if (outcome.kind === 'written') {
        this.written += count;
        return undefined;
      }
      if (outcome.kind === 'drop' || attempt >= maxAttempts) {
        const reason =
          outcome.kind === 'drop' ? outcome.reason : `${outcome.reason} (after ${attempt} attempts)`;
        this.dropped += count;
        this.options.onDropped?.(count, reason);
        return outcome.kind === 'drop' ? undefined : reason;
      }
      const backoff = backoffDelay(
        attempt - 1,
        { initialMs: initialBackoff, maxMs: maxBackoff },
        this.options.random,
      );
      // A receiver's Retry-After is honoured up to maxBackoff, so a write still ends in bounded time.
      const delay = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, maxBackoff));
      await sleep(delay, this.closing.signal).catch(() => {
        throw this.closing.signal.reason;
      });
    }
  }

  private async post(body: Buffer): Promise<Outcome> {
    try {
      const response = await request(this.target.url('api/v1/write'), {
        method: 'POST',
        dispatcher: this.target.dispatcher,
        headers: {
          ...(await this.target.headers()),
          'content-encoding': 'snappy',
          'content-type': 'application/x-protobuf',
          'user-agent': 'lookout-alert-rules',
          'x-prometheus-remote-write-version': '0.1.0',
        },
        body,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.config.timeout)]),
      });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        response.body.resume();
        return { kind: 'written' };
      }
      const reason = `HTTP ${status}: ${await errorMessage(response, this.config.maxErrorBytes)}`;
      if (status !== 429 && status < 500) return { kind: 'drop', reason };
      return { kind: 'retry', reason, retryAfterMs: retryAfterMs(response.headers['retry-after']) };
    } catch (err) {
      if (this.closing.signal.aborted) throw this.closing.signal.reason;
      return { kind: 'retry', reason: `${redactUrl(this.config.url)}: ${(err as Error).message}` };
    }
  }
}

const MESSAGE_CHARS = 500;

/** Retry-After in seconds or as an HTTP date. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

async function errorMessage(response: Parameters<typeof readBodyLimited>[0], limit: number): Promise<string> {
  try {
    const text = (await readBodyLimited(response, limit)).toString('utf8').trim();
    return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text || '(no message)';
  } catch (err) {
    return (err as Error).message;
  }
}

/** One series per label set, labels sorted by name without empty values, samples in time order. */
function toSeries(samples: readonly TimedSample[]): SeriesSamples[] {
  const byKey = new Map<
    string,
    { labels: [string, string][]; samples: { value: number; timeMs: number }[] }
  >();
  for (const sample of samples) {
    const labels = Object.entries(sample.labels)
      .filter(([, value]) => value !== '')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify(labels);
    let series = byKey.get(key);
    if (!series) {
      series = { labels, samples: [] };
      byKey.set(key, series);
    }
    series.samples.push({ value: sample.value, timeMs: sample.timeMs });
  }
  const series = [...byKey.values()];
  for (const one of series) one.samples.sort((a, b) => a.timeMs - b.timeMs);
  return series;
}
