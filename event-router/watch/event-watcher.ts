import type { CoreV1Event, EventsV1Event } from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import { type BackoffOptions, RetryStreak, sleep } from '../../core/backoff.ts';
import { describeError } from '../../core/errors.ts';
import { responseStatus } from '../../core/kube/api-requests.ts';
import type { KubeClient, WatchFunction } from '../../core/kube/client.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { ObservedEvent } from '../event.ts';
import { EVENT_ROUTER_METRICS } from '../metrics.ts';
import { fromCoreEvent, fromEventsV1 } from './normalize.ts';

export type EventsApi = 'core/v1' | 'events.k8s.io/v1';

export interface EventWatcherOptions {
  kube: KubeClient;
  api: EventsApi;
  /** Namespaces to watch, one list and watch each; empty means all namespaces with one list and watch. */
  namespaces: readonly string[];
  log: Logger;
  metrics: Metrics;
  backoff?: BackoffOptions;
  /** Every listed, added or modified event; a (re)list hands over events already seen, for the caller to judge. */
  onEvent(event: ObservedEvent): void;
  /** After the first complete list of every namespace, then after every later re-list. */
  onSynced?(): void;
  /** The client's watch; tests substitute one that opens a watch at a chosen resourceVersion. */
  watch?: WatchFunction;
}

/** A watch that ends sooner than this without a single line is a failure to back off from, not a close. */
const MIN_WATCH_MS = 1_000;
const PAGE_SIZE = 500;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

