import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from './config.ts';
import { Lifecycle, type Service } from './lifecycle.ts';
import { createLogger } from './log.ts';

type Config = { value: string; timeoutMs: number };

function harness(loads: (() => Config)[]) {
  const logged: string[] = [];
  const log = createLogger({
    destination: new Writable({
      write(chunk, _e, cb) {
        logged.push(String(chunk));
        cb();
      },
    }),
  });
  const lifecycle = new Lifecycle<Config>(
    {
      log,
      load: async () => {
        const next = loads.shift();
        if (!next) throw new Error('no more configs');
        return next();
      },
      shutdownTimeoutMs: (c) => c.timeoutMs,
      shutdownGraceMs: () => 300,
    },
    { value: 'first', timeoutMs: 1_000 },
  );
  return { lifecycle, logged };
}

function recorder(name: string, events: string[], stopMs = 0): Service<Config> {
  return {
    name,
    start: async () => {
      events.push(`start ${name}`);
    },
    stop: async (deadline) => {
      events.push(`stop ${name}`);
      await new Promise((resolve) => setTimeout(resolve, stopMs));
      events.push(`${name} drained${deadline.aborted ? ' late' : ''}`);
    },
    reload: async (config) => {
      events.push(`reload ${name} ${config.value}`);
    },
  };
}

describe('lifecycle', () => {
  it('starts in order, stops in reverse, draining each, and exits 0', async () => {
    const events: string[] = [];
    const { lifecycle } = harness([]);
    lifecycle.add(recorder('component', events, 20));
    lifecycle.add(recorder('http', events));
    await lifecycle.start();
    expect(await lifecycle.shutdown('SIGTERM')).toBe(0);
    expect(events).toEqual([
      'start component',
      'start http',
      'stop http',
      'http drained',
      'stop component',
      'component drained',
    ]);
  });

  it('shuts down once however often it is asked', async () => {
    const events: string[] = [];
    const { lifecycle } = harness([]);
    lifecycle.add(recorder('a', events));
    const [first, second] = await Promise.all([lifecycle.shutdown('SIGTERM'), lifecycle.shutdown('SIGINT')]);
    expect([first, second]).toEqual([0, 0]);
    expect(events.filter((e) => e === 'stop a')).toHaveLength(1);
  });

  it('gives up at the deadline with exit code 1', async () => {
    const events: string[] = [];
    const { lifecycle, logged } = harness([]);
    lifecycle.config = { value: 'x', timeoutMs: 50 };
    lifecycle.add(recorder('slow', events, 5_000));
    const started = Date.now();
    expect(await lifecycle.shutdown('SIGTERM')).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(logged.join()).toContain('deadline passed');
  });

  it('past the deadline still stops the services not reached yet, and waits for them within the grace period', async () => {
    const events: string[] = [];
    const { lifecycle } = harness([]);
    lifecycle.config = { value: 'x', timeoutMs: 50 };
    lifecycle.add(recorder('robots', events, 100));
    lifecycle.add(recorder('stuck', events, 60_000));
    expect(await lifecycle.shutdown('SIGTERM')).toBe(1);
    expect(events).toEqual(['stop stuck', 'stop robots', 'robots drained late']);
  });

  it('reloads a valid config into every service', async () => {
    const events: string[] = [];
    const { lifecycle } = harness([() => ({ value: 'second', timeoutMs: 1_000 })]);
    lifecycle.add(recorder('a', events));
    expect(await lifecycle.reload()).toBe(true);
    expect(events).toEqual(['reload a second']);
    expect(lifecycle.config.value).toBe('second');
  });

  it('gives each reload the configured shutdown deadline, for services that restart to apply it', async () => {
    const { lifecycle } = harness([() => ({ value: 'second', timeoutMs: 50 })]);
    let waitedMs = 0;
    lifecycle.add({
      name: 'restarting',
      start: async () => {},
      stop: async () => {},
      reload: async (_config, deadline) => {
        const started = Date.now();
        await new Promise((resolve) => deadline.addEventListener('abort', resolve, { once: true }));
        waitedMs = Date.now() - started;
      },
    });
    expect(await lifecycle.reload()).toBe(true);
    expect(waitedMs).toBeGreaterThanOrEqual(40);
    expect(waitedMs).toBeLessThan(5_000);
  });

  it('rejects an invalid config on reload and keeps the old one', async () => {
    const events: string[] = [];
    const { lifecycle, logged } = harness([
      () => {
        throw new ConfigInvalidError('file.yaml', [
          { path: 'sinks.kafka.brokers[0]', message: 'expected host:port' },
        ]);
      },
    ]);
    lifecycle.add(recorder('a', events));
    expect(await lifecycle.reload()).toBe(false);
    expect(events).toEqual([]);
    expect(lifecycle.config.value).toBe('first');
    expect(logged.join()).toContain('sinks.kafka.brokers[0]: expected host:port');
  });
});
