import { type BackoffOptions, RetryStreak } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import { type Logger, scrubUrls } from '../core/log.ts';
import { Composer, type Entry } from './compose.ts';
import type { RobotConfig } from './config.ts';
import { type Delivery, DeliveryTracker } from './delivery.ts';
import { DingtalkApi } from './dingtalk.ts';
import type { Notification, Outgoing } from './message.ts';
import type { DropReason, NotifyMetrics } from './metrics.ts';
import type { FsyncPolicy } from './outbox/outbox.ts';
import { robotFingerprint } from './outbox/send-log-file.ts';
import type { OpenedOutbox, OutboxLog, OutboxStore, SendLog } from './outbox/store.ts';
import { RateWindow } from './rate-window.ts';
import type { Outcome, RobotApi } from './robot-api.ts';
import { WecomApi } from './wecom.ts';

export interface RobotOptions {
  name: string;
  config: RobotConfig;
  log: Logger;
  metrics: NotifyMetrics;
  clock: Clock;
  /** Where the robot's outbox and send log live. */
  store: OutboxStore;
  /** For the retry jitter; injectable so tests are repeatable. */
  random?: () => number;
}

interface Batch {
  entries: Entry[];
  outgoing: Outgoing;
  digest: boolean;
}

/** Which real robot a configuration addresses: its send history follows it across reloads. */
function identity(config: RobotConfig): string {
  return JSON.stringify([
    config.type,
    config.baseUrl,
    config.type === 'dingtalk' ? config.accessToken : config.key,
  ]);
}

function fsyncPolicy(config: RobotConfig): FsyncPolicy {
  return config.queue.fsync === 'always' ? 'always' : { intervalMs: config.queue.fsync };
}

function sendBackoff(config: RobotConfig): BackoffOptions {
  return { initialMs: config.retry.minDelay, maxMs: config.retry.maxDelay };
}

function throttleBackoff(config: RobotConfig): BackoffOptions {
  return { initialMs: config.retry.pause, maxMs: config.retry.maxPause };
}

/** An address's secrets, should a robot ever repeat one in its answer. */
const SECRET_PARAMS = /\b(access_token|key|sign|timestamp)=[^&\s]+/gi;

/** A robot's words, without any secret of its address that they might repeat. */
function withoutSecrets(text: string | undefined): string | undefined {
  return text?.replace(SECRET_PARAMS, '$1=…');
}

/** An errcode and the robot's words, for people watching. */
function deliveryDetail(code: unknown, message: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  return typeof message === 'string' && message ? `${code}: ${message}` : code;
}

/** Names the failure without the URL, which carries the token. */
function networkError(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : (err as Error).name;
}

/**
 * One chat robot: a bounded queue, mirrored in a durable outbox, in front of
 * a rate window whose send log is saved too, sending one message at a time.
 * What the window holds back waits; what waited longer than `queue.maxAge` is
 * merged into a digest, and so are the oldest when the queue is full. A
 * message leaves only when the robot accepted it or it is dead-lettered (a
 * final rejection, or its robot removed), counted and logged; what is left at
 * shutdown waits in the outbox for the next start.
 */
/** A message the robot refused for good (its settings, usually), as the status page shows it. */
export interface Refusal {
  at: string;
  errcode: string;
  /** The robot's own words, any URL in them without its query string. */
  errmsg: string;
  title: string;
  messages: number;
}

/** What a robot holds now and what it refused lately; nothing of its address or keys. */
export interface RobotStatus {
  name: string;
  type: RobotConfig['type'];
  queued: number;
  oldestQueuedAt: string | null;
  /** The latest last, at most REFUSALS_KEPT. */
  refusals: Refusal[];
}

/** Enough to tell a broken robot from one refusal in a while, and small enough to answer every time. */
const REFUSALS_KEPT = 10;
const ERRMSG_CHARS = 300;

export class Robot {
  readonly name: string;
  private readonly refusals: Refusal[] = [];
  private config!: RobotConfig;
  private api!: RobotApi;
  private composer!: Composer;
  private window!: RateWindow;
  private identity = '';
  private fingerprint = '';
  private readonly queue: Entry[];
  private readonly deliveries = new DeliveryTracker<Entry>();
  private readonly outbox: OutboxLog;
  private readonly sendLog: SendLog;
  private readonly log: Logger;
  private readonly metrics: NotifyMetrics;
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private stopping = false;
  private sending = false;
  /** The batch being sent: the head of the queue, which nothing may merge away meanwhile. */
  private inFlight = 0;
  private closed = false;
  private readonly sendFailures: RetryStreak;
  private readonly throttles: RetryStreak;
  private arrival: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(options: RobotOptions) {
    this.name = options.name;
    this.log = options.log;
    this.metrics = options.metrics;
    this.clock = options.clock;
    const { config, random, clock } = options;
    this.sendFailures = new RetryStreak({ backoff: sendBackoff(config), random, clock });
    // The robot's own throttle, not a crowd of clients, sets this pause: no jitter.
    this.throttles = new RetryStreak({ backoff: throttleBackoff(config), random: () => 1, clock });
    this.sendLog = options.store.sendLog(this.name, this.log);
    this.configure(config);
    const opened = options.store.openOutbox(this.name, fsyncPolicy(config), clock.now());
    this.outbox = opened.outbox;
    this.queue = opened.entries;
    this.reportOpened(opened);
    this.updateDepth();
  }

