import { isAbsolute, join } from 'node:path';
import { type BackoffOptions, RetryStreak, sleep } from '../core/backoff.ts';
import { systemClock } from '../core/clock.ts';
import type { ComponentContext } from '../core/component.ts';
import { ConfigInvalidError } from '../core/config.ts';
import { describeError } from '../core/errors.ts';
import type { HttpApp } from '../core/http.ts';
import { createKubeClient, type KubeClient } from '../core/kube/client.ts';
import type { Service } from '../core/lifecycle.ts';
import { optimizeHeapForSize } from '../core/v8-heap.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import { Leadership, ownNamespace } from '../notify/leadership.ts';
import { Aggregator } from './aggregate/aggregator.ts';
import { aggregationSettings } from './aggregate/config.ts';
import type { EventArchive } from './archive/archive.ts';
import { createArchive } from './archive/create-archive.ts';
import type { EventRouterConfig } from './config.ts';
import { dispatchMetrics, EventDispatcher } from './dispatch.ts';
import { registerGroupsApi } from './groups-api.ts';
import { Enricher } from './kube/enrich.ts';
import { EVENT_ROUTER_METRICS } from './metrics.ts';
import type { RoutingConfig } from './routes/config.ts';
import { loadRoutingFile, RoutingFileWatcher, unknownRobots } from './routes/routing-file.ts';
import { RoutingTree } from './routes/tree.ts';
import { SentLog, sendAndRemember } from './sent-log.ts';
import { EventWatcher } from './watch/event-watcher.ts';
import { ResumePoint } from './watch/resume.ts';
import { ConfigMapStateStore, FileStateStore, type StateStore } from './watch/state-store.ts';

const STATE_RETRY: BackoffOptions = { initialMs: 500, maxMs: 15_000 };
/** Beyond the longest group wait: the time a message takes from the aggregator to the robot's queue. */

/** What runs only while this replica leads (always, without leader election). */
interface Leading {
  resume: ResumePoint;
  aggregator: Aggregator;
  dispatcher: EventDispatcher;
  watcher: EventWatcher;
  saveTimer: NodeJS.Timeout;
}

/**
 * Kubernetes events to chat: watch → resume point (nothing old, nothing
 * twice) → enrich → routing tree → aggregation → robots, with every event
 * also archived when an archive is configured. With leader election only the
 * Lease holder watches and sends; the others wait to take over from the
 * persisted resume point.
 */
export class EventRouter implements Service<EventRouterConfig> {
  readonly name = 'event-router';
  private config: EventRouterConfig;
  private readonly ctx: ComponentContext;
  private readonly chatRobots: ChatRobots;
  private kube: KubeClient | undefined;
  private tree: RoutingTree | undefined;
  private routingWatcher: RoutingFileWatcher | undefined;
  private stateStore: StateStore | undefined;
  private enricher: Enricher | undefined;
  private archive: EventArchive | undefined;
  private readonly leadership: Leadership;
  private leading: Leading | undefined;
  /** The latest messages handed to the robots, for the console. */
  private readonly sent = new SentLog();
  private readonly m;

  constructor(config: EventRouterConfig, ctx: ComponentContext, chatRobots: ChatRobots) {
    this.config = config;
    this.ctx = ctx;
    this.chatRobots = chatRobots;
    this.m = {
      dispatch: dispatchMetrics(ctx.metrics),
      saveFailures: ctx.metrics.counter(EVENT_ROUTER_METRICS.stateSaveFailures),
    };
    ctx.http.readiness.add('kubernetes events', () => !this.leading || this.leading.watcher.healthy);
    // Served where the process serves an API (lookout all), beside the console that shows it.
    if ('app' in ctx.http) {
      registerGroupsApi((ctx.http as HttpApp).app, {
        groups: () => this.leading?.aggregator.groups(),
        sent: () => this.sent.list(),
      });
    }
    this.leadership = new Leadership({
      enabled: config.leaderElection.enabled,
      chatRobots,
      log: ctx.log,
      metrics: ctx.metrics,
      noun: 'event router',
      lead: (signal) => this.lead(signal),
      unlead: () => this.unlead(),
    });
  }

  async start(): Promise<void> {
    const { config, ctx } = this;
    if (config.optimizeHeapForSize) optimizeHeapForSize();
    this.kube = createKubeClient(config.kubernetes);
    this.tree = new RoutingTree(await this.readRouting(config));
    if (config.routingFile) {
      this.routingWatcher = new RoutingFileWatcher(config.routingFile, () => this.reloadRouting());
      this.routingWatcher.start(ctx.log);
    }
    this.stateStore = this.createStateStore(config, this.kube);
    if (config.enrich.enabled) {
      this.enricher = new Enricher({
        kube: this.kube,
        log: ctx.log,
        metrics: ctx.metrics,
        maxEntries: config.enrich.maxEntries,
        ttlMs: config.enrich.ttl,
      });
    }
    if (config.archive) this.archive = await createArchive(config.archive, ctx);
    this.leadership.start(config.leaderElection, this.kube);
    ctx.log.info(
      {
        api: config.api,
        namespaces: config.namespaces.length > 0 ? config.namespaces : 'all',
        state: this.stateStore.describe(),
        leaderElection: config.leaderElection.enabled,
        archive: config.archive ? (config.archive.elasticsearch ? 'elasticsearch' : 'collector') : null,
      },
      'event router started',
    );
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.routingWatcher?.stop();
    this.routingWatcher = undefined;
    await this.leadership.stop();
    await this.archive?.stop(deadline);
    this.archive = undefined;
  }

