import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/clock.ts';
import { byteSize, duration } from '../../core/config-types.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { SilenceMatcher, SilenceState } from '../api-types.ts';
import type { Labels } from '../types.ts';
import { type Matcher, MatcherError, matches, matchesValue, newMatcher } from './matchers.ts';
import { mergeSilences, type Silence, type SilenceStore } from './silence-store.ts';
import { SILENCE_METRICS } from './silences-metrics.ts';

export const silencesSchema = z.strictObject({
  /** Active and pending silences at most; expired ones do not count. */
  maxSilences: z.number().int().positive().default(10_000),
  /** One silence's stored size at most (matchers and comment included). */
  maxSilenceBytes: byteSize()
    .default(64 * 1024)
    .refine((bytes) => bytes > 0, { error: 'expected more than 0 bytes' }),
  /** Expired silences are kept this long (Alertmanager's 5 days), then removed. */
  retention: duration().default(5 * 86_400_000),
  /** Expired silences kept at most, the oldest removed first. */
  maxExpired: z.number().int().nonnegative().default(10_000),
});
export type SilencesSettings = z.output<typeof silencesSchema>;

export interface SilenceView extends Silence {
  state: SilenceState;
}

/** What a client gives to create a silence, or to change one (with its id). */
export interface SilenceInput {
  id?: string;
  matchers: SilenceMatcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export type SilenceErrorKind = 'invalid' | 'not-found' | 'limit';

export class SilenceError extends Error {
  readonly kind: SilenceErrorKind;
  constructor(kind: SilenceErrorKind, message: string) {
    super(message);
    this.name = 'SilenceError';
    this.kind = kind;
  }
}

/** Alertmanager's states: pending before startsAt, active until endsAt (excluded), expired after. */
export function silenceState(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now < silence.startsAt) return 'pending';
  return now < silence.endsAt ? 'active' : 'expired';
}

export function toMatcher(m: SilenceMatcher): Matcher {
  const type = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return newMatcher(m.name, type, m.value);
}

/** Checks Alertmanager makes on every silence; returns the compiled matchers. */
function validate(silence: Silence, maxBytes: number): Matcher[] {
  if (silence.matchers.length === 0) throw new SilenceError('invalid', 'at least one matcher required');
  const compiled = silence.matchers.map((m, i) => {
    if (m.name === '') throw new SilenceError('invalid', `matcher ${i}: empty label name`);
    try {
      return toMatcher(m);
    } catch (err) {
      if (err instanceof MatcherError) throw new SilenceError('invalid', `matcher ${i}: ${err.message}`);
      throw err;
    }
  });
  // Only `=` and `=~` count: a silence made only of those that also match a missing label would mute everything.
  if (compiled.every((m) => (m.type === '=' || m.type === '=~') && matchesValue(m, ''))) {
    throw new SilenceError('invalid', 'at least one matcher must not match the empty string');
  }
  if (!Number.isFinite(silence.startsAt) || !Number.isFinite(silence.endsAt)) {
    throw new SilenceError('invalid', 'startsAt and endsAt must be times');
  }
  if (silence.endsAt < silence.startsAt)
    throw new SilenceError('invalid', 'end time must not be before start time');
  const bytes = Buffer.byteLength(JSON.stringify(silence));
  if (bytes > maxBytes) {
    throw new SilenceError('limit', `silence is ${bytes} bytes, more than the maximum of ${maxBytes} bytes`);
  }
  return compiled;
}

function sameMatchers(a: readonly SilenceMatcher[], b: readonly SilenceMatcher[]): boolean {
  const key = (list: readonly SilenceMatcher[]) =>
    JSON.stringify(list.map((m) => [m.name, m.value, m.isRegex, m.isEqual]).sort());
  return key(a) === key(b);
}

/** Alertmanager changes a silence in place only when that does not rewrite what it already did. */
function canUpdateInPlace(previous: Silence, next: SilenceInput, now: number): boolean {
  if (!sameMatchers(previous.matchers, next.matchers)) return false;
  switch (silenceState(previous, now)) {
    case 'active':
      return next.startsAt === previous.startsAt && next.endsAt >= now;
    case 'pending':
      return next.startsAt >= now;
    case 'expired':
      return false;
  }
}

