/**
 * What every prober does around its own work: time it, turn an abort into
 * `timeout after 5s (waiting for …)`, and apply Lookout's checks
 * (latency threshold, certificate expiry) to an otherwise good result.
 */
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from '../../core/clock.ts';
import { describeError, describeTimeLeft } from './failure-words.ts';
import { formatSeconds } from './go-units.ts';
import type { LookoutChecks } from './module-config.ts';
import type { ProbeRequest, ProbeResult, ProbeSample } from './types.ts';

export interface ProbeOutcome {
  failure?: string;
  samples: ProbeSample[];
  certificateExpiresAtMs?: number;
}

/** The step a probe is in, so that a timeout or an error says where it happened. */
export class ProbeSteps {
  current = 'module configuration';
  private readonly signal: AbortSignal;
  private readonly timeoutMs: number;
  constructor(signal: AbortSignal, timeoutMs: number) {
    this.signal = signal;
    this.timeoutMs = timeoutMs;
  }

  /** `connect: connection refused`, or `timeout after 5s (connect)` when the probe ran out of time. */
  failure(err: unknown): string {
    if (this.signal.aborted) return `timeout after ${formatSeconds(this.timeoutMs)} (${this.current})`;
    return `${this.current}: ${describeError(err)}`;
  }
}

function lookoutCheckFailure(
  outcome: ProbeOutcome,
  checks: LookoutChecks,
  durationMs: number,
  nowMs: number,
): string | undefined {
  const { failIfSlowerThanMs, failIfCertificateExpiresWithinMs } = checks;
  if (failIfSlowerThanMs !== undefined && durationMs > failIfSlowerThanMs) {
    return `took ${formatSeconds(durationMs)}, slower than ${formatSeconds(failIfSlowerThanMs)}`;
  }
  const expiresAt = outcome.certificateExpiresAtMs;
  if (failIfCertificateExpiresWithinMs !== undefined && expiresAt !== undefined) {
    const left = expiresAt - nowMs;
    if (left <= 0) return `certificate expired ${describeTimeLeft(-left)} ago`;
    if (left < failIfCertificateExpiresWithinMs) return `certificate expires in ${describeTimeLeft(left)}`;
  }
  return undefined;
}

export async function runProbe(
  request: ProbeRequest,
  clock: Clock = systemClock,
  work: (steps: ProbeSteps) => Promise<ProbeOutcome>,
): Promise<ProbeResult> {
  const startedAtMs = clock.now();
  const started = performance.now();
  const steps = new ProbeSteps(request.signal, request.module.timeoutMs);
  let outcome: ProbeOutcome;
  try {
    outcome = await work(steps);
  } catch (err) {
    // A prober's own bug or a module it cannot use: still a result with a reason, never a crash of the scheduler.
    outcome = { failure: steps.failure(err), samples: [] };
  }
  const durationMs = performance.now() - started;
  const failure =
    outcome.failure ?? lookoutCheckFailure(outcome, request.module as LookoutChecks, durationMs, clock.now());
  return {
    success: failure === undefined,
    ...(failure !== undefined && { failure }),
    startedAtMs,
    durationMs,
    samples: outcome.samples,
    ...(outcome.certificateExpiresAtMs !== undefined && {
      certificateExpiresAtMs: outcome.certificateExpiresAtMs,
    }),
  };
}