  /**
   * Routing and aggregation change in place, and the routing file is read
   * again (SIGHUP reloads it too); any other change restarts the router,
   * which resumes from its saved point.
   */
  async reload(next: EventRouterConfig, deadline: AbortSignal): Promise<void> {
    const inPlace = (c: EventRouterConfig) =>
      JSON.stringify({ ...c, routing: undefined, aggregation: undefined });
    if (inPlace(next) !== inPlace(this.config)) {
      await this.stop(deadline);
      this.config = next;
      await this.start();
      return;
    }
    this.config = next;
    this.leading?.aggregator.configure(aggregationSettings(next.aggregation));
    await this.reloadRouting();
  }

  private async readRouting(config: EventRouterConfig): Promise<RoutingConfig> {
    const robots = this.chatRobots.names();
    if (config.routingFile) return loadRoutingFile(config.routingFile, robots);
    const routing = config.routing!;
    const errors = unknownRobots(routing, robots);
    if (errors.length > 0) throw new ConfigInvalidError('eventRouter.routing', errors);
    return routing;
  }

  /** A bad routing file is reported with its error paths, and the routing in force stays. */
  private async reloadRouting(): Promise<void> {
    try {
      this.tree = new RoutingTree(await this.readRouting(this.config));
      this.ctx.log.info({ file: this.config.routingFile ?? null }, 'event routing reloaded');
    } catch (err) {
      this.ctx.log.error(
        { err: describeError(err), file: this.config.routingFile ?? null },
        'event routing not reloaded; the previous routing stays in force',
      );
    }
  }

  private createStateStore(config: EventRouterConfig, kube: KubeClient): StateStore {
    const { log, dataDir } = this.ctx;
    if ('configMap' in config.state) {
      const { namespace, name } = config.state.configMap;
      return new ConfigMapStateStore({ kube, namespace: namespace ?? ownNamespace(), name, log });
    }
    const file = config.state.file;
    return new FileStateStore({ path: isAbsolute(file) ? file : join(dataDir, file), log });
  }

  private async lead(signal: AbortSignal): Promise<void> {
    if (this.leading) return;
    const { config, ctx } = this;
    const state = await this.loadState(signal);
    if (signal.aborted) return;
    const resume = new ResumePoint(state);
    const aggregator = new Aggregator({
      ...aggregationSettings(config.aggregation),
      send: sendAndRemember(this.chatRobots, this.sent, systemClock),
      log: ctx.log,
      metrics: ctx.metrics,
    });
    const dispatcher = new EventDispatcher({
      resume,
      aggregator,
      routing: () => this.tree!,
      enricher: this.enricher,
      archive: this.archive,
      metrics: this.m.dispatch,
    });
    const watcher = new EventWatcher({
      kube: this.kube!,
      api: config.api,
      namespaces: config.namespaces,
      log: ctx.log,
      metrics: ctx.metrics,
      onEvent: (event) => dispatcher.observe(event),
    });
    const saveTimer = setInterval(() => void this.save(), config.saveInterval);
    this.leading = { resume, aggregator, dispatcher, watcher, saveTimer };
    watcher.start();
    ctx.log.info({ resumeTime: new Date(resume.snapshot().time).toISOString() }, 'event router watching');
  }

  /**
   * Sends what the aggregator holds to the outbox, saves the resume point and, with leader election, stops
   * the robots, so whoever leads next starts from here and finds what waits.
   */
  private async unlead(): Promise<void> {
    const leading = this.leading;
    if (leading) {
      clearInterval(leading.saveTimer);
      await leading.watcher.stop();
      leading.aggregator.flush();
      leading.aggregator.stop();
      leading.dispatcher.close();
      await this.save();
      this.leading = undefined;
    }
  }

  /** The saved resume point; an unreachable ConfigMap is waited for, since starting without it would repeat. */
  private async loadState(signal: AbortSignal) {
    const retry = new RetryStreak({ backoff: STATE_RETRY });
    for (;;) {
      try {
        return await this.stateStore!.load();
      } catch (err) {
        this.ctx.log.warn(
          { err: describeError(err), state: this.stateStore!.describe() },
          'cannot read the resume point yet; retrying',
        );
        await sleep(retry.fail(), signal).catch(() => {});
        if (signal.aborted) return undefined;
      }
    }
  }

  /**
   * Saves leave out the events whose message still waits in the aggregator (after a kill -9 they are told
   * again rather than never) and include those whose message is in the robots' outbox, which delivers it
   * after a restart (so it is not told twice). The save after a flush leaves out nothing.
   */
  private async save(): Promise<void> {
    const leading = this.leading;
    if (!leading) return;
    try {
      const snapshot = leading.resume.snapshot();
      // The point moves past an event only once the message covering it is kept where the next start finds it.
      await this.chatRobots.flush();
      await this.stateStore!.save(snapshot);
    } catch (err) {
      this.m.saveFailures.inc();
      this.ctx.log.warn({ err: describeError(err) }, 'cannot save the resume point; will try again');
    }
  }
}