interface Entry {
  silence: Silence;
  matchers: Matcher[];
}

export interface SilencesOptions {
  store: SilenceStore;
  settings: SilencesSettings;
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

/**
 * Alertmanager's silences: created, changed and expired through the API,
 * muting the alerts their matchers match while active, kept after expiry for
 * the retention and then removed. Every change is written to the store; a
 * failed write is logged and counted and the next change writes everything.
 */
export class Silences {
  private readonly entries = new Map<string, Entry>();
  private readonly options: SilencesOptions;
  private readonly clock: Clock;
  private saving: Promise<void> = Promise.resolve();

  private constructor(options: SilencesOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Restores what the store kept; unreadable content is logged, counted and left behind, never fatal. */
  static async open(options: SilencesOptions): Promise<Silences> {
    const silences = new Silences(options);
    const { log, store } = options;
    const loaded = await store.load();
    if (loaded.corrupt) {
      options.metrics?.counter(SILENCE_METRICS.storeCorrupt).inc();
      log.error(
        { store: store.describe(), error: loaded.corrupt.error, movedTo: loaded.corrupt.movedTo },
        'stored silences could not be read; starting without silences',
      );
    }
    silences.adopt(loaded.silences);
    log.info({ store: store.describe(), silences: silences.entries.size }, 'silences restored');
    return silences;
  }

  /**
   * Creates a silence, or changes the one with `input.id`. As in Alertmanager,
   * a change that would rewrite the past (other matchers, an active silence's
   * start) expires the old silence and creates a new one: the id returned is
   * the silence now in force.
   */
  async set(input: SilenceInput): Promise<string> {
    const now = this.clock.now();
    const previous = input.id === undefined ? undefined : this.entries.get(input.id);
    if (input.id !== undefined && !previous)
      throw new SilenceError('not-found', `silence ${input.id} not found`);
    const fields = {
      matchers: input.matchers,
      endsAt: input.endsAt,
      createdBy: input.createdBy,
      comment: input.comment,
      updatedAt: now,
    };
    const maxBytes = this.options.settings.maxSilenceBytes;
    let silence: Silence;
    if (previous && canUpdateInPlace(previous.silence, input, now)) {
      silence = { ...previous.silence, ...fields, startsAt: input.startsAt };
      this.entries.set(silence.id, { silence, matchers: validate(silence, maxBytes) });
    } else {
      // A new silence cannot have begun before it was made.
      silence = { id: randomUUID(), ...fields, startsAt: Math.max(input.startsAt, now) };
      const matchers = validate(silence, maxBytes);
      this.checkCount(now);
      if (previous && silenceState(previous.silence, now) !== 'expired') this.end(previous.silence, now);
      this.entries.set(silence.id, { silence, matchers });
    }
    await this.changed(now);
    return silence.id;
  }

  /** Ends a silence now; a pending one becomes expired without ever having been active. */
  async expire(id: string): Promise<void> {
    const now = this.clock.now();
    const entry = this.entries.get(id);
    if (!entry) throw new SilenceError('not-found', `silence ${id} not found`);
    if (silenceState(entry.silence, now) === 'expired')
      throw new SilenceError('invalid', `silence ${id} already expired`);
    this.end(entry.silence, now);
    await this.changed(now);
  }

  get(id: string): SilenceView | undefined {
    const entry = this.entries.get(id);
    return entry && this.view(entry.silence, this.clock.now());
  }

  /** Every silence kept, expired ones included until their retention ends. */
  list(): SilenceView[] {
    const now = this.clock.now();
    return [...this.entries.values()].map((entry) => this.view(entry.silence, now));
  }

  /** Ids of the silences active at `now` whose matchers all match the labels. */
  mutedBy(labels: Labels, now: number = this.clock.now()): string[] {
    const ids: string[] = [];
    for (const { silence, matchers } of this.entries.values()) {
      if (silenceState(silence, now) === 'active' && matches(matchers, labels)) ids.push(silence.id);
    }
    return ids;
  }

  /**
   * Removes expired silences past their retention (or over the bound on
   * expired ones) and brings the metrics up to date; call it now and then.
   */
  async gc(): Promise<number> {
    const now = this.clock.now();
    const removed = this.collect(now);
    if (removed > 0) await this.changed(now);
    this.countStates(now);
    return removed;
  }

  /**
   * Takes in what another replica wrote to a shared store (the version
   * updated last wins); call it now and then when replicas share one.
   */
  async sync(): Promise<void> {
    const loaded = await this.options.store.load();
    const ours = [...this.entries.values()].map((e) => e.silence);
    this.adopt(mergeSilences(ours, loaded.silences).filter((s) => this.entries.get(s.id)?.silence !== s));
  }

  /** Takes silences read from the store; one that is not valid (written by hand, or by another version) is skipped. */
  private adopt(silences: readonly Silence[]): void {
    for (const silence of silences) {
      try {
        this.entries.set(silence.id, { silence, matchers: validate(silence, Number.POSITIVE_INFINITY) });
      } catch (err) {
        this.options.log.warn(
          { silence: silence.id, err: describeError(err) },
          'stored silence ignored: it is not valid',
        );
      }
    }
    const now = this.clock.now();
    this.collect(now);
    this.countStates(now);
  }

  /** Resolves once every change made so far is written (or its write failed and was logged). */
  flush(): Promise<void> {
    return this.saving;
  }

  private view(silence: Silence, now: number): SilenceView {
    return {
      ...silence,
      matchers: silence.matchers.map((m) => ({ ...m })),
      state: silenceState(silence, now),
    };
  }

  private end(silence: Silence, now: number): void {
    const ended: Silence = { ...silence, endsAt: now, updatedAt: now };
    if (silenceState(silence, now) === 'pending') ended.startsAt = now;
    const entry = this.entries.get(silence.id)!;
    this.entries.set(silence.id, { ...entry, silence: ended });
  }

  private checkCount(now: number): void {
    const limit = this.options.settings.maxSilences;
    let count = 0;
    for (const { silence } of this.entries.values()) if (silenceState(silence, now) !== 'expired') count++;
    if (count >= limit) {
      throw new SilenceError(
        'limit',
        `exceeded the maximum number of active and pending silences (${limit})`,
      );
    }
  }

  private collect(now: number): number {
    const { retention, maxExpired } = this.options.settings;
    const expired = [...this.entries.values()]
      .map((e) => e.silence)
      .filter((s) => silenceState(s, now) === 'expired')
      .sort((a, b) => b.endsAt - a.endsAt);
    let removed = 0;
    expired.forEach((silence, i) => {
      if (silence.endsAt + retention <= now || i >= maxExpired) {
        this.entries.delete(silence.id);
        removed++;
      }
    });
    return removed;
  }

  private changed(now: number): Promise<void> {
    this.collect(now);
    this.countStates(now);
    const snapshot = [...this.entries.values()].map((e) => e.silence);
    const { store, log, metrics } = this.options;
    this.saving = this.saving.then(() =>
      store.save(snapshot).catch((err: unknown) => {
        metrics?.counter(SILENCE_METRICS.storeWriteFailures).inc();
        log.error(
          { store: store.describe(), err: describeError(err) },
          'could not write the silences; they stay in force in memory and are written with the next change',
        );
      }),
    );
    return this.saving;
  }

  /** States change with time alone; the gauge shows them as of the last change or gc. */
  private countStates(now: number): void {
    const gauge = this.options.metrics?.gauge(SILENCE_METRICS.silences);
    if (!gauge) return;
    const counts: Record<SilenceState, number> = { active: 0, pending: 0, expired: 0 };
    for (const { silence } of this.entries.values()) counts[silenceState(silence, now)]++;
    for (const [state, count] of Object.entries(counts)) gauge.set({ state }, count);
  }
}
