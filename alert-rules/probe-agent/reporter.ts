import { RetryStreak } from '../../core/backoff.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { PROBE_AGENT_METRICS as M } from '../probes/metrics.ts';
import { type CentreClient, RefusedError } from './centre-client.ts';
import type { ProbeAgentConfig } from './config.ts';
import type { ResultsBuffer } from './results-buffer.ts';

export interface ReporterOptions {
  config: ProbeAgentConfig;
  buffer: ResultsBuffer;
  client: Pick<CentreClient, 'post'>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/**
 * Posts the buffered results to the centre, oldest first, one batch at a
 * time, and acknowledges them in the buffer once the centre took them; an
 * empty batch every `reportInterval` when there is nothing to say, so the
 * centre knows the agent is alive. A failed post is tried again after a
 * growing wait, with the same results (the centre recognises their numbers).
 */
export class Reporter {
  private readonly options: ReporterOptions;
  private wake = new AbortController();
  private readonly deliveries;
  private readonly lastDelivery;
  private readonly dropped;

  constructor(options: ReporterOptions) {
    this.options = options;
    this.deliveries = options.metrics.counter(M.deliveries);
    this.lastDelivery = options.metrics.gauge(M.lastDelivery);
    this.dropped = options.metrics.counter(M.dropped);
  }

  /** New results wait: a reporter idle until its next heartbeat sends them now. */
  notify(): void {
    this.wake.abort();
  }

  async run(stopping: AbortSignal): Promise<void> {
    const { config, buffer, clock, log } = this.options;
    const streak = new RetryStreak({ backoff: { initialMs: config.retry.initial, maxMs: config.retry.max } });
    let batchSize = config.maxBatchResults;
    let lastSentAtMs = 0;
    while (!stopping.aborted) {
      const results = buffer.peek(batchSize);
      const idleMs = lastSentAtMs + config.reportInterval - clock.now();
      if (results.length === 0 && idleMs > 0) {
        this.wake = new AbortController();
        await clock.sleep(idleMs, AbortSignal.any([stopping, this.wake.signal]));
        continue;
      }
      try {
        const batch = { agent: buffer.agent, location: config.location, sentAtMs: clock.now(), results };
        const receipt = await this.options.client.post(batch, stopping);
        lastSentAtMs = clock.now();
        if (results.length > 0) await buffer.ack(results.at(-1)!.seq);
        this.deliveries.inc({ outcome: 'accepted' });
        this.lastDelivery.set(lastSentAtMs / 1000);
        batchSize = config.maxBatchResults;
        const failedFor = streak.succeed();
        if (failedFor !== undefined)
          log.info({ failedForMs: failedFor, ...receipt }, 'The centre takes probe results again');
      } catch (err) {
        if (stopping.aborted) break;
        if (err instanceof RefusedError && err.status === 413 && results.length > 1) {
          batchSize = Math.ceil(results.length / 2);
          continue;
        }
        if (err instanceof RefusedError && results.length > 0) {
          // Sending it again would be refused again, and hold up every result after it.
          this.deliveries.inc({ outcome: 'refused' });
          this.dropped.inc(results.length);
          log.error(
            { err: err.message, results: results.length },
            'The centre refused a batch of results; dropped',
          );
          await buffer.ack(results.at(-1)!.seq);
          continue;
        }
        // A refused heartbeat (the centre does not take this agent's batches at all) waits as a failure does.
        this.deliveries.inc({ outcome: 'failed' });
        const waitMs = streak.fail();
        if (streak.failures === 1)
          log.warn(
            { err: describeError(err), pending: buffer.pending },
            'The centre cannot be reached; results are kept until it can',
          );
        await clock.sleep(waitMs, stopping);
      }
    }
  }
}
