import { z } from 'zod';
import { duration } from '../../core/config-types.ts';

// Timestamps are read with hand-written scanners over char codes and plain
// integer calendar arithmetic: no Date objects, no regular expressions and no
// Intl calls per line. Intl is only asked for a zone's offset once per local
// minute (the answer is cached), which keeps DST rules exact.

/** 9999-12-31T23:59:59.999Z: the last instant an ISO string (and Elasticsearch's default date format) holds. */
const MAX_FOUR_DIGIT_YEAR = 253_402_300_799_999;
const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Indexes of a wall-clock time's parts in the Float64Arrays the scanners fill.
const YEAR = 0;
const MONTH = 1;
const DAY_OF_MONTH = 2;
const HOUR_OF_DAY = 3;
const MINUTE_OF_HOUR = 4;
const SECOND_OF_MINUTE = 5;
const MILLI = 6;
const OFFSET = 7;

/** Milliseconds since midnight. */
function timeOfDay(hour: number, minute: number, second: number, ms: number): number {
  return hour * HOUR + minute * MINUTE + second * SECOND + ms;
}

// ---------------------------------------------------------------------------
// Time zones

const PART_FIELDS: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {
  year: YEAR,
  month: MONTH,
  day: DAY_OF_MONTH,
  hour: HOUR_OF_DAY,
  minute: MINUTE_OF_HOUR,
  second: SECOND_OF_MINUTE,
};

export interface TimeZone {
  readonly name: string;
  /** Offset east of UTC in ms at an instant. */
  offsetAt(utcMs: number): number;
  /**
   * Offset to subtract from a wall-clock time (read as if it were UTC) to get
   * the instant. A time skipped by a DST switch moves forward; a time that
   * happens twice takes the earlier instant (as java.time and Temporal do).
   */
  offsetForLocal(localMs: number): number;
}

class FixedZone implements TimeZone {
  readonly name: string;
  private readonly offset: number;
  constructor(name: string, offset: number) {
    this.name = name;
    this.offset = offset;
  }
  offsetAt(): number {
    return this.offset;
  }
  offsetForLocal(): number {
    return this.offset;
  }
}

const CACHED_MINUTES = 4096;

class IanaZone implements TimeZone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly fields = new Float64Array(6);
  private readonly minutes = new Map<number, number>();
  private lastMinute = Number.NaN;
  private lastOffset = 0;

  constructor(name: string) {
    this.name = name;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  offsetAt(utcMs: number): number {
    const f = this.fields;
    for (const part of this.format.formatToParts(utcMs)) {
      const field = PART_FIELDS[part.type];
      if (field !== undefined) f[field] = Number(part.value);
    }
    const local =
      daysFromCivil(f[YEAR]!, f[MONTH]!, f[DAY_OF_MONTH]!) * DAY +
      timeOfDay(f[HOUR_OF_DAY]!, f[MINUTE_OF_HOUR]!, f[SECOND_OF_MINUTE]!, 0);
    return local - (utcMs - (((utcMs % SECOND) + SECOND) % SECOND));
  }

  offsetForLocal(localMs: number): number {
    const minute = Math.floor(localMs / MINUTE);
    if (minute === this.lastMinute) return this.lastOffset;
    let offset = this.minutes.get(minute);
    if (offset === undefined) {
      offset = this.resolve(minute * MINUTE);
      if (this.minutes.size >= CACHED_MINUTES) this.minutes.clear();
      this.minutes.set(minute, offset);
    }
    this.lastMinute = minute;
    this.lastOffset = offset;
    return offset;
  }

  private resolve(localMs: number): number {
    // Zones change offset at most once within two days, so the offsets a day
    // either side are the only candidates.
    const before = this.offsetAt(localMs - DAY);
    const after = this.offsetAt(localMs + DAY);
    if (before === after) return before;
    const beforeValid = this.offsetAt(localMs - before) === before;
    const afterValid = this.offsetAt(localMs - after) === after;
    if (beforeValid && afterValid) return Math.max(before, after);
    if (afterValid) return after;
    return before;
  }
}

const OFFSET_ZONE = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;
const zones = new Map<string, TimeZone>();

