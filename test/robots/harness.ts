import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, expect } from 'vitest';
import type { Clock } from '../../core/clock.ts';
import { validate } from '../../core/config.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { ChatRobots } from '../../notify/chat-robots.ts';
import { type RobotsConfig, robotsSchema } from '../../notify/config.ts';
import { type RobotServer, startRobotServer } from './robot-server.ts';
import { VirtualClock } from './virtual-clock.ts';

/** A logger whose JSON lines are kept for assertions. */
export function captureLog(): { log: Logger; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  });
  return { log, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** Validates a `robots` section the way the config file would be, defaults included. */
export function robotsConfig(input: Record<string, unknown>): RobotsConfig {
  const result = validate(robotsSchema, input);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return result.value;
}

/** Started chat robots with captured logs and its own metrics registry, keeping their outboxes in `dataDir`. */
export async function startChatRobots(robots: Record<string, unknown>, dataDir: string, clock?: Clock) {
  const { log, lines, records } = captureLog();
  const metrics = new Metrics({ defaults: false });
  const chat = new ChatRobots({
    robots: robotsConfig(robots),
    log,
    metrics,
    dataDir,
    clock,
    random: () => 0.5,
  });
  await chat.start();
  const metric = async (name: string, labels: Record<string, string>) => {
    const found = (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries(labels).every(([k, want]) => v.labels[k] === want),
    );
    return found?.value ?? 0;
  };
  return { chat, metrics, metric, lines, records, dataDir };
}

/**
 * Per test: a virtual clock, a robot server on that clock, and chat robots that
 * are stopped afterwards, when their logs are also checked for every token,
 * key and secret the test configured.
 */
export function useRobotBed() {
  let clock: VirtualClock | undefined;
  let server: RobotServer | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    clock = new VirtualClock();
    server = await startRobotServer({ clock });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await server?.close();
  });
  const bed = {
    get clock(): VirtualClock {
      return clock!;
    },
    get server(): RobotServer {
      return server!;
    },
    /**
     * Started chat robots on the virtual clock, or on real time (for request
     * timeouts) when asked; in a new data directory unless given the one of
     * earlier chat robots, which is how a test restarts them.
     */
    async chat(robots: Record<string, unknown>, options: { realTime?: boolean; dataDir?: string } = {}) {
      let dataDir = options.dataDir;
      if (dataDir === undefined) {
        const made = mkdtempSync(join(tmpdir(), 'lookout-notify-'));
        cleanups.push(async () => rmSync(made, { recursive: true, force: true }));
        dataDir = made;
      }
      const harness = await startChatRobots(robots, dataDir, options.realTime ? undefined : clock);
      cleanups.unshift(async () => {
        await harness.chat.stop(AbortSignal.timeout(1_000));
        const log = harness.lines.join('\n');
        for (const robot of Object.values(robots) as Record<string, unknown>[]) {
          for (const secret of [robot.accessToken, robot.key, robot.secret]) {
            if (typeof secret === 'string') expect(log).not.toContain(secret);
          }
        }
      });
      return harness;
    },
  };
  return bed;
}
