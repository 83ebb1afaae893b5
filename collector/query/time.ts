const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export class TimeError extends Error {}

/** The times a log line can have: from the epoch to the end of year 9999, what ISO 8601 and Elasticsearch dates can write. */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Wider buckets than a year show nothing a chart can use. */
const MAX_INTERVAL_MS = 366 * UNITS.d!;

export function isLogTime(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIME;
}

/** Date.parse rolls 2026-02-30 over to 2 March; a date that is not on the calendar is refused instead. */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * A point in time as Kibana users write it: `now`, `now-15m`, `now-2h`,
 * `now-7d`, an ISO 8601 time, or epoch milliseconds.
 */
export function parseTime(input: string, now: number): number {
  const time = parseAnyTime(input, now);
  if (!isLogTime(time)) throw new TimeError(`"${input}" is outside the years 1970 to 9999`);
  return time;
}

function parseAnyTime(input: string, now: number): number {
  const text = input.trim();
  const relative = /^now(?:([+-])(\d+)([smhdw]))?$/.exec(text);
  if (relative) {
    const [, sign, amount, unit] = relative;
    if (!sign) return now;
    const offset = Number(amount) * UNITS[unit!]!;
    return sign === '-' ? now - offset : now + offset;
  }
  if (/^\d{1,16}$/.test(text)) return Number(text);
  // Date.parse accepts looser forms too; an explicit date prefix keeps "5" or "June" from meaning a time.
  const dated = /^\d{4}-\d{2}-\d{2}/.test(text);
  if (dated && !isCalendarDate(text)) throw new TimeError(`"${input}" is not a date on the calendar`);
  const parsed = dated ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(parsed)) {
    throw new TimeError(`"${input}" is not a time: use now, now-15m, an ISO 8601 time or epoch milliseconds`);
  }
  return parsed;
}

/** A bucket width such as `30s`, `1m`, `1h`. */
export function parseInterval(input: string): number {
  const match = /^(\d+)([smhdw])$/.exec(input.trim());
  if (!match || Number(match[1]) === 0)
    throw new TimeError(`"${input}" is not an interval such as 30s, 1m or 1h`);
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms > MAX_INTERVAL_MS) throw new TimeError(`"${input}" is longer than the widest interval, 366d`);
  return ms;
}