/** `UTC`, `local` (this process's zone), a fixed offset like `+08:00`, or an IANA name like `Asia/Shanghai`. */
export function timeZone(name: string): TimeZone {
  const known = zones.get(name);
  if (known) return known;
  let zone: TimeZone;
  const offset = OFFSET_ZONE.exec(name);
  if (/^(?:utc|gmt|z|etc\/utc)$/i.test(name)) zone = new FixedZone(name, 0);
  else if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3] ?? 0);
    if (minutes > 18 * 60) throw new RangeError(`time zone offset out of range: ${name}`);
    zone = new FixedZone(name, (offset[1] === '-' ? -minutes : minutes) * MINUTE);
  } else if (name.toLowerCase() === 'local') {
    zone = new IanaZone(new Intl.DateTimeFormat().resolvedOptions().timeZone);
  } else zone = new IanaZone(name);
  zones.set(name, zone);
  return zone;
}

export const UTC = timeZone('UTC');

/** Config value: a time zone name, checked at load time. */
export const timeZoneName = () =>
  z.string().refine(
    (value) => {
      try {
        timeZone(value);
        return true;
      } catch {
        return false;
      }
    },
    {
      error: (issue) =>
        `expected a time zone like "UTC", "Asia/Shanghai" or "+08:00", got ${JSON.stringify(issue.input)}`,
    },
  );

// ---------------------------------------------------------------------------
// Scanning helpers. `scan.end` is where the last successful parse stopped.

export const scan = { end: 0 };

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Exactly `count` digits at `at`, or -1. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

/** Fraction digits at `at` (any count), as whole milliseconds; sets scan.end. */
function fraction(text: string, at: number): number {
  let ms = 0;
  let scale = 100;
  let i = at;
  for (; isDigit(text.charCodeAt(i)); i++) {
    ms += (text.charCodeAt(i) - 48) * scale;
    scale /= 10;
  }
  scan.end = i;
  return Math.floor(ms);
}

/** `Z`, `+hh`, `+hhmm` or `+hh:mm` at `at`, as ms east of UTC; NaN when there is none. Sets scan.end. */
function zoneOffset(text: string, at: number): number {
  const code = text.charCodeAt(at);
  if (code === 90 || code === 122) {
    scan.end = at + 1;
    return 0;
  }
  if (code !== 43 && code !== 45 && code !== 0x2212) return Number.NaN;
  const hours = digits(text, at + 1, 2);
  if (hours < 0 || hours > 18) return Number.NaN;
  let end = at + 3;
  let minutes = 0;
  const colon = text.charCodeAt(end) === 58 ? 1 : 0;
  const mm = digits(text, end + colon, 2);
  if (mm >= 0 && mm < 60) {
    minutes = mm;
    end += colon + 2;
  }
  if (isDigit(text.charCodeAt(end))) return Number.NaN;
  scan.end = end;
  const offset = (hours * 60 + minutes) * MINUTE;
  return code === 43 ? offset : -offset;
}

function valid(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 60
  );
}

/** The instant of a wall-clock time: `offset` when the text gave one (else NaN, and the zone decides). */
function toEpoch(days: number, timeOfDay: number, offset: number, zone: TimeZone): number {
  const local = days * DAY + timeOfDay;
  return local - (Number.isNaN(offset) ? zone.offsetForLocal(local) : offset);
}

// ---------------------------------------------------------------------------
// Formats

interface Format {
  /** Epoch ms of a timestamp starting exactly at `at`, or NaN. Sets scan.end on success. */
  parse(text: string, at: number, zone: TimeZone, ref: number): number;
  /** Whether the format can start with this char code; a cheap filter before parse. */
  startsWith(code: number): boolean;
}

/**
 * ISO 8601 / RFC 3339 and the shapes loggers derive from it:
 * `2024-01-02T03:04:05Z`, `2024-01-02T03:04:05.123456789+08:00`,
 * `2024-01-02 03:04:05.123` (logback), `2024-01-02 03:04:05,123` (log4j),
 * `2024-01-02 03:04:05 +0800`. Seconds are optional, as ISO allows.
 */
