/**
 * What became of one message at one robot, as far as this process knows: the
 * robot updates it as the message waits, goes out (alone or in a digest), is
 * retried or is dropped. Kept only in memory, for people watching: a message
 * replayed from the outbox after a restart has none.
 */
export interface Delivery {
  outcome: 'waiting' | 'sent' | 'digested' | 'retrying' | 'dropped';
  /** The robot's error code and message, or why it was dropped; never the robot's address. */
  detail?: string;
  /** When the outcome last changed. */
  at: number;
}

/** The deliveries each queued entry stands for; a digest stands for those of every entry merged into it. */
export class DeliveryTracker<Entry extends object> {
  private readonly deliveries = new WeakMap<Entry, Delivery[]>();

  track(entries: readonly Entry[], delivery: Delivery): void {
    for (const entry of entries) this.deliveries.set(entry, [delivery]);
  }

  /** `next` takes the place of `entries` (a digest of them, or one cut shorter). */
  carry(entries: readonly Entry[], next: Entry): void {
    const all = entries.flatMap((entry) => this.deliveries.get(entry) ?? []);
    if (all.length > 0) this.deliveries.set(next, all);
  }

  mark(entries: readonly Entry[], outcome: Delivery['outcome'], at: number, detail?: string): void {
    for (const entry of entries) {
      for (const delivery of this.deliveries.get(entry) ?? []) {
        delivery.outcome = outcome;
        delivery.at = at;
        if (detail === undefined) delete delivery.detail;
        else delivery.detail = detail;
      }
    }
  }
}