  private reportOpened({ entries, tornBytes, corrupt }: OpenedOutbox): void {
    if (corrupt) {
      this.metrics.outboxCorrupt.inc({ robot: this.name });
      this.log.error(
        { robot: this.name, error: corrupt.error, movedTo: corrupt.movedTo },
        'robot outbox is corrupt and was not read; it was moved aside for inspection and the robot starts with an empty outbox: messages in it were not sent',
      );
    }
    if (tornBytes > 0) {
      this.log.warn(
        { robot: this.name, bytes: tornBytes },
        'robot outbox ended in a record cut short by a crash; removed it',
      );
    }
    if (entries.length > 0) {
      this.metrics.replayed.inc({ robot: this.name }, entries.length);
      const oldestMs = this.clock.now() - entries[0]!.enqueuedAt;
      this.log.info(
        { robot: this.name, messages: entries.length, oldestMs },
        'sending what waited in the outbox',
      );
    }
  }

  /** Applies a new configuration; the queue stays, and so does the send history if it is the same robot. */
  configure(config: RobotConfig): void {
    const next = identity(config);
    if (next !== this.identity) {
      this.window = new RateWindow(config.perMinute);
      this.fingerprint = robotFingerprint(next);
      const saved = this.sendLog.load(this.fingerprint);
      if (saved) this.window.restore(saved, this.clock.now());
    }
    this.identity = next;
    this.window.setLimit(config.perMinute);
    this.config = config;
    // Undefined only while the constructor runs, before the outbox is opened with this policy.
    this.outbox?.setPolicy(fsyncPolicy(config));
    this.sendFailures.configure(sendBackoff(config));
    this.throttles.configure(throttleBackoff(config));
    this.api = config.type === 'dingtalk' ? new DingtalkApi(config) : new WecomApi(config);
    this.composer = new Composer(config, this.api);
  }

  /**
   * Queues a notification in the outbox; false when it could not be written there (counted and logged).
   * `delivery`, when given, follows what becomes of it.
   */
  enqueue(n: Notification, delivery?: Delivery): boolean {
    const now = this.clock.now();
    const composed = this.composer.compose(n, now);
    if (delivery) this.deliveries.track(composed.entries, delivery);
    if (composed.templateError) {
      this.log.warn(
        { robot: this.name, notificationKey: n.key, error: composed.templateError },
        'template failed; sending the plain title and text instead',
      );
    }
    if (composed.fitted) this.metrics.truncated.inc({ robot: this.name });
    if (this.closed) {
      this.drop(composed.entries, 'shutdown');
      return false;
    }
    try {
      this.outbox.add(composed.entries, now);
    } catch (err) {
      this.drop(composed.entries, 'outbox_failed', { error: (err as Error).message });
      return false;
    }
    this.queue.push(...composed.entries);
    this.makeRoom(now);
    this.updateDepth();
    this.arrival?.();
    return true;
  }

