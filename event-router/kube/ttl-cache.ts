import { type Clock, systemClock } from '../../core/clock.ts';

/**
 * A map of at most `maxEntries` entries, the least recently used going first, whose entries also expire
 * after their own time to live.
 */
export class TtlLruCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(maxEntries: number, clock: Pick<Clock, 'now'> = systemClock) {
    if (!(maxEntries >= 1)) throw new Error(`a cache needs room for at least one entry, not ${maxEntries}`);
    this.maxEntries = maxEntries;
    this.clock = clock;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.clock.now()) return undefined;
    // A Map iterates in insertion order, so re-inserting keeps the least recently used first.
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
