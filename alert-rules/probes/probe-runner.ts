import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { DueQueue } from './due-queue.ts';
import { PROBE_SCHEDULER_METRICS as M } from './metrics.ts';
import type { ProbeTarget } from './target-config.ts';
import type { ProbeResult, Prober } from './types.ts';

export interface ProbeRunnerSettings {
  /** Probes running at once at most; due probes beyond it wait for a slot. */
  concurrency: number;
  /** How long past its timeout a probe that does not stop is waited for. */
  abandonAfter: number;
}

/** What the runner needs of a target: what to probe, with which module, how often. */
export type Probed = Pick<
  ProbeTarget,
  'id' | 'target' | 'moduleName' | 'module' | 'intervalMs' | 'timeoutMs'
>;

export interface ProbeRunnerOptions<T extends Probed> {
  prober: Prober;
  clock: Clock;
  settings: ProbeRunnerSettings;
  metrics: Metrics;
  log: Logger;
  /** Each result of a probe still wanted: its target was neither removed nor changed while it ran. */
  onResult(target: T, result: ProbeResult): void;
}

/** The runner sleeps at most this long when nothing is due, and is woken early by a new target. */
const IDLE_SLEEP_MS = 60_000;

/** A stable offset in [0, interval): a hash of the id, so that targets spread and a restart keeps the spread. */
function phaseOf(id: string, intervalMs: number): number {
  return createHash('sha256').update(id).digest().readUIntBE(0, 6) % intervalMs;
}

/** The target's first due time after `afterMs`: its slots are `interval` apart, shifted by its phase. */
export function nextSlot(id: string, intervalMs: number, afterMs: number): number {
  const phase = phaseOf(id, intervalMs);
  const sinceSlot = (((afterMs - phase) % intervalMs) + intervalMs) % intervalMs;
  return afterMs - sinceSlot + intervalMs;
}

interface Job<T extends Probed> {
  target: T;
  /** Changes with the interval: due-queue items of an older schedule are ignored. */
  schedule: number;
  /** Changes with what is probed: results and queued starts of older probes are dropped. */
  generation: number;
  running: AbortController | undefined;
  waiting: boolean;
  removed: boolean;
}

interface Queued<T extends Probed> {
  job: Job<T>;
  version: number;
  dueAtMs: number;
}

/**
 * Probes each target on its own interval, at slots spread by a hash of its
 * id; never two probes of one target at once (a probe still running, or
 * still waiting for a slot, when the next is due makes that one skipped);
 * at most `concurrency` probes at once, the rest waiting in due order. What
 * becomes of a result is the caller's: the centre's scheduler keeps state
 * and alerts, a probe agent reports it.
 */
export class ProbeRunner<T extends Probed> {
  private readonly options: ProbeRunnerOptions<T>;
  private readonly jobs = new Map<string, Job<T>>();
  private readonly due = new DueQueue<Queued<T>>();
  /** Probes due while every slot is taken, oldest first from `waitingHead`. */
  private waiting: Queued<T>[] = [];
  private waitingHead = 0;
  private waitingCount = 0;
  private runningCount = 0;
  private readonly metrics;
  private started = false;
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private sleepingUntil = Number.POSITIVE_INFINITY;
  private loop: Promise<void> = Promise.resolve();

  constructor(options: ProbeRunnerOptions<T>) {
    this.options = options;
    const { metrics } = options;
    this.metrics = {
      probes: metrics.counter(M.probes),
      skipped: metrics.counter(M.skipped),
      abandoned: metrics.counter(M.abandoned),
      startDelay: metrics.histogram(M.startDelay),
      running: metrics.gauge(M.running),
      waiting: metrics.gauge(M.waiting),
    };
  }

  /** Starts probing the targets added so far, and those added later as they come. */
  start(): void {
    this.started = true;
    for (const job of this.jobs.values()) this.schedule(job);
    this.loop = this.run();
  }

  /** Stops probing: probes under way are aborted and their results dropped. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake.abort();
    for (const job of this.jobs.values()) job.running?.abort(new Error('the probes are stopping'));
    await this.loop;
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  has(id: string): boolean {
    return this.jobs.has(id);
  }

  ids(): string[] {
    return [...this.jobs.keys()];
  }

  get size(): number {
    return this.jobs.size;
  }

  /**
   * Adds a target or changes one (by id). A new address or module drops a
   * probe under way (aborted, its result never delivered); a new interval
   * takes effect at once.
   */
  upsert(target: T): void {
    const job = this.jobs.get(target.id);
    if (!job) {
      const fresh: Job<T> = {
        target,
        schedule: 0,
        generation: 0,
        running: undefined,
        waiting: false,
        removed: false,
      };
      this.jobs.set(target.id, fresh);
      if (this.started) this.schedule(fresh);
      return;
    }
    const before = job.target;
    job.target = target;
    if (before.target !== target.target || before.moduleName !== target.moduleName)
      this.dropProbe(job, 'the target changed');
    if (before.intervalMs !== target.intervalMs) {
      job.schedule++;
      if (this.started) this.schedule(job);
    }
  }

  /** Removes a target: a probe under way is aborted and its result dropped. */
  remove(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.jobs.delete(id);
    this.dropProbe(job, 'the target was removed');
    job.removed = true;
    return true;
  }

  private schedule(job: Job<T>): void {
    const { id, intervalMs } = job.target;
    const at = nextSlot(id, intervalMs, this.options.clock.now());
    this.due.push(at, { job, version: job.schedule, dueAtMs: at });
    if (at < this.sleepingUntil) this.wake.abort();
  }

