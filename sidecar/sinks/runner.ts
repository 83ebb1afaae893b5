import { type BackoffOptions, RetryStreak, sleep } from '../../core/backoff.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import type { QueueReader, QueueRecord } from '../queue/queue.ts';
import type { Batch, Sink } from './sink.ts';

export interface SinkRunnerOptions {
  sink: Sink;
  reader: QueueReader;
  decode(payload: Buffer): Batch;
  /** Queue bytes taken per delivery. */
  batchBytes: number;
  backoff: BackoffOptions;
  log: Logger;
  metrics: Metrics;
}

/**
 * Moves one sink's cursor through the queue: read, deliver, and acknowledge
 * only what the destination confirmed. A failing destination is retried with
 * backoff indefinitely; it holds only its own cursor, never the other sinks.
 */
export class SinkRunner {
  private readonly opts: SinkRunnerOptions;
  /** Aborted by stop(): no more reads or retries. */
  private readonly stopping = new AbortController();
  /** Aborted at the shutdown deadline: cuts a delivery still in flight. */
  private readonly cut = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly retry: RetryStreak;
  private readonly events;

  constructor(opts: SinkRunnerOptions) {
    this.opts = opts;
    this.retry = new RetryStreak({ backoff: opts.backoff });
    this.events = opts.metrics.counter(SIDECAR_METRICS.sinkEvents);
  }

  get name(): string {
    return this.opts.sink.name;
  }

  get healthy(): boolean {
    return this.retry.failingSince === undefined;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Finishes the delivery in flight (until the deadline), then stops. Unsent records stay queued. */
  async stop(deadline?: AbortSignal): Promise<void> {
    this.stopping.abort(new Error('stopping'));
    if (deadline?.aborted) this.cut.abort(deadline.reason);
    deadline?.addEventListener('abort', () => this.cut.abort(deadline.reason), { once: true });
    await this.loop;
    await this.opts.sink.close();
  }

  private async run(): Promise<void> {
    const { reader, sink, log } = this.opts;
    while (!this.stopping.signal.aborted) {
      let records: QueueRecord[];
      try {
        records = await reader.read(this.opts.batchBytes, this.stopping.signal);
      } catch {
        return;
      }
      if (records.length === 0) continue;
      const batches = records.map((r) => this.opts.decode(r.payload));
      const count = batches.reduce((n, b) => n + b.entries.length, 0);
      for (;;) {
        try {
          this.events.inc({ sink: sink.name, outcome: 'sent' }, count);
          await sink.deliver(batches, this.cut.signal);
          break;
        } catch (err) {
          this.events.inc({ sink: sink.name, outcome: 'failed' }, count);
          if (this.cut.signal.aborted) return;
          const delayMs = this.retry.fail();
          if (this.retry.failures === 1) {
            log.warn({ sink: sink.name, err: describeError(err) }, 'sink failing; retrying with backoff');
          }
          try {
            await sleep(delayMs, this.stopping.signal);
          } catch {
            return;
          }
        }
      }
      const downMs = this.retry.succeed();
      if (downMs !== undefined) log.info({ sink: sink.name, downSeconds: downMs / 1000 }, 'sink recovered');
      await reader.ack(records.at(-1)!);
      this.events.inc({ sink: sink.name, outcome: 'acked' }, count);
    }
  }
}