export function parseIso(text: string, at: number, zone: TimeZone = UTC): number {
  const year = digits(text, at, 4);
  if (year < 0 || text.charCodeAt(at + 4) !== 45 || text.charCodeAt(at + 7) !== 45) return Number.NaN;
  const month = digits(text, at + 5, 2);
  const day = digits(text, at + 8, 2);
  const separator = text.charCodeAt(at + 10);
  if (separator !== 84 && separator !== 32 && separator !== 116) return Number.NaN;
  const hour = digits(text, at + 11, 2);
  if (text.charCodeAt(at + 13) !== 58) return Number.NaN;
  const minute = digits(text, at + 14, 2);
  let i = at + 16;
  let second = 0;
  if (text.charCodeAt(i) === 58) {
    second = digits(text, i + 1, 2);
    i += 3;
  }
  if (!valid(year, month, day, hour, minute, second)) return Number.NaN;
  let ms = 0;
  const mark = text.charCodeAt(i);
  if ((mark === 46 || mark === 44) && isDigit(text.charCodeAt(i + 1))) {
    ms = fraction(text, i + 1);
    i = scan.end;
  }
  let offset = zoneOffset(text, i);
  if (!Number.isNaN(offset)) i = scan.end;
  else if (text.charCodeAt(i) === 32 && (text.charCodeAt(i + 1) === 43 || text.charCodeAt(i + 1) === 45)) {
    // `2024-01-02 03:04:05 +0800`, as Ruby and many C loggers write it.
    offset = zoneOffset(text, i + 1);
    if (!Number.isNaN(offset)) i = scan.end;
  }
  scan.end = i;
  return toEpoch(daysFromCivil(year, month, day), timeOfDay(hour, minute, second, ms), offset, zone);
}

/** A whole RFC 3339 token such as a container runtime writes; NaN unless it spans exactly [start, end). */
export function parseIsoToken(text: string, start: number, end: number): number {
  const ms = parseIso(text, start, UTC);
  return scan.end === end ? ms : Number.NaN;
}

const ISO: Format = {
  parse: (text, at, zone) => parseIso(text, at, zone),
  startsWith: isDigit,
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Index of a three-letter English name at `at` (any case), or -1. */
function shortName(text: string, at: number, names: readonly string[]): number {
  const c0 = text.charCodeAt(at) | 0x20;
  const c1 = text.charCodeAt(at + 1) | 0x20;
  const c2 = text.charCodeAt(at + 2) | 0x20;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.charCodeAt(0) === c0 && name.charCodeAt(1) === c1 && name.charCodeAt(2) === c2) return i;
  }
  return -1;
}

type Step =
  | { kind: 'number'; field: number; min: number; max: number; spacePadded: boolean; twoDigitYear: boolean }
  | { kind: 'fraction' }
  | { kind: 'month'; full: boolean }
  | { kind: 'weekday' }
  | { kind: 'zone' }
  | { kind: 'literal'; text: string }
  | { kind: 'optional'; steps: Step[]; saved: Float64Array };

/**
 * A Java-style pattern (`dd/MMM/yyyy:HH:mm:ss Z`), compiled once into steps.
 * Letters: yyyy yy MM M MMM MMMM dd d HH H mm ss S… (fraction, any number of
 * digits) Z/X (zone) EEE (weekday, ignored); 'quoted' literals; [optional].
 * A missing year is the reading time's year (or the one before, when that
 * would put the time in the future, as syslog lines at New Year need).
 */
class PatternFormat implements Format {
  private readonly steps: Step[];
  private readonly fields = new Float64Array(8);
  private lastRefMinute = Number.NaN;
  private lastRefYear = 0;

  constructor(pattern: string) {
    this.steps = compilePattern(pattern);
    if (this.steps.length === 0) throw new Error(`empty time format: ${JSON.stringify(pattern)}`);
  }

  startsWith(code: number): boolean {
    const first = this.steps[0]!;
    if (first.kind === 'number') return isDigit(code) || (first.spacePadded && code === 32);
    if (first.kind === 'fraction') return isDigit(code);
    if (first.kind === 'month' || first.kind === 'weekday') return isLetter(code);
    if (first.kind === 'literal') return code === first.text.charCodeAt(0);
    return true;
  }

