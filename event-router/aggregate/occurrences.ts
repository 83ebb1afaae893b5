import type { ObservedEvent } from '../event.ts';

/**
 * The API server deletes an Event an hour after its last update (kube-apiserver
 * --event-ttl), so an Event object not seen for that long will not come back
 * and its count need not be remembered.
 */
const EVENT_TTL_MS = 60 * 60_000;

interface Seen {
  count: number;
  lastTime: number;
  seenAt: number;
}

/** Occurrences of an Event object that no message has counted yet. */
export interface NewOccurrences {
  count: number;
  /** When the first of them happened, as well as the event tells. */
  firstTime: number;
  /** The Event object was seen before by this process. */
  known: boolean;
}

/**
 * Turns the cumulative `count` of Event objects into new occurrences. The API
 * server bumps one Event's count as an incident recurs, so each update must
 * count only its increase, and an Event seen for the first time counts all of
 * its count: a BackOff seen with counts 1, 2, …, 30 adds up to 30, not 465.
 */
export class OccurrenceCounter {
  /** Least recently seen first, so the oldest is evicted at the cap. */
  private readonly seen = new Map<string, Seen>();
  private maxEvents: number;

  constructor(maxEvents: number) {
    this.maxEvents = maxEvents;
  }

  resize(maxEvents: number): void {
    this.maxEvents = maxEvents;
    for (const uid of this.seen.keys()) {
      if (this.seen.size <= maxEvents) break;
      this.seen.delete(uid);
    }
  }

  get size(): number {
    return this.seen.size;
  }

  take(event: ObservedEvent, now: number): NewOccurrences {
    const previous = this.seen.get(event.uid);
    this.seen.delete(event.uid);
    if (this.seen.size >= this.maxEvents) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(event.uid, {
      count: Math.max(event.count, previous?.count ?? 0),
      lastTime: Math.max(event.lastTime, previous?.lastTime ?? 0),
      seenAt: now,
    });
    if (!previous) return { count: event.count, firstTime: event.firstTime, known: false };
    if (event.count > previous.count) {
      return { count: event.count - previous.count, firstTime: event.lastTime, known: true };
    }
    // Reporters that do not bump the count (events.k8s.io without a series) still move the time on a recurrence;
    // the same event delivered twice (a re-list) moves neither.
    const recurred = event.lastTime > previous.lastTime;
    return { count: recurred ? 1 : 0, firstTime: event.lastTime, known: true };
  }

  /** Forgets Event objects the API server has deleted by now. */
  sweep(now: number): void {
    for (const [uid, seen] of this.seen) {
      if (now - seen.seenAt <= EVENT_TTL_MS) break;
      this.seen.delete(uid);
    }
  }
}