interface EventPage {
  items: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** A watch line of type ERROR carries a metav1.Status. */
interface WatchStatus {
  code?: number;
  reason?: string;
  message?: string;
}

/** What differs between the two Event APIs: where they live and how their objects read. */
interface EventsSource {
  path(namespace: string | undefined): string;
  normalize(object: unknown): ObservedEvent;
}

function eventsSource(api: EventsApi): EventsSource {
  const collection = (prefix: string) => (namespace: string | undefined) =>
    namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/events` : `${prefix}/events`;
  return api === 'core/v1'
    ? { path: collection('/api/v1'), normalize: (object) => fromCoreEvent(object as CoreV1Event) }
    : {
        path: collection('/apis/events.k8s.io/v1'),
        normalize: (object) => fromEventsV1(object as EventsV1Event),
      };
}

/** The API server says the resourceVersion is no longer in its history: only a new list can go on. */
function isGone(err: unknown): boolean {
  return responseStatus(err) === 410;
}

/** A watch that received nothing for a while is ended and opened again; on a quiet cluster that is normal. */
function isIdleTimeout(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'TimeoutError';
}

interface WatcherMetrics {
  seen: Counter<'via'>;
  relists: Counter;
  restarts: Counter<'reason'>;
}

/** One list-then-watch loop: for one namespace, or for all of them. */
class EventStream {
  /** Where the watch resumes; undefined when a list must come first. */
  private resourceVersion: string | undefined;
  /** Whether the current watch delivered anything, which makes a quick end a normal one. */
  private received = false;
  /** Failed attempts in a row; zero once a list or a watch succeeds. */
  failures = 0;
  listed = false;

  private readonly namespace: string | undefined;
  private readonly source: EventsSource;
  private readonly options: EventWatcherOptions;
  private readonly metrics: WatcherMetrics;
  private readonly watch: WatchFunction;
  private readonly signal: AbortSignal;
  private readonly onListed: () => void;

  constructor(init: {
    namespace: string | undefined;
    source: EventsSource;
    options: EventWatcherOptions;
    metrics: WatcherMetrics;
    watch: WatchFunction;
    signal: AbortSignal;
    onListed: () => void;
  }) {
    this.namespace = init.namespace;
    this.source = init.source;
    this.options = init.options;
    this.metrics = init.metrics;
    this.watch = init.watch;
    this.signal = init.signal;
    this.onListed = init.onListed;
  }

  private get where(): string {
    return this.source.path(this.namespace);
  }

  async run(): Promise<void> {
    const { log } = this.options;
    // Every end of a watch paces the next: a watch ending quickly again and again is a fault even without errors.
    const reconnects = new RetryStreak({
      backoff: this.options.backoff ?? DEFAULT_BACKOFF,
      firstRetryAtOnce: true,
    });
    while (!this.signal.aborted) {
      const started = Date.now();
      this.received = false;
      let failure: unknown;
      try {
        if (this.resourceVersion === undefined) await this.list();
        if ((await this.watchOnce()) === 'expired') {
          log.info({ path: this.where }, 'The event watch expired (410 Gone); listing again');
          this.metrics.relists.inc();
          this.resourceVersion = undefined;
        } else {
          this.metrics.restarts.inc({ reason: 'closed' });
        }
      } catch (err) {
        if (this.signal.aborted) break;
        failure = err;
        this.failures++;
        this.metrics.restarts.inc({ reason: 'error' });
      }
      if (this.signal.aborted) break;
      // A watch that ran a while or delivered something was a success, however it ended: go on at once.
      if (this.received || Date.now() - started >= MIN_WATCH_MS) reconnects.succeed();
      const delayMs = reconnects.fail();
      if (failure !== undefined) {
        log.warn(
          { path: this.where, err: describeError(failure), failures: this.failures, retryInMs: delayMs },
          'Watching Kubernetes events failed; retrying',
        );
      }
      if (delayMs > 0) await sleep(delayMs, this.signal).catch(() => undefined);
    }
  }

  /** Reads every page, hands over every event, and keeps the list's resourceVersion for the watch. */
  private async list(): Promise<void> {
    let page: string | undefined;
    let listVersion: string | undefined;
    do {
      const result = await this.options.kube.get<EventPage>(this.where, {
        query: { limit: PAGE_SIZE, continue: page },
        signal: this.signal,
      });
      if (this.signal.aborted) return;
      for (const item of result.items) this.deliver(item, 'list');
      page = result.metadata?.continue || undefined;
      listVersion = result.metadata?.resourceVersion;
    } while (page);
    this.resourceVersion = listVersion;
    this.failures = 0;
    this.listed = true;
    this.onListed();
  }

  private deliver(object: unknown, via: 'list' | 'watch'): void {
    this.metrics.seen.inc({ via });
    try {
      this.options.onEvent(this.source.normalize(object));
    } catch (err) {
      // The next event must not be lost to a failure handling this one.
      this.options.log.error({ err: describeError(err) }, 'Handling a Kubernetes event failed');
    }
  }

  /** Resolves 'expired' on 410 Gone, 'closed' when the watch ends otherwise (or on stop); rejects on failure. */
  private async watchOnce(): Promise<'closed' | 'expired'> {
    // A failure the server reports in a line ends the watch at once, with the events before it handled.
    const ended = new AbortController();
    let failure: 'expired' | Error | undefined;
    try {
      await this.watch(this.where, {
        query: { allowWatchBookmarks: true, resourceVersion: this.resourceVersion },
        signal: AbortSignal.any([this.signal, ended.signal]),
        onOpened: () => {
          this.failures = 0;
        },
        onEvent: (phase, object) => {
          if (this.signal.aborted || failure) return;
          failure = this.handle(phase, object);
          if (failure) ended.abort();
        },
      });
    } catch (err) {
      if (isGone(err)) return 'expired';
      if (!isIdleTimeout(err)) throw err;
    }
    if (failure === 'expired') return 'expired';
    if (failure) throw failure;
    return 'closed';
  }

  /** Moves the resourceVersion on with every line; says how the watch ends when the server reports an error. */
  private handle(phase: string, object: unknown): 'expired' | Error | undefined {
    if (phase === 'ERROR') {
      const status = object as WatchStatus;
      if (status.code === 410) return 'expired';
      return new Error(
        `the API server ended the watch: ${status.code ?? '?'} ${status.reason ?? ''} ${status.message ?? ''}`.trim(),
      );
    }
    this.received = true;
    const version = (object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    // Bookmarks only move the resourceVersion on; a deleted event is no news (it expired or was cleaned up).
    if (phase === 'ADDED' || phase === 'MODIFIED') this.deliver(object, 'watch');
    return undefined;
  }
}

/**
 * Lists then watches Kubernetes Events, per configured namespace or across all of them, and keeps doing so:
 * reconnecting with backoff, resuming from the last resourceVersion (bookmarks keep it fresh on quiet
 * namespaces), and listing again when the server no longer has that version (410 Gone). A re-list hands over
 * events already seen: deciding what is news belongs to the resume point, which also survives restarts.
 */
export class EventWatcher {
  private readonly options: EventWatcherOptions;
  private readonly abort = new AbortController();
  private streams: EventStream[] = [];
  private running: Promise<void>[] = [];

  constructor(options: EventWatcherOptions) {
    this.options = options;
  }

  start(): void {
    if (this.streams.length > 0) throw new Error('The event watcher is already started');
    const { kube, api, namespaces, metrics } = this.options;
    const source = eventsSource(api);
    const watch = this.options.watch ?? ((path, options) => kube.watch(path, options));
    const watcherMetrics: WatcherMetrics = {
      seen: metrics.counter(EVENT_ROUTER_METRICS.eventsSeen),
      relists: metrics.counter(EVENT_ROUTER_METRICS.watchRelists),
      restarts: metrics.counter(EVENT_ROUTER_METRICS.watchRestarts),
    };
    const onListed = () => {
      if (this.streams.every((s) => s.listed)) this.options.onSynced?.();
    };
    const scopes = namespaces.length > 0 ? namespaces : [undefined];
    this.streams = scopes.map(
      (namespace) =>
        new EventStream({
          namespace,
          source,
          options: this.options,
          metrics: watcherMetrics,
          watch,
          signal: this.abort.signal,
          onListed,
        }),
    );
    this.running = this.streams.map((s) => s.run());
    this.options.log.info(
      { api, namespaces: namespaces.length > 0 ? namespaces : 'all' },
      'Watching Kubernetes events',
    );
  }

  /** Ends every watch; resolves once no more events will be handed over. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.running);
  }

  /** Every namespace listed, and its watch not failing right now. */
  get healthy(): boolean {
    return (
      !this.abort.signal.aborted &&
      this.streams.length > 0 &&
      this.streams.every((s) => s.listed && s.failures === 0)
    );
  }
}