  parse(text: string, at: number, zone: TimeZone, ref: number): number {
    const f = this.fields;
    f[YEAR] = Number.NaN;
    f[MONTH] = 1;
    f[DAY_OF_MONTH] = 1;
    f[HOUR_OF_DAY] = 0;
    f[MINUTE_OF_HOUR] = 0;
    f[SECOND_OF_MINUTE] = 0;
    f[MILLI] = 0;
    f[OFFSET] = Number.NaN;
    const end = run(this.steps, text, at, f);
    if (end < 0) return Number.NaN;
    const inferYear = Number.isNaN(f[YEAR]!);
    const year = inferYear ? this.referenceYear(zone, ref) : f[YEAR]!;
    const month = f[MONTH]!;
    const day = f[DAY_OF_MONTH]!;
    const hour = f[HOUR_OF_DAY]!;
    const minute = f[MINUTE_OF_HOUR]!;
    const second = f[SECOND_OF_MINUTE]!;
    if (!valid(year, month, day, hour, minute, second)) return Number.NaN;
    const time = timeOfDay(hour, minute, second, f[MILLI]!);
    let ms = toEpoch(daysFromCivil(year, month, day), time, f[OFFSET]!, zone);
    if (inferYear && ms > ref + DAY && valid(year - 1, month, day, 0, 0, 0)) {
      ms = toEpoch(daysFromCivil(year - 1, month, day), time, f[OFFSET]!, zone);
    }
    scan.end = end;
    return ms;
  }

  /** The reading time's year in the zone, worked out once per minute. */
  private referenceYear(zone: TimeZone, ref: number): number {
    const minute = Math.floor(ref / MINUTE);
    if (minute !== this.lastRefMinute) {
      this.lastRefYear = new Date(ref + zone.offsetAt(ref)).getUTCFullYear();
      this.lastRefMinute = minute;
    }
    return this.lastRefYear;
  }
}

/** Runs steps from `at`; the end index, or -1 when the text does not fit. */
function run(steps: readonly Step[], text: string, at: number, f: Float64Array): number {
  let i = at;
  for (const step of steps) {
    switch (step.kind) {
      case 'literal':
        if (!text.startsWith(step.text, i)) return -1;
        i += step.text.length;
        break;
      case 'number': {
        if (step.spacePadded && text.charCodeAt(i) === 32 && isDigit(text.charCodeAt(i + 1))) i++;
        let value = 0;
        let count = 0;
        while (count < step.max && isDigit(text.charCodeAt(i))) {
          value = value * 10 + text.charCodeAt(i) - 48;
          i++;
          count++;
        }
        if (count < step.min) return -1;
        f[step.field] = step.twoDigitYear ? 2000 + value : value;
        break;
      }
      case 'fraction':
        if (!isDigit(text.charCodeAt(i))) return -1;
        f[MILLI] = fraction(text, i);
        i = scan.end;
        break;
      case 'month': {
        const index = shortName(text, i, MONTHS);
        if (index < 0) return -1;
        const full = MONTH_NAMES[index]!;
        i += step.full && text.slice(i, i + full.length).toLowerCase() === full ? full.length : 3;
        f[MONTH] = index + 1;
        break;
      }
      case 'weekday':
        if (shortName(text, i, WEEKDAYS) < 0) return -1;
        i += 3;
        while (isLetter(text.charCodeAt(i))) i++;
        break;
      case 'zone': {
        const offset = zoneOffset(text, i);
        if (Number.isNaN(offset)) return -1;
        f[OFFSET] = offset;
        i = scan.end;
        break;
      }
      case 'optional': {
        step.saved.set(f);
        const end = run(step.steps, text, i, f);
        if (end < 0) f.set(step.saved);
        else i = end;
        break;
      }
    }
  }
  return i;
}