  /** Merges the oldest waiting messages into digests until the queue is back within its bounds. */
  private makeRoom(now: number): void {
    while (this.queue.length > this.config.queue.maxMessages || !this.outbox.fits()) {
      const from = this.inFlight;
      const excess = Math.max(1, this.queue.length - this.config.queue.maxMessages);
      const oldest = this.queue.slice(from, from + excess + 1);
      // What is being sent leaves the queue in a moment; until then it may stand over the bound.
      if (oldest.length < 2) return;
      const { outgoing, count, titles } = this.composer.digest(oldest, false);
      if (count < 2) {
        // Only when even two titles overflow a digest: nothing can be merged, so the oldest goes.
        this.drop(oldest.slice(0, 1), 'queue_full');
        continue;
      }
      const merged = oldest.slice(0, count);
      const digest: Entry = { outgoing, enqueuedAt: merged[0]!.enqueuedAt, shrunk: false, titles };
      this.queue[from] = digest;
      this.deliveries.carry(merged, digest);
      this.record(() => this.outbox.replace(merged[0]!, digest, now));
      this.remove(merged.slice(1));
      this.metrics.outboxMerged.inc({ robot: this.name }, count);
    }
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves when nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Sends what is queued, merging it into digests at once rather than waiting
   * for maxAge, until the queue is empty or the deadline passes. What is left
   * then stays in the outbox for the next start, or, for a robot removed from
   * the configuration, is dead-lettered.
   */
  stop(deadline: AbortSignal, removed = false): Promise<void> {
    this.stopped ??= this.stopNow(deadline, removed);
    return this.stopped;
  }

  private async stopNow(deadline: AbortSignal, removed: boolean): Promise<void> {
    this.stopping = true;
    const abort = () => this.abort.abort();
    if (deadline.aborted) abort();
    else deadline.addEventListener('abort', abort, { once: true });
    this.start();
    this.arrival?.();
    await this.running;
    deadline.removeEventListener('abort', abort);
    if (removed && this.queue.length > 0) this.drop([...this.queue], 'removed');
    if (this.queue.length > 0) {
      this.log.warn(
        {
          robot: this.name,
          messages: this.queue.length,
          oldestMs: this.clock.now() - this.queue[0]!.enqueuedAt,
        },
        'messages wait in the robot outbox; they are sent after the next start',
      );
    }
    this.closed = true;
    this.outbox.close();
    await this.sendLog.save(this.fingerprint, this.window.state());
    this.settleIdle();
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      if (this.queue.length === 0) {
        this.settleIdle();
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          this.arrival = resolve;
        });
        this.arrival = undefined;
        continue;
      }
      const wait = this.window.delay(this.clock.now());
      if (wait > 0) {
        await this.clock.sleep(wait, signal);
        continue;
      }
      this.sending = true;
      try {
        await this.sendNext();
      } finally {
        this.sending = false;
      }
    }
  }

  private settleIdle(): void {
    if (this.queue.length > 0 || this.sending) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * The head alone while it is fresh or everything queued fits in what the
   * window allows now; otherwise the oldest are merged into one digest, so
   * that the slots left carry the newest messages whole.
   */
  private pick(now: number): Batch {
    const head = this.queue[0]!;
    const stale = this.stopping || now - head.enqueuedAt >= this.config.queue.maxAge;
    const free = Math.max(1, this.window.available(now));
    if (!stale || this.queue.length <= free) {
      return { entries: [head], outgoing: head.outgoing, digest: false };
    }
    const oldest = this.queue.slice(0, this.queue.length - free + 1);
    const { outgoing, count } = this.composer.digest(
      oldest,
      oldest.some((e) => e.shrunk),
    );
    return { entries: oldest.slice(0, count), outgoing, digest: true };
  }

  private async sendNext(): Promise<void> {
    const started = this.clock.now();
    const batch = this.pick(started);
    this.inFlight = batch.entries.length;
    const outcome = await this.post(batch.outgoing).finally(() => {
      this.inFlight = 0;
    });
    if (!outcome) return;
    this.metrics.sends.inc({ robot: this.name, errcode: outcome.code });
    this.metrics.sendSeconds.observe({ robot: this.name }, (this.clock.now() - started) / 1000);
    await this.settle(batch, outcome);
  }

  /** One HTTP attempt; undefined when the shutdown deadline cut it off. */
  private async post(outgoing: Outgoing): Promise<Outcome | undefined> {
    const api = this.api;
    const body = JSON.stringify(api.payload(outgoing));
    const timeout = AbortSignal.timeout(this.config.timeout);
    // Saved first: if the process dies before the answer, the next one still counts this send.
    await this.sendLog.save(this.fingerprint, this.window.state(this.clock.now() + this.config.timeout));
    this.window.begin();
    try {
      const response = await fetch(api.url(this.clock.now()), {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.any([this.abort.signal, timeout]),
      });
      const text = await response.text();
      let reply: unknown;
      try {
        reply = JSON.parse(text);
      } catch {
        reply = undefined;
      }
      return api.interpret(response.status, reply);
    } catch (err) {
      if (this.abort.signal.aborted) return undefined;
      if (timeout.aborted) return { kind: 'retryable', code: 'timeout' };
      return { kind: 'retryable', code: 'network', message: networkError(err) };
    } finally {
      this.window.end(this.clock.now());
      void this.sendLog.save(this.fingerprint, this.window.state());
    }
  }

  private async settle(batch: Batch, outcome: Outcome): Promise<void> {
    const context = { robot: this.name, errcode: outcome.code, errmsg: withoutSecrets(outcome.message) };
    switch (outcome.kind) {
      case 'ok':
        for (const entry of batch.entries) {
          // A digest made for room (it lists titles) went out as one message too.
          const merged = batch.digest || entry.titles !== undefined;
          this.deliveries.mark([entry], merged ? 'digested' : 'sent', this.clock.now());
        }
        this.remove(batch.entries);
        this.sendFailures.succeed();
        this.throttles.succeed();
        if (batch.digest) this.metrics.digested.inc({ robot: this.name }, batch.entries.length);
        return;
      case 'rate-limited': {
        // DingTalk may keep a robot throttled for ten minutes: back off further while it says so.
        const pauseMs = this.throttles.fail();
        this.deliveries.mark(
          batch.entries,
          'retrying',
          this.clock.now(),
          deliveryDetail(context.errcode, context.errmsg),
        );
        this.window.block(this.clock.now() + pauseMs);
        await this.sendLog.save(this.fingerprint, this.window.state());
        this.log.warn({ ...context, pauseMs, queued: this.queue.length }, 'robot says too fast; pausing it');
        return;
      }
      case 'too-long':
        if (batch.entries.some((e) => !e.shrunk)) {
          this.log.warn(context, 'robot says the message is too long; sending it once more, cut shorter');
          for (const entry of batch.entries) {
            this.replace(entry, batch.digest ? { ...entry, shrunk: true } : this.composer.shrink(entry));
          }
          return;
        }
        this.drop(batch.entries, 'rejected', context);
        return;
      case 'rejected':
        // Usually the robot's settings (310000: signature, keyword or IP allow-list; 300001/93000: token or
        // key): retrying cannot help, and every later message will fail the same way until someone looks.
        this.log.error(context, 'robot rejected the message; not retrying: check the robot settings');
        this.drop(batch.entries, 'rejected', context);
        return;
      case 'retryable': {
        const delayMs = this.sendFailures.fail();
        this.deliveries.mark(
          batch.entries,
          'retrying',
          this.clock.now(),
          deliveryDetail(context.errcode, context.errmsg),
        );
        this.log.warn(
          { ...context, attempt: this.sendFailures.failures, retryInMs: delayMs },
          'send failed; retrying',
        );
        await this.clock.sleep(delayMs, this.abort.signal);
      }
    }
  }

  private replace(entry: Entry, next: Entry): void {
    const index = this.queue.indexOf(entry);
    if (index < 0) return;
    this.queue[index] = next;
    this.deliveries.carry([entry], next);
    this.record(() => this.outbox.replace(entry, next, this.clock.now()));
  }

  private remove(entries: readonly Entry[]): void {
    const gone = new Set(entries);
    const kept = this.queue.filter((e) => !gone.has(e));
    this.queue.splice(0, this.queue.length, ...kept);
    this.record(() => this.outbox.remove(entries, this.clock.now()));
    this.updateDepth();
  }

  /**
   * Writes a change of what waits. Failing to, the robot still sends from memory: the cost is that the
   * outbox holds the old state, and a restart may send such a message again.
   */
  private record(change: () => void): void {
    try {
      change();
    } catch (err) {
      this.log.error(
        { robot: this.name, error: (err as Error).message },
        'could not write to the robot outbox; a restart may send some messages again',
      );
    }
  }

  /** When the oldest waiting message was queued; undefined when none waits. */
  oldestQueuedAt(): number | undefined {
    return this.queue[0]?.enqueuedAt;
  }

  status(): RobotStatus {
    const oldest = this.oldestQueuedAt();
    return {
      name: this.name,
      type: this.config.type,
      queued: this.queue.length,
      oldestQueuedAt: oldest === undefined ? null : new Date(oldest).toISOString(),
      refusals: [...this.refusals],
    };
  }

  private drop(
    entries: readonly Entry[],
    reason: DropReason,
    detail: { errcode?: string; errmsg?: string; [more: string]: unknown } = {},
  ): void {
    const said = deliveryDetail(detail.errcode, detail.errmsg);
    this.deliveries.mark(entries, 'dropped', this.clock.now(), said ? `${reason}, ${said}` : reason);
    this.remove(entries);
    this.metrics.dropped.inc({ robot: this.name, reason }, entries.length);
    const now = this.clock.now();
    if (reason === 'rejected') {
      this.refusals.push({
        at: new Date(now).toISOString(),
        errcode: detail.errcode ?? '',
        errmsg: scrubUrls(detail.errmsg ?? '').slice(0, ERRMSG_CHARS),
        title: entries[0]?.outgoing.title ?? '',
        messages: entries.length,
      });
      if (this.refusals.length > REFUSALS_KEPT) this.refusals.shift();
    }
    for (const entry of entries) {
      this.log.error(
        {
          ...detail,
          robot: this.name,
          reason,
          notificationKey: entry.key,
          title: entry.outgoing.title,
          queuedMs: now - entry.enqueuedAt,
        },
        'notification dropped',
      );
    }
  }

  private updateDepth(): void {
    this.metrics.outboxDepth.set({ robot: this.name }, this.queue.length);
  }
}
