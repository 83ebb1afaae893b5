/** Lines starting at or after `from` (up to the next read time) carry `at` as their read time. */
export interface ReadTime {
  from: number;
  at: number;
}

/** What a file's checkpoint keeps of its read times. */
export interface SavedReadTimes {
  readTimes?: ReadTime[];
  /** No line at or after this offset has been given a read time yet. */
  readUntil?: number;
}

/**
 * Lines read within this long of each other share a read time: one checkpoint
 * write per step, not per read. The shared time is the step's end, so no line
 * is stamped before it was read (a live tail opened just before a line was
 * written must still see it); a line may be stamped up to a step late.
 */
export const READ_TIME_STEP_MS = 1_000;

/**
 * The read times of one file, the event time of lines that carry none. A
 * line read again after a crash (queued, its checkpoint not yet moved) must
 * become the identical record, time included, or a replay near midnight lands
 * in another daily index. So a read time is saved in the checkpoints before
 * any line carries it, and a line's read time follows from its offset and
 * what was saved, never from when it happens to be read.
 */
export class ReadTimes {
  private readonly list: ReadTime[];
  private until: number | undefined;
  /**
   * No new read time starts before this offset: lines before it may have
   * been queued before a crash, under a read time the checkpoint holds.
   */
  private readonly sealed: number;

  /** `size`: the file's size when it was opened, an upper bound of what may have been read before. */
  constructor(saved: SavedReadTimes = {}, size = 0) {
    this.list = saved.readTimes ? [...saved.readTimes] : [];
    this.until = saved.readUntil;
    this.sealed = saved.readUntil ?? (this.list.length > 0 ? size : 0);
  }

  /** Lines may be read: a read time is saved for them. */
  get open(): boolean {
    return this.list.length > 0 && this.until === undefined;
  }

  /** Whether reading at `now` should start a new read time first (saved before reading). */
  wantsNew(now: number): boolean {
    return !this.open || now >= this.list.at(-1)!.at;
  }

  /** A new read time for lines from `consumed` on (or from where earlier reads may have reached). */
  start(consumed: number, now: number): void {
    this.list.push({ from: Math.max(consumed, this.sealed, this.until ?? 0), at: now + READ_TIME_STEP_MS });
    this.until = undefined;
  }

  /** Ends the current read time at `consumed` once its step is over (or at once with force): an idle file's next lines get a fresh one. */
  close(consumed: number, now: number, force: boolean): void {
    if (!this.open || (!force && now < this.list.at(-1)!.at)) return;
    this.until = Math.max(consumed, this.sealed);
  }

  /** The read time of a line starting at `offset`. */
  at(offset: number): number {
    for (let i = this.list.length - 1; i > 0; i--) if (offset >= this.list[i]!.from) return this.list[i]!.at;
    return this.list[0]!.at;
  }

  /** What a checkpoint at `offset` keeps: the read times of lines from there on. */
  saved(offset: number): SavedReadTimes {
    let first = this.list.length - 1;
    while (first > 0 && this.list[first]!.from > offset) first--;
    // Read times before the checkpoint are never needed again.
    this.list.splice(0, Math.max(0, first));
    return this.until === undefined
      ? { readTimes: [...this.list] }
      : { readTimes: [...this.list], readUntil: this.until };
  }
}
