import type { LogEvent } from '../types.ts';
import { BoundedText } from './text.ts';

/** Part of a line or event that has arrived, as much as joining needs of it. */
interface Part {
  end: number;
  truncated: boolean;
  receivedAt: number;
  parseError?: string;
}

/** One stream's event being joined from several lines or parts. */
export class Lane {
  event: LogEvent | undefined = undefined;
  lines = 0;
  lastAt = 0;
  readonly text: BoundedText;

  constructor(maxBytes: number) {
    this.text = new BoundedText(maxBytes);
  }

  start(event: LogEvent): void {
    this.event = event;
    this.text.reset(event.message);
    this.lines = 1;
    this.lastAt = event.receivedAt;
  }

  /** Adds a part to the held event; `text` false drops its text (past a line limit) but still counts it. */
  add(separator: string, message: string, part: Part, text = true): void {
    const event = this.event!;
    if (text) this.text.append(separator, message);
    else this.text.cut = true;
    event.end = part.end;
    event.truncated ||= part.truncated;
    event.parseError ??= part.parseError;
    this.lines++;
    this.lastAt = part.receivedAt;
  }

  finish(): LogEvent {
    const event = this.event!;
    event.message = this.text.text;
    event.truncated ||= this.text.cut;
    this.event = undefined;
    return event;
  }
}

/** The joiners' empty result, shared rather than allocated for every line they hold; frozen, so never mutate a result. */
export const NONE: LogEvent[] = Object.freeze([]) as unknown as LogEvent[];

/**
 * Held events, one lane per stream: stdout and stderr interleave in a
 * container log, and a stack trace on stderr must not swallow stdout lines.
 */
export class Lanes {
  private readonly lanes = new Map<string, Lane>();
  private readonly maxBytes: number;
  private lastStream: string | undefined = undefined;
  private lastLane: Lane | undefined = undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(stream: string | undefined): Lane {
    if (stream === this.lastStream && this.lastLane) return this.lastLane;
    const key = stream ?? '';
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new Lane(this.maxBytes);
      this.lanes.set(key, lane);
    }
    this.lastStream = stream;
    this.lastLane = lane;
    return lane;
  }

  /** Finishes what has waited `timeout` ms since its last part (everything with force). */
  flush(now: number, timeout: number, force: boolean): LogEvent[] {
    let out = NONE;
    for (const lane of this.lanes.values()) {
      if (!lane.event || (!force && now - lane.lastAt < timeout)) continue;
      if (out === NONE) out = [];
      out.push(lane.finish());
    }
    return out;
  }

  pendingOffset(): number | undefined {
    let min: number | undefined;
    for (const lane of this.lanes.values()) {
      if (lane.event && (min === undefined || lane.event.offset < min)) min = lane.event.offset;
    }
    return min;
  }
}