const PATTERN_LETTERS: Record<string, (count: number) => Step> = {
  y: (n) => ({
    kind: 'number',
    field: YEAR,
    min: n,
    max: n === 2 ? 2 : 4,
    spacePadded: false,
    twoDigitYear: n === 2,
  }),
  M: (n) =>
    n >= 3
      ? { kind: 'month', full: n >= 4 }
      : { kind: 'number', field: MONTH, min: n, max: 2, spacePadded: false, twoDigitYear: false },
  d: (n) => ({
    kind: 'number',
    field: DAY_OF_MONTH,
    min: n,
    max: 2,
    spacePadded: n === 1,
    twoDigitYear: false,
  }),
  H: (n) => ({ kind: 'number', field: HOUR_OF_DAY, min: n, max: 2, spacePadded: false, twoDigitYear: false }),
  m: (n) => ({
    kind: 'number',
    field: MINUTE_OF_HOUR,
    min: n,
    max: 2,
    spacePadded: false,
    twoDigitYear: false,
  }),
  s: (n) => ({
    kind: 'number',
    field: SECOND_OF_MINUTE,
    min: n,
    max: 2,
    spacePadded: false,
    twoDigitYear: false,
  }),
  S: () => ({ kind: 'fraction' }),
  Z: () => ({ kind: 'zone' }),
  X: () => ({ kind: 'zone' }),
  x: () => ({ kind: 'zone' }),
  E: () => ({ kind: 'weekday' }),
};

