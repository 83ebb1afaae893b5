import type { V1Pod } from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import { type BackoffOptions, RetryStreak, sleep } from '../../core/backoff.ts';
import { describeApiError, KubeApiError, responseStatus } from '../../core/kube/api-requests.ts';
import type { KubeClient } from '../../core/kube/client.ts';
import type { Logger } from '../../core/log.ts';

export interface PodWatchOptions {
  kube: KubeClient;
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

interface PodList {
  metadata?: { resourceVersion?: string };
  items?: V1Pod[];
}

/**
 * Lists, then watches, the pods of one node, and keeps doing so: after a failure it starts again with
 * backoff, from where it was or with a new list when the API server no longer has that version, and
 * pods that went meanwhile are reported gone.
 */
export class PodWatch {
  private readonly options: PodWatchOptions;
  private readonly streak: RetryStreak;
  private readonly stopping = new AbortController();
  private readonly path = '/api/v1/pods';
  private readonly query: { fieldSelector: string };
  /** The node's pods as last seen, by uid: a new list reports those no longer in it as gone. */
  private readonly known = new Map<string, V1Pod>();
  private resourceVersion: string | undefined;
  private listed: () => void = () => {};
  /** Resolves once the node's pods have been listed. */
  readonly synced = new Promise<void>((resolve) => {
    this.listed = resolve;
  });

  constructor(options: PodWatchOptions) {
    this.options = options;
    this.streak = new RetryStreak({ backoff: options.backoff });
    this.query = { fieldSelector: `spec.nodeName=${options.nodeName}` };
  }

  start(): void {
    void this.run();
  }

  /** Ends the watch and closes the client's connections: the client is this watch's own. */
  stop(): void {
    this.stopping.abort();
    this.options.kube.close();
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        await this.options.kube.watch(this.path, {
          query: { ...this.query, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
          signal,
          onOpened: () => this.recovered(),
          onEvent: (type, object) => this.event(type, object as V1Pod),
        });
      } catch (err) {
        if (signal.aborted) return;
        // The version is no longer in the API server's history: only a new list can go on.
        if (responseStatus(err) === 410) this.resourceVersion = undefined;
        else await this.failed(err);
      }
    }
  }

  private async list(): Promise<void> {
    const list = await this.options.kube.get<PodList>(this.path, {
      query: this.query,
      signal: this.stopping.signal,
      timeoutMs: this.options.requestTimeoutMs,
    });
    const seen = new Set<string>();
    for (const pod of list.items ?? []) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      this.known.set(uid, pod);
      this.options.onPod(pod);
    }
    for (const [uid, pod] of this.known) {
      if (seen.has(uid)) continue;
      this.known.delete(uid);
      this.options.onPodGone(pod);
    }
    this.resourceVersion = list.metadata?.resourceVersion;
    this.listed();
    this.recovered();
  }

  private event(type: string, pod: V1Pod): void {
    const version = pod.metadata?.resourceVersion;
    if (type === 'ERROR') {
      // A Status object: 410 when the watch's version has expired, which a new list answers.
      const status = pod as { code?: number; message?: string };
      throw new KubeApiError(status.code ?? 500, status.message);
    }
    if (version) this.resourceVersion = version;
    const uid = pod.metadata?.uid;
    if (type === 'BOOKMARK' || !uid) return;
    if (type === 'DELETED') {
      this.known.delete(uid);
      this.options.onPodGone(pod);
    } else {
      this.known.set(uid, pod);
      this.options.onPod(pod);
    }
  }

  private recovered(): void {
    const outage = this.streak.succeed();
    if (outage !== undefined) {
      this.options.log.info(
        { node: this.options.nodeName, outageMs: outage },
        'watching the node’s pods again',
      );
    }
  }

  private async failed(err: unknown): Promise<void> {
    this.options.failures.inc();
    const delayMs = this.streak.fail();
    if (this.streak.failures === 1) {
      this.options.log.warn(
        { node: this.options.nodeName, err: describeApiError(err), retryInMs: delayMs },
        'listing or watching the node’s pods failed; file logs of pods added meanwhile wait, retrying',
      );
    }
    await sleep(delayMs, this.stopping.signal).catch(() => {});
  }
}
