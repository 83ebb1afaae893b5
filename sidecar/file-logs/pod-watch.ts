import { CoreV1Api, type KubeConfig, ListWatch, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import { type BackoffOptions, RetryStreak } from '../../core/backoff.ts';
import { describeApiError, requestTimeout } from '../../core/kube/api-requests.ts';
import type { Logger } from '../../core/log.ts';

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  requestTimeoutMs: number;
  backoff: BackoffOptions;
  log: Logger;
  failures: Counter;
  /** A pod of the node listed, added or changed. */
  onPod(pod: V1Pod): void;
  /** A pod deleted, or found gone at a new list. */
  onPodGone(pod: V1Pod): void;
}

/**
 * Lists, then watches, the pods of one node, and keeps doing so: after a failure it starts again with
 * backoff, from where it was or with a new list when the API server no longer has that version, and
 * pods that went meanwhile are reported gone.
 */
export class PodWatch {
  private readonly options: PodWatchOptions;
  private readonly informer: ListWatch<V1Pod>;
  private readonly streak: RetryStreak;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private errors = 0;
  private listed: () => void = () => {};
  /** Resolves once the node's pods have been listed. */
  readonly synced = new Promise<void>((resolve) => {
    this.listed = resolve;
  });

  constructor(options: PodWatchOptions) {
    this.options = options;
    this.streak = new RetryStreak({ backoff: options.backoff });
    const { kubeConfig, nodeName, requestTimeoutMs } = options;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${nodeName}`;
    this.informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(kubeConfig),
      () => core.listPodForAllNamespaces({ fieldSelector }, requestTimeout(requestTimeoutMs)),
      false,
      undefined,
      fieldSelector,
    );
    this.informer.on('add', (pod) => options.onPod(pod));
    this.informer.on('update', (pod) => options.onPod(pod));
    this.informer.on('delete', (pod) => options.onPodGone(pod));
    this.informer.on('error', (err) => this.failed(err));
  }

  start(): void {
    void this.attempt();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    void this.informer.stop();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const before = this.errors;
    await this.informer.start();
    if (this.errors !== before || this.stopped) return;
    this.listed();
    const outage = this.streak.succeed();
    if (outage !== undefined) {
      this.options.log.info(
        { node: this.options.nodeName, outageMs: outage },
        'watching the node’s pods again',
      );
    }
  }

  private failed(err: unknown): void {
    this.errors++;
    if (this.stopped) return;
    this.options.failures.inc();
    const delayMs = this.streak.fail();
    if (this.streak.failures === 1) {
      this.options.log.warn(
        { node: this.options.nodeName, err: describeApiError(err), retryInMs: delayMs },
        'listing or watching the node’s pods failed; file logs of pods added meanwhile wait, retrying',
      );
    }
    this.retry = setTimeout(() => void this.attempt(), delayMs);
  }
}
