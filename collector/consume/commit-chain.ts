/**
 * One partition's slices: stored side by side, committed strictly in offset
 * order. A committed offset therefore always means every record before it is
 * in the store, however the stores finish. Once a slice is given up, nothing
 * after it is committed, and `failedAt` says where reading has to resume.
 */
export class CommitChain {
  /** The offset after the last slice added: where the partition's next batch should begin. */
  next: bigint;
  /** The first offset of the first slice given up. */
  failedAt: bigint | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(start: bigint) {
    this.next = start;
  }

  /**
   * Adds the slice `first`..`last` whose store is under way: `stored`
   * resolves to whether it was stored, and never rejects. `commit` is called
   * with the offset after `last` once this slice and every earlier one are
   * stored; it must not throw. Resolves when the slice has ended either way.
   */
  add(first: bigint, last: bigint, stored: Promise<boolean>, commit: (next: bigint) => Promise<void>) {
    const next = last + 1n;
    this.next = next;
    this.tail = this.tail.then(async () => {
      const ok = await stored;
      if (this.failedAt !== undefined) return;
      if (ok) await commit(next);
      else this.failedAt = first;
    });
    return this.tail;
  }

  /** Resolves once every slice added so far has ended. */
  settled(): Promise<void> {
    return this.tail;
  }
}
