/** What a window must carry across a restart: when its sends completed, and any throttle. */
export interface WindowState {
  sent: number[];
  blockedUntil: number;
}

/**
 * Keeps a robot under its per-minute limit with a log of send times, which
 * guarantees that no window of `windowMs` (however it is placed) sees more
 * than `limit` sends; a token bucket refilling at the same rate would allow
 * twice the limit across a window that straddles a refill.
 *
 * A send is logged when it completes, not when it starts: the robot received
 * it somewhere in between, so spacing starts from completions keeps the
 * robot's own count within the limit whatever the network latency.
 */
export class RateWindow {
  private readonly completed: number[] = [];
  private inFlight = 0;
  private blockedUntil = 0;
  private limit: number;
  private readonly windowMs: number;

  constructor(limit: number, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  setLimit(limit: number): void {
    this.limit = limit;
  }

  private prune(now: number): void {
    let expired = 0;
    while (expired < this.completed.length && this.completed[expired]! <= now - this.windowMs) expired++;
    this.completed.splice(0, expired);
  }

  /** How many sends may start now. */
  available(now: number): number {
    if (now < this.blockedUntil) return 0;
    this.prune(now);
    return Math.max(0, this.limit - this.completed.length - this.inFlight);
  }

  /** Milliseconds until the next send may start; 0 when it may start now. */
  delay(now: number): number {
    this.prune(now);
    let wait = Math.max(0, this.blockedUntil - now);
    const over = this.completed.length + this.inFlight - this.limit;
    if (over >= 0) {
      // A slot frees when the (over+1)-th oldest send leaves the window; in-flight sends have no time yet.
      const frees = this.completed[over];
      wait = Math.max(wait, frees === undefined ? this.windowMs : frees + this.windowMs - now);
    }
    return wait;
  }

  begin(): void {
    this.inFlight++;
  }

  end(now: number): void {
    this.inFlight--;
    this.completed.push(now);
  }

  /**
   * The state to persist. `inFlightUntil` stands for a send not answered yet,
   * counted at the latest time the robot may receive it, in case the process
   * dies before the answer.
   */
  state(inFlightUntil?: number): WindowState {
    const sent = [...this.completed];
    if (inFlightUntil !== undefined) sent.push(inFlightUntil);
    return { sent, blockedUntil: this.blockedUntil };
  }

  /** Continues from a persisted state: its sends count against the limit as if made here. */
  restore(state: WindowState, now: number): void {
    const recent = state.sent.filter((t) => t > now - this.windowMs);
    this.completed.splice(0, this.completed.length, ...recent.sort((a, b) => a - b));
    this.blockedUntil = Math.max(this.blockedUntil, state.blockedUntil);
  }

  /** The robot said it is throttled: send nothing before `until`. */
  block(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }
}
