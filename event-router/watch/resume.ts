import { type Clock, systemClock } from '../../core/clock.ts';
import type { ObservedEvent } from '../event.ts';

/** What an event last looked like when the router handled it. */
export interface SeenEvent {
  count: number;
  /** Epoch ms. */
  lastTime: number;
}

/**
 * Where the router stands, as persisted across restarts and leader changes: every event that happened at or
 * before `time` and is not in `keys` is history; `keys` (Event uid → what was handled) are the events handled
 * recently enough that they may still change or be listed again.
 */
export interface ResumeState {
  /** Epoch ms. */
  time: number;
  keys: Record<string, SeenEvent>;
}

/**
 * - new: an incident the router has not handled and that happened after the resume time.
 * - update: a handled incident that recurred (count grew, or a newer occurrence time).
 * - seen: a handled incident, unchanged: a re-list, a restart, or a change of no interest (labels, …).
 * - old: it happened before the resume time and was never handled: history, not news.
 */
export type Verdict = 'new' | 'update' | 'seen' | 'old';

/**
 * The messages one judged event goes into. The event counts as handled once
 * each of them is written to the robots' outbox (or will never be, when no
 * route takes it): until then a snapshot saves it as not yet judged, so that
 * after a kill -9 it is told again rather than never, and once it is, it is
 * saved as handled, so it is not told twice.
 */
export class Hold {
  /** The judge's own share, given up once the event has been handed on. */
  private open = 1;

  get told(): boolean {
    return this.open === 0;
  }

  /** One more message must be written before the event counts as handled. */
  add(): void {
    this.open++;
  }

  /** A message that covers the event is written (or the event needs none). */
  done(): void {
    this.open = Math.max(0, this.open - 1);
  }
}

export interface ResumeOptions {
  clock?: Pick<Clock, 'now'>;
  /** How far behind the save time the saved resume time is set. */
  slackMs?: number;
  /** How long a handled event is remembered after its last occurrence. */
  horizonMs?: number;
  /** The most handled events remembered. */
  maxKeys?: number;
}

/**
 * Keeps the newest `maxKeys` keys. The resume time moves up to the newest dropped key so that a dropped event,
 * if it is listed again, is judged old rather than new: when memory must give, a repeat is the worse outcome,
 * and the events this can skip are ones that took longer to arrive than the dropped key is old.
 */
export function limitKeys(state: ResumeState, maxKeys: number): ResumeState {
  const entries = Object.entries(state.keys);
  if (entries.length <= maxKeys) return state;
  entries.sort(([, a], [, b]) => b.lastTime - a.lastTime);
  const newestDropped = entries[maxKeys]?.[1].lastTime ?? state.time;
  return { time: Math.max(state.time, newestDropped), keys: Object.fromEntries(entries.slice(0, maxKeys)) };
}

/**
 * Decides which events are news, so that neither a (re)list nor a restart repeats or skips any.
 *
 * Only new and update verdicts change what is remembered: an old event is not recorded, so should it recur
 * later (a newer lastTime) it is new, which is right, as nothing was ever sent about it. Everything judged new
 * or update is recorded whether the router then routes it or drops it: "handled" is not "sent".
 */
export class ResumePoint {
  private time: number;
  private keys: Map<string, SeenEvent>;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly slackMs: number;
  private readonly horizonMs: number;
  private readonly maxKeys: number;
  /** Verdicts not yet told, oldest first, with what they replaced: a snapshot leaves them out. */
  private journal: {
    at: number;
    uid: string;
    before: SeenEvent | undefined;
    lastTime: number;
    hold: Hold;
  }[] = [];

  /**
   * Without a saved state (the first start ever) the resume time is now: what happened before is history.
   * core/v1 times are whole seconds, so the time starts at the beginning of the current second, or an
   * event recorded in the same second as the start would count as history.
   */
  constructor(state: ResumeState | undefined, options: ResumeOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.slackMs = options.slackMs ?? 30_000;
    this.horizonMs = options.horizonMs ?? 3_600_000;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.time = state?.time ?? Math.floor(this.clock.now() / 1000) * 1000 - 1;
    this.keys = new Map(Object.entries(state?.keys ?? {}));
  }

  /** How many handled events are remembered. */
  get size(): number {
    return this.keys.size;
  }

  /** Without a hold, a new or update verdict counts as handled at once. */
  judge(e: ObservedEvent, hold?: Hold): Verdict {
    const known = this.keys.get(e.uid);
    if (known) {
      if (e.count <= known.count && e.lastTime <= known.lastTime) return 'seen';
      if (hold)
        this.journal.push({ at: this.clock.now(), uid: e.uid, before: known, lastTime: e.lastTime, hold });
      this.keys.set(e.uid, {
        count: Math.max(e.count, known.count),
        lastTime: Math.max(e.lastTime, known.lastTime),
      });
      return 'update';
    }
    if (e.lastTime <= this.time) return 'old';
    if (hold)
      this.journal.push({ at: this.clock.now(), uid: e.uid, before: undefined, lastTime: e.lastTime, hold });
    this.keys.set(e.uid, { count: e.count, lastTime: e.lastTime });
    // Bounded between snapshots too, with headroom so that the sort runs once per maxKeys/10 events.
    if (this.keys.size > this.maxKeys + Math.ceil(this.maxKeys / 10)) this.prune(this.maxKeys);
    return 'new';
  }

  /**
   * The state to persist. Its time is `slackMs` before now: an event that happened just before the save may
   * still be on its way through the watch; unknown to the saved keys but newer than the saved time, it is new
   * after a restart instead of lost. Events handled in that window are in the keys, so they are not repeated.
   *
   * The running process keeps its own, earlier, time: moving it to now - slack would turn the events still in
   * flight into old ones. Both forget events last seen more than `horizonMs` before the saved time (Kubernetes
   * keeps events for an hour by default), and the running time moves past them so they stay old if re-listed.
   *
   * Verdicts whose hold is not told yet are saved as they were before: their messages still wait in the
   * aggregator, and after a crash they are judged again rather than lost. One held past the horizon (its group
   * was forgotten at the group cap) counts as handled.
   */
  snapshot(): ResumeState {
    const now = this.clock.now();
    const time = Math.max(this.time, now - this.slackMs);
    this.prune(this.maxKeys, time - this.horizonMs);
    const saved = { time: Math.max(time, this.time), keys: Object.fromEntries(this.keys) };
    this.journal = this.journal.filter((entry) => !entry.hold.told && entry.at > now - this.horizonMs);
    // Newest first, so that an event judged twice in the window goes back to what it was before both.
    for (const entry of this.journal.toReversed()) {
      if (entry.before) saved.keys[entry.uid] = entry.before;
      else {
        delete saved.keys[entry.uid];
        saved.time = Math.min(saved.time, entry.lastTime - 1);
      }
    }
    return saved;
  }

  private prune(maxKeys: number, forgetBefore = Number.NEGATIVE_INFINITY): void {
    this.time = Math.max(this.time, forgetBefore);
    for (const [uid, seen] of this.keys) if (seen.lastTime < forgetBefore) this.keys.delete(uid);
    if (this.keys.size <= maxKeys) return;
    const limited = limitKeys({ time: this.time, keys: Object.fromEntries(this.keys) }, maxKeys);
    this.time = limited.time;
    this.keys = new Map(Object.entries(limited.keys));
  }
}