function compilePattern(pattern: string): Step[] {
  const stack: Step[][] = [[]];
  const top = () => stack[stack.length - 1]!;
  const literal = (text: string) => {
    const steps = top();
    const last = steps[steps.length - 1];
    if (last?.kind === 'literal') steps[steps.length - 1] = { kind: 'literal', text: last.text + text };
    else steps.push({ kind: 'literal', text });
  };
  for (let i = 0; i < pattern.length; ) {
    const char = pattern[i]!;
    if (char === "'") {
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unclosed quote in time format ${JSON.stringify(pattern)}`);
      literal(close === i + 1 ? "'" : pattern.slice(i + 1, close));
      i = close + 1;
    } else if (char === '[') {
      stack.push([]);
      i++;
    } else if (char === ']') {
      if (stack.length < 2) throw new Error(`unbalanced ] in time format ${JSON.stringify(pattern)}`);
      const steps = stack.pop()!;
      top().push({ kind: 'optional', steps, saved: new Float64Array(8) });
      i++;
    } else if (isLetter(char.charCodeAt(0))) {
      let count = 1;
      while (pattern[i + count] === char) count++;
      const make = PATTERN_LETTERS[char];
      if (!make || (char === 'y' && count !== 2 && count !== 4)) {
        throw new Error(
          `unsupported letters ${char.repeat(count)} in time format ${JSON.stringify(pattern)}`,
        );
      }
      top().push(make(count));
      i += count;
    } else {
      literal(char);
      i++;
    }
  }
  if (stack.length !== 1) throw new Error(`unbalanced [ in time format ${JSON.stringify(pattern)}`);
  return stack[0]!;
}

/** klog's header, `I0102 15:04:05.123456`: a level letter, then month and day without a year. */
class KlogFormat implements Format {
  private readonly inner = new PatternFormat('MMdd HH:mm:ss[.S]');
  startsWith(code: number): boolean {
    return code === 73 || code === 87 || code === 69 || code === 70;
  }
  parse(text: string, at: number, zone: TimeZone, ref: number): number {
    return this.startsWith(text.charCodeAt(at)) ? this.inner.parse(text, at + 1, zone, ref) : Number.NaN;
  }
}

const NAMED: Record<string, () => Format> = {
  iso8601: () => ISO,
  rfc3339: () => ISO,
  logback: () => new PatternFormat('yyyy-MM-dd HH:mm:ss.SSS'),
  log4j: () => new PatternFormat('yyyy-MM-dd HH:mm:ss,SSS'),
  nginx: () => new PatternFormat('dd/MMM/yyyy:HH:mm:ss Z'),
  apache: () => new PatternFormat('dd/MMM/yyyy:HH:mm:ss Z'),
  syslog: () => new PatternFormat('MMM d HH:mm:ss'),
  go: () => new PatternFormat('yyyy/MM/dd HH:mm:ss[.S]'),
  klog: () => new KlogFormat(),
};

/** A named format, or else a pattern; throws on a pattern it cannot read. */
function compileFormat(name: string): Format {
  return NAMED[name]?.() ?? new PatternFormat(name);
}

export const DEFAULT_TIME_FORMATS = ['iso8601', 'go', 'nginx', 'syslog', 'klog', 'epoch'];

/**
 * Epoch numbers, by magnitude: seconds (with a fraction), milliseconds,
 * microseconds or nanoseconds. NaN for negatives and non-finite values.
 */
export function epochToMs(value: number): number {
  if (!Number.isFinite(value) || value < 0) return Number.NaN;
  let ms: number;
  if (value < 1e11) ms = Math.floor(value * 1000);
  else if (value < 1e14) ms = Math.floor(value);
  else if (value < 1e17) ms = Math.floor(value / 1e3);
  else ms = Math.floor(value / 1e6);
  return ms <= MAX_FOUR_DIGIT_YEAR ? ms : Number.NaN;
}

const EPOCH_TEXT = /^\d{9,19}(?:\.\d+)?$/;

export const timestampSchema = z.strictObject({
  /** Tried in order: names (iso8601, logback, log4j, nginx, syslog, go, klog, epoch) or patterns. */
  formats: z
    .array(z.string().min(1))
    .min(1)
    .default(DEFAULT_TIME_FORMATS)
    .superRefine((formats, ctx) => {
      for (const [i, format] of formats.entries()) {
        try {
          if (format !== 'epoch') compileFormat(format);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: [i], message: (err as Error).message });
        }
      }
    }),
  /** Zone of timestamps that carry none. */
  timezone: timeZoneName().default('UTC'),
  /** Take the time from the start of plain lines (`2024-01-02 03:04:05.123 INFO …`). */
  fromLine: z.boolean().default(true),
  /**
   * An event time further ahead of the read time than this is replaced by the
   * read time, the original kept in lookout.original_timestamp: a wrong clock
   * or a misread date would otherwise make daily indices retention never reaches.
   */
  maxFutureSkew: duration().default(3_600_000),
});
export type TimestampConfig = z.output<typeof timestampSchema>;

/** Reads timestamps in the configured formats and zone. */
export class TimestampParser {
  private readonly formats: Format[];
  private readonly epoch: boolean;
  readonly zone: TimeZone;

  constructor(config: Pick<TimestampConfig, 'formats' | 'timezone'>) {
    this.zone = timeZone(config.timezone);
    this.epoch = config.formats.includes('epoch');
    this.formats = config.formats.filter((name) => name !== 'epoch').map(compileFormat);
  }

  /** A timestamp starting exactly at `at`: epoch ms or NaN; `scan.end` tells where it stopped. */
  parseAt(text: string, at: number, ref: number): number {
    const code = text.charCodeAt(at);
    for (const format of this.formats) {
      if (!format.startsWith(code)) continue;
      const ms = format.parse(text, at, this.zone, ref);
      if (!Number.isNaN(ms)) return ms;
    }
    return Number.NaN;
  }

  /** The timestamp a plain line starts with, also inside a leading `[`. */
  leading(text: string, ref: number): number {
    const at = text.charCodeAt(0) === 91 ? 1 : 0;
    return this.parseAt(text, at, ref);
  }

  /** A parsed field's value: epoch numbers, or text in one of the formats. */
  value(value: unknown, ref: number): number {
    if (typeof value === 'number') return epochToMs(value);
    if (typeof value !== 'string' || value.length === 0) return Number.NaN;
    if (this.epoch && isDigit(value.charCodeAt(0)) && EPOCH_TEXT.test(value)) return epochToMs(Number(value));
    return this.parseAt(value, 0, ref);
  }
}

// ---------------------------------------------------------------------------
// Formatting

const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let isoSecond = Number.NaN;
let isoPrefix = '';

/** Date#toISOString, with the part up to the second cached: consecutive events share it. */
export function toIso(ms: number): string {
  if (!(ms >= 0 && ms <= MAX_FOUR_DIGIT_YEAR)) return new Date(ms).toISOString();
  const whole = Math.floor(ms);
  const second = Math.floor(whole / SECOND);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * SECOND).toISOString().slice(0, 20);
  }
  return `${isoPrefix}${THREE_DIGITS[whole - second * SECOND]}Z`;
}
