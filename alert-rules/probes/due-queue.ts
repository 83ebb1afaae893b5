/**
 * Items by the time they are due, earliest first (a binary heap): the
 * scheduler sleeps once until the earliest instead of keeping one timer per
 * target, so ten thousand targets cost ten thousand heap entries, not timers.
 */
export class DueQueue<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  /** When the earliest item is due; undefined when empty. */
  peekTime(): number | undefined {
    return this.times[0];
  }

  push(atMs: number, item: T): void {
    this.times.push(atMs);
    this.items.push(item);
    this.up(this.times.length - 1);
  }

  /** Takes the earliest item. */
  pop(): { atMs: number; item: T } | undefined {
    const atMs = this.times[0];
    const item = this.items[0];
    if (atMs === undefined || item === undefined) return undefined;
    const lastTime = this.times.pop()!;
    const lastItem = this.items.pop()!;
    if (this.times.length > 0) {
      this.times[0] = lastTime;
      this.items[0] = lastItem;
      this.down(0);
    }
    return { atMs, item };
  }

  private up(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.times[parent]! <= this.times[child]!) return;
      this.swap(parent, child);
      child = parent;
    }
  }

  private down(index: number): void {
    const n = this.times.length;
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let least = parent;
      if (left < n && this.times[left]! < this.times[least]!) least = left;
      if (right < n && this.times[right]! < this.times[least]!) least = right;
      if (least === parent) return;
      this.swap(parent, least);
      parent = least;
    }
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b]!, this.times[a]!];
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
  }
}
