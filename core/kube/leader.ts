import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Gauge } from 'prom-client';
import { sleep } from '../backoff.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { SHARED_METRICS } from '../shared-metrics.ts';
import { describeApiError, responseStatus } from './api-requests.ts';
import type { KubeClient, RequestOptions } from './client.ts';
import { microTime, type ObjectMeta } from './objects.ts';
import { ThrottledWarning } from './throttled-warning.ts';

export interface LeaderElectorOptions {
  kube: KubeClient;
  /** Where the Lease lives. */
  namespace: string;
  /** The Lease's name, the same for every replica that competes. */
  name: string;
  /** Unique per replica; by default the host name, the process id and a random part. */
  identity?: string;
  /** How long the other replicas wait after the Lease's last change before they take it over. */
  leaseDurationMs?: number;
  /** How long the leader keeps leading without a successful renewal. Shorter than leaseDurationMs. */
  renewDeadlineMs?: number;
  /** How often the leader renews and the others try to acquire. */
  retryPeriodMs?: number;
  /**
   * Whether stop() gives the Lease up, so that another replica takes over at once rather than after
   * leaseDurationMs. Off, a stopped leader leaves the Lease as a crashed one would.
   */
  releaseOnStop?: boolean;
  log: Logger;
  metrics?: Metrics;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** client-go's: replicas that do not lead wait between one and 2.2 retry periods, so they do not knock in step. */
const JITTER_FACTOR = 1.2;

type Attempt = 'leading' | 'held-by-another' | 'failed';

/** coordination.k8s.io/v1 LeaseSpec; times are MicroTime strings. */
interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  metadata?: ObjectMeta;
  spec?: LeaseSpec;
}

