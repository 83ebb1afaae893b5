import { z } from 'zod';
import type { ConfigError } from '../../core/config.ts';

/**
 * Alertmanager's `time_intervals`: named lists of intervals, each a set of
 * conditions (times of day, weekdays, days of the month, months, years) that
 * must all hold, read in the interval's time zone. A route's
 * `mute_time_intervals` mute it while any of them contains the time; its
 * `active_time_intervals` mute it while none does.
 */

/** Minutes of the day, the end excluded: 00:00–24:00 is [0, 1440). */
export interface TimeRange {
  startMinute: number;
  endMinute: number;
}

/** Both ends included. */
export interface InclusiveRange {
  begin: number;
  end: number;
}

export interface TimeInterval {
  times?: TimeRange[];
  /** 0 = Sunday. */
  weekdays?: InclusiveRange[];
  /** Negative days count from the month's end: -1 is its last day. */
  daysOfMonth?: InclusiveRange[];
  /** 1 = January. */
  months?: InclusiveRange[];
  years?: InclusiveRange[];
  /** An IANA time zone; undefined: UTC; "Local": the process's zone. */
  location?: string;
}

export type TimeIntervals = ReadonlyMap<string, readonly TimeInterval[]>;

const member = z.union([z.string(), z.number().int()]);

export const timeIntervalSchema = z.strictObject({
  times: z.array(z.strictObject({ start_time: z.string(), end_time: z.string() })).optional(),
  weekdays: z.array(member).optional(),
  days_of_month: z.array(member).optional(),
  months: z.array(member).optional(),
  years: z.array(member).optional(),
  location: z.string().optional(),
});
export type RawTimeInterval = z.output<typeof timeIntervalSchema>;

export const namedTimeIntervalSchema = z.strictObject({
  name: z.string().min(1),
  time_intervals: z.array(timeIntervalSchema),
});

/** English names, lower case, as Alertmanager spells them. */
function englishNames(count: number, option: 'month' | 'weekday', date: (i: number) => number): string[] {
  const format = new Intl.DateTimeFormat('en-US', { [option]: 'long', timeZone: 'UTC' });
  return Array.from({ length: count }, (_, i) => format.format(date(i)).toLowerCase());
}
/** Sunday first: 2023-01-01 was a Sunday. */
const WEEKDAYS = englishNames(7, 'weekday', (i) => Date.UTC(2023, 0, 1 + i));
const MONTHS = englishNames(12, 'month', (i) => Date.UTC(2023, i, 1));

class IntervalError extends Error {}

