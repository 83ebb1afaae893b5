import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Service } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RobotConfig, RobotsConfig } from './config.ts';
import type { Delivery } from './delivery.ts';
import type { Notification } from './message.ts';
import { type NotifyMetrics, notifyMetrics } from './metrics.ts';
import type { StoredDocument } from './outbox/document.ts';
import { FileOutboxStore, type OutboxStore } from './outbox/store.ts';
import { Robot, type RobotStatus } from './robot.ts';

export interface ChatRobotsOptions {
  robots: RobotsConfig;
  log: Logger;
  metrics: Metrics;
  /** The process's data directory; each robot keeps its outbox and send log under `notify/` there. */
  dataDir: string;
  clock?: Clock;
  random?: () => number;
}

export interface SendResult {
  /** Robots that wrote the message to their outbox; they deliver it alone or inside a digest. */
  queued: string[];
  /** Robots that could not take it (unknown, outbox not writable, stopped); each is counted and logged. */
  dropped: string[];
}

/**
 * Every chat robot of a process. `send` never waits for a robot and never
 * throws: each named robot writes the message to its outbox (on disk when
 * `send` returns) independently, so a slow or throttled robot holds back only
 * its own group.
 *
 * A process that sends only while it holds a Lease calls `sendOnlyWhileLeading`
 * before start: the robots then exist only between `lead` and `unlead`, with
 * the store the leader hands over, so a standby neither sends nor replays.
 */
export class ChatRobots implements Service<RobotsConfig> {
  readonly name = 'notify';
  private readonly robots = new Map<string, Robot>();
  private readonly configs = new Map<string, string>();
  private readonly retiring = new Set<Robot>();
  private readonly log: Logger;
  private readonly metrics: NotifyMetrics;
  private readonly options: ChatRobotsOptions;
  private readonly clock: Clock;
  private readonly dir: string;
  private robotsConfig: RobotsConfig;
  /** Where the robots keep their outboxes; undefined while a leader-only process does not lead. */
  private store: OutboxStore | undefined;
  private started = false;

  constructor(options: ChatRobotsOptions) {
    this.options = options;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.dir = join(options.dataDir, 'notify');
    mkdirSync(this.dir, { recursive: true });
    this.robotsConfig = options.robots;
    this.store = new FileOutboxStore(this.dir);
    this.metrics = notifyMetrics(
      options.metrics,
      () => [...this.robots].map(([name, robot]) => [name, robot.oldestQueuedAt()]),
      () => this.clock.now(),
    );
  }

  private add(name: string, config: RobotConfig, store: OutboxStore): void {
    const robot = new Robot({
      name,
      config,
      log: this.log,
      metrics: this.metrics,
      clock: this.clock,
      store,
      random: this.options.random,
    });
    this.robots.set(name, robot);
    this.configs.set(name, JSON.stringify(config));
    if (this.started) robot.start();
  }

  /** Configured robot names, for checking routes. */
  names(): string[] {
    return Object.keys(this.robotsConfig);
  }

  /** Before start: the robots send only between `lead` and `unlead`, from the store the leader hands over. */
  sendOnlyWhileLeading(): void {
    if (this.started) throw new Error('sendOnlyWhileLeading must be called before the robots start');
    this.store = undefined;
  }

  async start(): Promise<void> {
    this.started = true;
    if (this.store) this.open(this.store);
  }

  private open(store: OutboxStore): void {
    for (const [name, config] of Object.entries(this.robotsConfig)) this.add(name, config, store);
  }

  /** This replica took the Lease: the robots start from what the last leader left in `store`. */
  lead(store: OutboxStore): void {
    if (this.store) throw new Error('the robots already have a store');
    this.store = store;
    this.open(store);
    this.log.info({ outbox: store.describe(), robots: this.names() }, 'chat robots sending for the leader');
  }

  /**
   * This replica no longer leads: the robots stop at once, what waits stays in
   * the store for the next leader, and this replica writes there no more.
   */
  async unlead(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const robots = [...this.robots.values(), ...this.retiring];
    this.robots.clear();
    this.configs.clear();
    await Promise.all(robots.map((robot) => robot.stop(AbortSignal.abort())));
    this.store = undefined;
    await store.close();
  }

  /**
   * A document of the process's own kept where the robots keep their outboxes
   * (the data directory, or the leader's ConfigMap), so that it survives with
   * them; undefined while a leader-only process does not lead.
   */
  document(name: string, what: string): StoredDocument | undefined {
    return this.store?.document(name, what, this.log);
  }

  /** Resolves once every message queued so far is kept where the next process or leader finds it. */
  async flush(): Promise<void> {
    await this.store?.flush();
  }

  /** `deliveries`, when given, receives what becomes of the message at each robot, updated as it goes. */
  send(robotNames: readonly string[], message: Notification, deliveries?: Map<string, Delivery>): SendResult {
    const result: SendResult = { queued: [], dropped: [] };
    const at = this.clock.now();
    for (const name of new Set(robotNames)) {
      const robot = this.robots.get(name);
      const delivery: Delivery = { outcome: 'waiting', at };
      deliveries?.set(name, delivery);
      if (!robot) {
        Object.assign(delivery, { outcome: 'dropped', detail: 'unknown_robot' });
        this.metrics.dropped.inc({ robot: name, reason: 'unknown_robot' });
        this.log.error(
          { robot: name, reason: 'unknown_robot', notificationKey: message.key, title: message.title },
          'notification dropped',
        );
        result.dropped.push(name);
        continue;
      }
      (robot.enqueue(message, delivery) ? result.queued : result.dropped).push(name);
    }
    return result;
  }

  /**
   * Each robot's queue and latest refusals; `sending` is false while a
   * leader-only process does not lead, and then no robot is listed.
   */
  status(): { sending: boolean; robots: RobotStatus[] } {
    return { sending: this.store !== undefined, robots: [...this.robots.values()].map((r) => r.status()) };
  }

  /** Resolves when every robot has sent everything it holds. */
  async idle(): Promise<void> {
    await Promise.all([...this.robots.values()].map((robot) => robot.idle()));
  }

  async stop(deadline: AbortSignal): Promise<void> {
    const all = [...this.robots.values(), ...this.retiring];
    await Promise.all(all.map((robot) => robot.stop(deadline)));
    await this.store?.close();
  }

  /**
   * Swaps the robot set. A robot whose settings changed keeps its queue and,
   * when it still addresses the same real robot, its send history, so a
   * reload cannot buy extra messages inside a minute. A removed robot sends
   * what it holds in the background.
   */
  async reload(robots: RobotsConfig, deadline: AbortSignal): Promise<void> {
    this.robotsConfig = robots;
    for (const [name, robot] of this.robots) {
      if (Object.hasOwn(robots, name)) continue;
      this.robots.delete(name);
      this.configs.delete(name);
      this.retiring.add(robot);
      void robot
        .stop(deadline, true)
        .catch((err: unknown) => this.log.error({ err, robot: name }, 'removed robot did not stop cleanly'))
        .finally(() => {
          this.retiring.delete(robot);
          this.metrics.outboxDepth.remove({ robot: name });
        });
    }
    for (const [name, config] of Object.entries(robots)) {
      const robot = this.robots.get(name);
      if (!robot) {
        if (this.store && this.started) this.add(name, config, this.store);
        continue;
      }
      const text = JSON.stringify(config);
      if (this.configs.get(name) === text) continue;
      robot.configure(config);
      this.configs.set(name, text);
    }
    this.log.info({ robots: this.names() }, 'chat robots reloaded');
  }
}