  private async run(): Promise<void> {
    const { clock } = this.options;
    while (!this.stopping.signal.aborted) {
      const now = clock.now();
      this.startDue(now);
      this.wake = new AbortController();
      this.sleepingUntil = this.due.peekTime() ?? now + IDLE_SLEEP_MS;
      await clock.sleep(this.sleepingUntil - now, this.wake.signal);
    }
  }

  /** Starts (or queues, or skips) every probe due by `nowMs`, and books each target's next slot. */
  private startDue(nowMs: number): void {
    for (let at = this.due.peekTime(); at !== undefined && at <= nowMs; at = this.due.peekTime()) {
      const { item } = this.due.pop()!;
      const { job } = item;
      if (job.removed || item.version !== job.schedule) continue;
      const { intervalMs } = job.target;
      // A blocked event loop or a suspended machine let whole intervals pass: probe once, for the latest.
      const passed = Math.floor((nowMs - item.dueAtMs) / intervalMs);
      if (passed > 0) this.metrics.skipped.inc({ reason: 'late' }, passed);
      const dueAtMs = item.dueAtMs + passed * intervalMs;
      this.due.push(dueAtMs + intervalMs, { job, version: job.schedule, dueAtMs: dueAtMs + intervalMs });
      this.dispatch(job, dueAtMs);
    }
  }

  private dispatch(job: Job<T>, dueAtMs: number): void {
    if (job.running || job.waiting) {
      this.metrics.skipped.inc({ reason: job.running ? 'running' : 'waiting' });
      return;
    }
    if (this.runningCount < this.options.settings.concurrency) {
      this.begin(job, dueAtMs);
      return;
    }
    job.waiting = true;
    this.waiting.push({ job, version: job.generation, dueAtMs });
    this.waitingCount++;
    this.metrics.waiting.set(this.waitingCount);
  }

  /** Starts waiting probes, oldest first, while slots are free. */
  private startWaiting(): void {
    while (this.runningCount < this.options.settings.concurrency && this.waitingHead < this.waiting.length) {
      const { job, version, dueAtMs } = this.waiting[this.waitingHead]!;
      this.waitingHead++;
      if (job.removed || version !== job.generation || !job.waiting) continue;
      job.waiting = false;
      this.waitingCount--;
      this.begin(job, dueAtMs);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    this.metrics.waiting.set(this.waitingCount);
  }

  /** A probe under way (or waiting) of a job that no longer wants it: aborted, its result dropped. */
  private dropProbe(job: Job<T>, why: string): void {
    job.generation++;
    job.running?.abort(new Error(why));
    if (job.waiting) {
      job.waiting = false;
      this.waitingCount--;
      this.metrics.waiting.set(this.waitingCount);
    }
  }

  private begin(job: Job<T>, dueAtMs: number): void {
    const { clock } = this.options;
    const startedAtMs = clock.now();
    this.metrics.startDelay.observe(Math.max(0, startedAtMs - dueAtMs) / 1000);
    const controller = new AbortController();
    const generation = job.generation;
    const target = job.target;
    job.running = controller;
    this.runningCount++;
    this.metrics.running.set(this.runningCount);
    void this.probe(target, controller, startedAtMs).then((result) => {
      if (job.running === controller) job.running = undefined;
      this.runningCount--;
      this.metrics.running.set(this.runningCount);
      if (!job.removed && job.generation === generation && !this.stopping.signal.aborted) {
        this.metrics.probes.inc({ outcome: result.success ? 'success' : 'failure' });
        this.options.onResult(job.target, result);
      }
      if (!this.stopping.signal.aborted) this.startWaiting();
    });
  }

  /**
   * One probe, bounded by the target's timeout: its signal aborts then, and a
   * prober that has not answered `abandonAfter` later is given up on.
   */
  private async probe(
    target: Probed,
    controller: AbortController,
    startedAtMs: number,
  ): Promise<ProbeResult> {
    const { clock, prober } = this.options;
    const timeoutMs = Math.min(target.timeoutMs, target.intervalMs);
    const timeoutText = `timeout after ${timeoutMs / 1000}s`;
    const failed = (failure: string): ProbeResult => ({
      success: false,
      failure,
      startedAtMs,
      durationMs: clock.now() - startedAtMs,
      samples: [],
    });
    // The module's timeout as this target bounds it, so that a timeout says how long the probe really had.
    const module = { ...target.module, timeoutMs };
    const probing = Promise.resolve()
      .then(() => prober({ target: target.target, module, signal: controller.signal }))
      .catch((err: unknown) =>
        failed(describeError(controller.signal.aborted ? controller.signal.reason : err)),
      );
    // A stop ends the wait at once: the result is dropped anyway, and no timer keeps the process up.
    const settled = new AbortController();
    const waiting = AbortSignal.any([settled.signal, this.stopping.signal]);
    const interrupted = () => (settled.signal.aborted ? undefined : failed('the probes are stopping'));
    const deadline = (async () => {
      await clock.sleep(timeoutMs, waiting);
      if (waiting.aborted) return interrupted();
      controller.abort(new Error(timeoutText));
      await clock.sleep(this.options.settings.abandonAfter, waiting);
      if (waiting.aborted) return interrupted();
      this.metrics.abandoned.inc();
      this.options.log.warn({ probe: target.id }, 'A probe did not stop after its timeout; given up');
      return failed(`${timeoutText}; the probe did not stop`);
    })();
    try {
      return (await Promise.race([probing, deadline])) ?? (await probing);
    } finally {
      settled.abort();
    }
  }
}