function integer(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new IntervalError(`${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** `a` or `a:b`, each end read by `read`; names are case-insensitive as in Alertmanager. */
function range(value: string | number, read: (text: string) => number): InclusiveRange {
  const parts = String(value).toLowerCase().split(':');
  if (parts.length > 2) throw new IntervalError(`cannot read range ${JSON.stringify(value)}`);
  const begin = read(parts[0]!.trim());
  return { begin, end: parts.length === 2 ? read(parts[1]!.trim()) : begin };
}

function named(names: string[], what: string, numbers: boolean) {
  return (text: string): number => {
    const index = names.indexOf(text);
    if (index >= 0) return what === 'month' ? index + 1 : index;
    if (numbers && /^\d+$/.test(text)) return Number(text);
    throw new IntervalError(`${JSON.stringify(text)} is not a valid ${what}`);
  };
}

function weekdayRange(value: string | number): InclusiveRange {
  const r = range(value, named(WEEKDAYS, 'weekday', false));
  if (r.begin > r.end)
    throw new IntervalError(`start day cannot be after end day in ${JSON.stringify(value)}`);
  return r;
}

function dayOfMonthRange(value: string | number): InclusiveRange {
  const r = range(value, integer);
  for (const day of [r.begin, r.end]) {
    if (day === 0 || day < -31 || day > 31) throw new IntervalError(`${day} is not a valid day of the month`);
  }
  if (r.begin < 0 && r.end > 0) throw new IntervalError('end day must be negative if start day is negative');
  // Shorter months cannot be judged here; a range that is backwards even in a 28-day month always is.
  const position = (day: number) => (day < 0 ? 28 + day : day);
  if (position(r.begin) > position(r.end)) {
    throw new IntervalError(`end day ${r.end} is always before start day ${r.begin}`);
  }
  return r;
}

function monthRange(value: string | number): InclusiveRange {
  const r = range(value, named(MONTHS, 'month', true));
  for (const month of [r.begin, r.end]) {
    if (month < 1 || month > 12) throw new IntervalError(`${month} is not a valid month`);
  }
  if (r.begin > r.end) throw new IntervalError(`end month is before start month in ${JSON.stringify(value)}`);
  return r;
}

function yearRange(value: string | number): InclusiveRange {
  const r = range(value, integer);
  if (r.begin > r.end) throw new IntervalError(`end year ${r.end} is before start year ${r.begin}`);
  return r;
}

function minuteOfDay(text: string): number {
  const match = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/.exec(text);
  if (!match)
    throw new IntervalError(`cannot read time ${JSON.stringify(text)}: expected HH:MM from 00:00 to 24:00`);
  return Number(match[1] ?? match[3]) * 60 + Number(match[2] ?? match[4]);
}

function timeRange(raw: { start_time: string; end_time: string }): TimeRange {
  const startMinute = minuteOfDay(raw.start_time);
  const endMinute = minuteOfDay(raw.end_time);
  if (startMinute >= endMinute) throw new IntervalError('start time must be before end time');
  return { startMinute, endMinute };
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(location: string | undefined): Intl.DateTimeFormat {
  const key = location ?? 'UTC';
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: key === 'Local' ? undefined : key,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'long',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(key, format);
  }
  return format;
}

function checkLocation(location: string): void {
  try {
    formatFor(location);
  } catch {
    throw new IntervalError(`unknown time zone ${JSON.stringify(location)}`);
  }
}

/** Converts each list element, recording errors under `path[index]`. */
function each<I, T>(
  values: readonly I[] | undefined,
  convert: (value: I) => T,
  path: string,
  errors: ConfigError[],
): T[] | undefined {
  if (values === undefined) return undefined;
  const out: T[] = [];
  values.forEach((value, i) => {
    try {
      out.push(convert(value));
    } catch (err) {
      if (!(err instanceof IntervalError)) throw err;
      errors.push({ path: `${path}[${i}]`, message: err.message });
    }
  });
  return out;
}

/** Reads one interval as written in YAML; problems go to `errors` under `path`. */
export function parseTimeInterval(raw: RawTimeInterval, path: string, errors: ConfigError[]): TimeInterval {
  const interval: TimeInterval = {
    times: each(raw.times, timeRange, `${path}.times`, errors),
    weekdays: each(raw.weekdays, weekdayRange, `${path}.weekdays`, errors),
    daysOfMonth: each(raw.days_of_month, dayOfMonthRange, `${path}.days_of_month`, errors),
    months: each(raw.months, monthRange, `${path}.months`, errors),
    years: each(raw.years, yearRange, `${path}.years`, errors),
  };
  if (raw.location !== undefined) {
    try {
      checkLocation(raw.location);
      interval.location = raw.location;
    } catch (err) {
      errors.push({ path: `${path}.location`, message: (err as Error).message });
    }
  }
  return interval;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minute: number;
}

function wallClock(time: number, location: string | undefined): WallClock {
  const parts: Record<string, string> = {};
  for (const part of formatFor(location).formatToParts(time)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(parts.weekday!.toLowerCase()),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function inAny(ranges: readonly InclusiveRange[] | undefined, value: number): boolean {
  return ranges === undefined || ranges.some((r) => value >= r.begin && value <= r.end);
}

function dayMatches(ranges: readonly InclusiveRange[] | undefined, clock: WallClock): boolean {
  if (ranges === undefined) return true;
  const days = daysInMonth(clock.year, clock.month);
  const resolve = (day: number) => (day < 0 ? days + day + 1 : day);
  // A range starting after this month's last day (the 31st in April) does not spill into the next month.
  return ranges.some(
    (r) => resolve(r.begin) <= days && clock.day >= resolve(r.begin) && clock.day <= resolve(r.end),
  );
}

/** Whether the interval contains the instant `time` (ms since the epoch). */
export function containsTime(interval: TimeInterval, time: number): boolean {
  const clock = wallClock(time, interval.location);
  if (
    interval.times &&
    !interval.times.some((t) => clock.minute >= t.startMinute && clock.minute < t.endMinute)
  ) {
    return false;
  }
  return (
    dayMatches(interval.daysOfMonth, clock) &&
    inAny(interval.months, clock.month) &&
    inAny(interval.weekdays, clock.weekday) &&
    inAny(interval.years, clock.year)
  );
}

/** True when any interval of any of the named lists contains `time`; an unknown name contains nothing. */
export function isActive(intervals: TimeIntervals, names: readonly string[], date: Date | number): boolean {
  const time = Number(date);
  return names.some((name) => intervals.get(name)?.some((interval) => containsTime(interval, time)) ?? false);
}

/** A route's notifications are held while a mute interval is on, or while none of its active intervals is. */
export function isMuted(
  intervals: TimeIntervals,
  route: { muteTimeIntervals: readonly string[]; activeTimeIntervals: readonly string[] },
  date: Date | number,
): boolean {
  if (isActive(intervals, route.muteTimeIntervals, date)) return true;
  return route.activeTimeIntervals.length > 0 && !isActive(intervals, route.activeTimeIntervals, date);
}
