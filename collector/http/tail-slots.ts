import { HttpError } from '../../core/auth.ts';

/**
 * Counts open live tails, per token and in all. Each tail polls the store
 * every interval for as long as it is open, so their number is the store's
 * load: past a limit a new tail is refused with 429 and the reason.
 */
export class TailSlots {
  private open = 0;
  private readonly byToken = new Map<string, number>();

  /** Takes a slot or throws 429; the returned function gives it back (once). */
  take(token: string, limits: { maxPerToken: number; maxOpen: number }): () => void {
    const mine = this.byToken.get(token) ?? 0;
    if (mine >= limits.maxPerToken) {
      throw new HttpError(
        429,
        `token "${token}" already has ${mine} live tails open, the most one token may have (collector.tail.maxPerToken); close one first`,
      );
    }
    if (this.open >= limits.maxOpen) {
      throw new HttpError(
        429,
        `${this.open} live tails are open, the most this collector serves (collector.tail.maxOpen); try again later`,
      );
    }
    this.open++;
    this.byToken.set(token, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.byToken.get(token) ?? 1) - 1;
      if (left > 0) this.byToken.set(token, left);
      else this.byToken.delete(token);
    };
  }
}
