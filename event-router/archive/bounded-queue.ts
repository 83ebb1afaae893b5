/**
 * First in, first out, holding at most `capacity` items: pushing onto a full
 * queue drops the oldest. Taking moves a head index instead of shifting the
 * array, so a full queue of 50,000 costs the same per push as an empty one.
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item; returns true when the oldest was dropped to make room. */
  push(item: T): boolean {
    const full = this.length >= this.capacity;
    if (full) this.items[this.head++] = undefined;
    this.items.push(item);
    this.compact();
    return full;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Removes and returns up to n of the oldest items. */
  take(n: number): T[] {
    const taken = this.items.slice(this.head, this.head + n) as T[];
    this.head += taken.length;
    this.compact();
    return taken;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
