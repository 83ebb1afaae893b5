import { sleep } from './backoff.ts';
import { ConfigInvalidError, formatConfigErrors } from './config.ts';
import type { Logger } from './log.ts';

/** A long-running part of a process: a component, or the HTTP server. */
export interface Service<C> {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Stop taking new work and finish or flush what is in flight. The signal
   * aborts when the shutdown deadline passes; after that the process exits anyway.
   */
  stop(deadline: AbortSignal): Promise<void>;
  /**
   * Apply a new, already validated configuration in place. A service that
   * restarts to do so must have stopped when the signal aborts: it is the
   * configured shutdown deadline.
   */
  reload?(config: C, deadline: AbortSignal): Promise<void>;
}

export interface LifecycleOptions<C> {
  log: Logger;
  /** Reads and validates the configuration; throws ConfigInvalidError. */
  load(): Promise<C>;
  shutdownTimeoutMs(config: C): number;
  /**
   * How long after the deadline services still get to finish what the abort
   * told them (save what they hold for the next start) before the process exits anyway.
   */
  shutdownGraceMs(config: C): number;
}

/**
 * Starts services in order and stops them in reverse, so the HTTP listener
 * (registered last) stops accepting work before components drain. SIGHUP
 * reloads; a configuration that fails validation is logged and ignored.
 */
export class Lifecycle<C> {
  private readonly services: Service<C>[] = [];
  private stopping: Promise<number> | undefined;
  private reloading: Promise<boolean> = Promise.resolve(true);
  private readonly opts: LifecycleOptions<C>;
  config: C;

  constructor(opts: LifecycleOptions<C>, config: C) {
    this.opts = opts;
    this.config = config;
  }

  add(service: Service<C>): void {
    this.services.push(service);
  }

  async start(): Promise<void> {
    for (const service of this.services) {
      await service.start();
      this.opts.log.debug({ service: service.name }, 'started');
    }
  }

  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  private async reloadNow(): Promise<boolean> {
    const { log } = this.opts;
    let next: C;
    try {
      next = await this.opts.load();
    } catch (err) {
      const detail =
        err instanceof ConfigInvalidError ? formatConfigErrors(err.errors) : (err as Error).message;
      log.error(
        { errors: detail.split('\n') },
        'reload rejected: the new configuration is invalid; keeping the old one',
      );
      return false;
    }
    for (const service of this.services) {
      if (!service.reload) continue;
      try {
        await service.reload(next, AbortSignal.timeout(this.opts.shutdownTimeoutMs(next)));
      } catch (err) {
        log.error(
          { err, service: service.name },
          'reload failed for a service; it keeps its old configuration',
        );
      }
    }
    this.config = next;
    log.info('configuration reloaded');
    return true;
  }

  /** Resolves to the exit code: 0 after a clean drain, 1 when the deadline cut it short or a stop failed. */
  shutdown(reason: string): Promise<number> {
    this.stopping ??= this.shutdownNow(reason);
    return this.stopping;
  }

  private async shutdownNow(reason: string): Promise<number> {
    const { log } = this.opts;
    const timeoutMs = this.opts.shutdownTimeoutMs(this.config);
    log.info({ reason, timeoutMs }, 'shutting down');
    const deadline = AbortSignal.timeout(timeoutMs);
    let code = 0;
    const stops = new Map<Service<C>, Promise<void>>();
    const stop = (service: Service<C>): Promise<void> => {
      let stopping = stops.get(service);
      if (!stopping) {
        stopping = service.stop(deadline).catch((err: unknown) => {
          code = 1;
          log.error({ err, service: service.name }, 'service did not stop cleanly');
        });
        stops.set(service, stopping);
      }
      return stopping;
    };
    const order = this.services.toReversed();
    const drain = (async () => {
      for (const service of order) await stop(service);
    })();
    const timedOut = new Promise<'timeout'>((resolve) => {
      deadline.addEventListener('abort', () => resolve('timeout'), { once: true });
    });
    if ((await Promise.race([drain, timedOut])) !== 'timeout') {
      log.info('stopped');
      return code;
    }
    log.error({ timeoutMs }, 'shutdown deadline passed before everything was flushed');
    // Services the drain has not reached yet are stopped too, past their deadline, so they still save
    // what they hold (the chat robots' outboxes, registered first, are reached last) instead of losing it.
    const graceMs = this.opts.shutdownGraceMs(this.config);
    const rest = Promise.all(order.map(stop));
    const grace = sleep(graceMs).then(() => 'grace' as const);
    if ((await Promise.race([rest, grace])) === 'grace') {
      log.error({ graceMs }, 'services still stopping after the grace period; exiting anyway');
    }
    return 1;
  }

  /** Wires SIGTERM/SIGINT to shutdown and SIGHUP to reload; exits the process when shutdown finishes. */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    const stop = (signal: string) => {
      void this.shutdown(signal).then(exit);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void this.reload());
  }
}
