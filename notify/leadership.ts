import { readFileSync } from 'node:fs';
import { type BackoffOptions, RetryStreak, sleep } from '../core/backoff.ts';
import { describeError } from '../core/errors.ts';
import type { KubeClient } from '../core/kube/client.ts';
import { LeaderElector } from '../core/kube/leader.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { ChatRobots } from './chat-robots.ts';
import type { LeaderElectionConfig } from './leader-config.ts';
import { ConfigMapOutboxStore } from './outbox/config-map-store.ts';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const CLAIM_RETRY: BackoffOptions = { initialMs: 500, maxMs: 15_000 };

export interface LeadershipOptions {
  /** Whether leader election is on; fixed for the process's life, since the robots are told before they start. */
  enabled: boolean;
  chatRobots: ChatRobots;
  log: Logger;
  metrics: Metrics;
  /** The component, for log lines: "event router". */
  noun: string;
  /**
   * Starts what runs while this replica leads, once the robots' outbox is
   * this replica's; the signal aborts when leadership ends before it is done.
   */
  lead(signal: AbortSignal): Promise<void>;
  /** Stops it and leaves what the next leader needs where it finds it. */
  unlead(): Promise<void>;
}

/**
 * Who sends: without leader election this replica always leads; with it,
 * only the holder of the Lease, after claiming the robots' outbox from the
 * ConfigMap where the last leader left it. Changes run one at a time in the
 * order they happen, so a lead and an unlead never overlap.
 */
export class Leadership {
  private readonly options: LeadershipOptions;
  private config: LeaderElectionConfig | undefined;
  private kube: KubeClient | undefined;
  private elector: LeaderElector | undefined;
  /** Aborts a lead still starting when leadership ends first. */
  private pendingLead: AbortController | undefined;
  private transitions: Promise<void> = Promise.resolve();

  constructor(options: LeadershipOptions) {
    this.options = options;
    // A standby must neither send nor replay: the robots' outbox belongs to whoever holds the Lease.
    if (options.enabled) options.chatRobots.sendOnlyWhileLeading();
  }

  /** `kube` is needed when leader election is enabled. */
  start(config: LeaderElectionConfig, kube: KubeClient | undefined): void {
    const { log, metrics } = this.options;
    this.config = config;
    this.kube = kube;
    if (!this.options.enabled) {
      // Start does not wait for a lead that may be slow (a state store to read).
      void this.transition(() => this.lead());
      return;
    }
    if (!kube) throw new Error('leader election needs a Kubernetes configuration');
    this.elector = new LeaderElector({
      kube,
      namespace: config.namespace ?? ownNamespace(),
      name: config.name,
      leaseDurationMs: config.leaseDuration,
      renewDeadlineMs: config.renewDeadline,
      retryPeriodMs: config.retryPeriod,
      releaseOnStop: true,
      log,
      metrics,
      onStartedLeading: () => this.transition(() => this.lead()),
      onStoppedLeading: () => this.unleadSoon(),
    });
    this.elector.start();
  }

  /** Unleads before giving the Lease up: the next leader must find what this one leaves. */
  async stop(): Promise<void> {
    const elector = this.elector;
    this.elector = undefined;
    await this.unleadSoon();
    if (elector) await elector.stop();
  }

  private transition(change: () => Promise<void>): Promise<void> {
    this.transitions = this.transitions.then(change).catch((err: unknown) => {
      this.options.log.error(
        { err: describeError(err) },
        `${this.options.noun} could not change its leading state`,
      );
    });
    return this.transitions;
  }

  private unleadSoon(): Promise<void> {
    this.pendingLead?.abort();
    return this.transition(() => this.unlead());
  }

  private async lead(): Promise<void> {
    const abort = new AbortController();
    this.pendingLead = abort;
    try {
      // The outbox first: once claimed, a deposed leader can no longer send or save past what it holds.
      if (this.elector && !(await this.takeOutbox(this.elector.identity, abort.signal))) return;
      await this.options.lead(abort.signal);
    } finally {
      this.pendingLead = undefined;
    }
  }

  private async unlead(): Promise<void> {
    await this.options.unlead();
    // Also after a lead cut short between taking the outbox and starting.
    if (this.options.enabled) await this.options.chatRobots.unlead();
  }

  /** Claims the robots' outbox for this leader and starts them from it; false when leadership ended first. */
  private async takeOutbox(owner: string, signal: AbortSignal): Promise<boolean> {
    const { log, chatRobots } = this.options;
    const config = this.config!;
    const { namespace, name, maxBytes } = config.outbox;
    const retry = new RetryStreak({ backoff: CLAIM_RETRY });
    for (;;) {
      try {
        const store = await ConfigMapOutboxStore.claim({
          kube: this.kube!,
          namespace: namespace ?? config.namespace ?? ownNamespace(),
          name,
          owner,
          maxBytes,
          log,
        });
        if (signal.aborted) return false;
        chatRobots.lead(store);
        return true;
      } catch (err) {
        log.warn({ err: describeError(err) }, 'cannot take over the robot outbox yet; retrying');
        await sleep(retry.fail(), signal).catch(() => {});
        if (signal.aborted) return false;
      }
    }
  }
}

/** The pod's namespace in a cluster; `default` elsewhere. */
export function ownNamespace(): string {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}