function defaultIdentity(): string {
  return `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Leader election on a coordination.k8s.io Lease, with client-go's rules: a replica takes the Lease when
 * it does not exist, is its own, is released (no holder), or has not changed for its lease duration. That
 * duration is measured on this replica's own clock from when it saw the Lease change, never from the
 * renewTime written by another machine, so clock skew does not matter. Writes carry the resourceVersion
 * they read, so of two replicas racing for the Lease one wins and the other hears 409.
 *
 * The leader steps down once renewDeadlineMs passed since the start of its last successful renewal:
 * before any other replica can see the Lease as expired, so two never lead at the same time.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly kube: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnStop: boolean;
  private readonly log: Logger;
  private readonly warning: ThrottledWarning;
  private readonly leaderGauge: Gauge<'lease'> | undefined;
  private readonly onStartedLeading: () => void;
  private readonly onStoppedLeading: () => void;

  /** The Lease's spec as last read, and when (on this clock) it was first seen that way. */
  private observed: { record: string; durationMs: number; since: number } | undefined;
  private leading = false;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private stopping: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(leaseDurationMs > this.renewDeadlineMs)) {
      throw new Error('the leader lease duration must be longer than the renew deadline');
    }
    if (!(this.renewDeadlineMs > this.retryPeriodMs * JITTER_FACTOR && this.retryPeriodMs > 0)) {
      throw new Error(`the leader renew deadline must be longer than ${JITTER_FACTOR} retry periods`);
    }
    // A Lease counts in whole seconds; rounding up only makes the others wait a little longer.
    this.leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
    this.identity = options.identity ?? defaultIdentity();
    this.kube = options.kube;
    this.namespace = options.namespace;
    this.name = options.name;
    this.releaseOnStop = options.releaseOnStop ?? true;
    this.log = options.log;
    this.warning = new ThrottledWarning(options.log);
    this.onStartedLeading = options.onStartedLeading;
    this.onStoppedLeading = options.onStoppedLeading;
    this.leaderGauge = options.metrics?.gauge(SHARED_METRICS.leader);
    this.leaderGauge?.set({ lease: this.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.stopping = new AbortController();
    this.running = this.run(this.stopping.signal);
  }

  /** Stops competing; a leader stops leading first, then (unless releaseOnStop is off) gives the Lease up. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping?.abort();
    await this.running;
    this.running = undefined;
    const wasLeading = this.leading;
    this.stepDown('stopping');
    if (wasLeading && this.releaseOnStop) await this.release();
  }

  private async run(stop: AbortSignal): Promise<void> {
    // Each request may take up to the renew deadline: by then a leader has stepped down anyway.
    const options: RequestOptions = { timeoutMs: this.renewDeadlineMs, signal: stop };
    while (!stop.aborted) {
      const startedAt = Date.now();
      const attempt = await this.tryAcquireOrRenew(options);
      if (stop.aborted) break;
      if (attempt === 'leading') this.renewed(startedAt);
      else if (attempt === 'held-by-another') this.stepDown('another replica holds the lease');
      // After a failed renewal the leader goes on leading until the step-down timer says otherwise.
      const wait = this.leading
        ? this.retryPeriodMs
        : this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR);
      await sleep(wait, stop).catch(() => {});
    }
  }

  private async tryAcquireOrRenew(options: RequestOptions): Promise<Attempt> {
    let lease: Lease;
    try {
      lease = await this.kube.get<Lease>(this.leasePath(this.name), options);
    } catch (err) {
      return responseStatus(err) === 404 ? this.create(options) : this.failed(err);
    }
    const spec = lease.spec ?? {};
    const now = Date.now();
    this.observe(spec, now);
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.identity && !this.observedExpired(now)) return 'held-by-another';
    const ours = holder === this.identity;
    const body: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        renewTime: microTime(now),
        acquireTime: ours ? spec.acquireTime : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    try {
      const replaced = await this.kube.put<Lease>(this.leasePath(this.name), body, options);
      this.observe(replaced.spec ?? {}, Date.now());
      return 'leading';
    } catch (err) {
      // Another replica wrote the Lease after we read it: it won this round.
      return responseStatus(err) === 409 ? 'failed' : this.failed(err);
    }
  }

  private async create(options: RequestOptions): Promise<Attempt> {
    const now = microTime(Date.now());
    const spec: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    try {
      const created = await this.kube.post<Lease>(
        this.leasePath(),
        { metadata: { name: this.name, namespace: this.namespace }, spec },
        options,
      );
      this.observe(created.spec ?? {}, Date.now());
      return 'leading';
    } catch (err) {
      return responseStatus(err) === 409 ? 'failed' : this.failed(err);
    }
  }

  private leasePath(name?: string): string {
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
    return name === undefined ? leases : `${leases}/${encodeURIComponent(name)}`;
  }

  private observe(spec: LeaseSpec, at: number): void {
    const record = JSON.stringify(spec);
    if (this.observed?.record === record) return;
    this.observed = {
      record,
      durationMs: (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000,
      since: at,
    };
  }

  private observedExpired(now: number): boolean {
    return !this.observed || now >= this.observed.since + this.observed.durationMs;
  }

  private failed(err: unknown): Attempt {
    if (this.stopping?.signal.aborted) return 'failed';
    this.warning.warn(
      { lease: `${this.namespace}/${this.name}`, err: describeApiError(err) },
      'could not read or write the leader lease',
    );
    return 'failed';
  }

  private renewed(startedAt: number): void {
    // Counted from before the request: the API server may have written the Lease at any moment of it, and
    // the others count its duration from when they see that write.
    const validForMs = startedAt + this.renewDeadlineMs - Date.now();
    if (validForMs <= 0) return;
    clearTimeout(this.stepDownTimer);
    this.stepDownTimer = setTimeout(
      () => this.stepDown('the lease was not renewed within the renew deadline'),
      validForMs,
    );
    if (this.leading) return;
    this.leading = true;
    this.leaderGauge?.set({ lease: this.name }, 1);
    this.log.info({ lease: `${this.namespace}/${this.name}`, identity: this.identity }, 'leading');
    this.notify(this.onStartedLeading);
  }

  private stepDown(reason: string): void {
    clearTimeout(this.stepDownTimer);
    this.stepDownTimer = undefined;
    if (!this.leading) return;
    this.leading = false;
    this.leaderGauge?.set({ lease: this.name }, 0);
    this.log.info(
      { lease: `${this.namespace}/${this.name}`, identity: this.identity, reason },
      'stopped leading',
    );
    this.notify(this.onStoppedLeading);
  }

  private notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.log.error({ err: describeError(err) }, 'leader election callback failed');
    }
  }

  /** Clears the holder, as client-go does on release, so the next replica to try takes the Lease. */
  private async release(): Promise<void> {
    const options: RequestOptions = { timeoutMs: this.renewDeadlineMs };
    try {
      const lease = await this.kube.get<Lease>(this.leasePath(this.name), options);
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(Date.now());
      await this.kube.put(
        this.leasePath(this.name),
        {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
          },
        },
        options,
      );
      this.log.info({ lease: `${this.namespace}/${this.name}` }, 'released the leader lease');
    } catch (err) {
      this.log.warn(
        { lease: `${this.namespace}/${this.name}`, err: describeApiError(err) },
        'could not release the leader lease; another replica takes over when it expires',
      );
    }
  }
}
