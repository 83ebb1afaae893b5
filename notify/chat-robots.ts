import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Service } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RobotConfig, RobotsConfig } from './config.ts';
import type { Notification } from './message.ts';
import { type NotifyMetrics, notifyMetrics } from './metrics.ts';
import { Robot } from './robot.ts';

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
  private started = false;

  constructor(options: ChatRobotsOptions) {
    this.options = options;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.dir = join(options.dataDir, 'notify');
    mkdirSync(this.dir, { recursive: true });
    this.metrics = notifyMetrics(
      options.metrics,
      () => [...this.robots].map(([name, robot]) => [name, robot.oldestQueuedAt()]),
      () => this.clock.now(),
    );
    for (const [name, config] of Object.entries(options.robots)) this.add(name, config);
  }

  private add(name: string, config: RobotConfig): void {
    const robot = new Robot({
      name,
      config,
      log: this.log,
      metrics: this.metrics,
      clock: this.clock,
      dir: this.dir,
      random: this.options.random,
    });
    this.robots.set(name, robot);
    this.configs.set(name, JSON.stringify(config));
    if (this.started) robot.start();
  }

  /** Configured robot names, for checking routes. */
  names(): string[] {
    return [...this.robots.keys()];
  }

  async start(): Promise<void> {
    this.started = true;
    for (const robot of this.robots.values()) robot.start();
  }

  send(robotNames: readonly string[], message: Notification): SendResult {
    const result: SendResult = { queued: [], dropped: [] };
    for (const name of new Set(robotNames)) {
      const robot = this.robots.get(name);
      if (!robot) {
        this.metrics.dropped.inc({ robot: name, reason: 'unknown_robot' });
        this.log.error(
          { robot: name, reason: 'unknown_robot', notificationKey: message.key, title: message.title },
          'notification dropped',
        );
        result.dropped.push(name);
        continue;
      }
      (robot.enqueue(message) ? result.queued : result.dropped).push(name);
    }
    return result;
  }

  /** Resolves when every robot has sent everything it holds. */
  async idle(): Promise<void> {
    await Promise.all([...this.robots.values()].map((robot) => robot.idle()));
  }

  async stop(deadline: AbortSignal): Promise<void> {
    const all = [...this.robots.values(), ...this.retiring];
    await Promise.all(all.map((robot) => robot.stop(deadline)));
  }

  /**
   * Swaps the robot set. A robot whose settings changed keeps its queue and,
   * when it still addresses the same real robot, its send history, so a
   * reload cannot buy extra messages inside a minute. A removed robot sends
   * what it holds in the background.
   */
  async reload(robots: RobotsConfig, deadline: AbortSignal): Promise<void> {
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
        this.add(name, config);
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
