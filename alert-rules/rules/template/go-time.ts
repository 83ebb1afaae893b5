/** time.Time's String(), Format and parts, time.Duration's String(), and RFC 3339 parsing. */
import { fixedZone, type GoZone, UTC } from './go-location.ts';
import { GoTime } from './go-values.ts';

const NANOS_PER_SECOND = 1_000_000_000n;

function splitSeconds(t: GoTime): { seconds: bigint; nanos: bigint } {
  let seconds = t.unixNanos / NANOS_PER_SECOND;
  let nanos = t.unixNanos % NANOS_PER_SECOND;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NANOS_PER_SECOND;
  }
  return { seconds, nanos };
}

export function unixSeconds(t: GoTime): number {
  return Number(splitSeconds(t).seconds);
}

/** Layout "2006-01-02 15:04:05.999999999 -0700 MST": the fraction loses its trailing zeros. */
export function formatTime(t: GoTime): string {
  return formatLayout(t, '2006-01-02 15:04:05.999999999 -0700 MST');
}

/** model.TimeFromUnixNano(int64(seconds*1e9)).Time(): Prometheus keeps milliseconds only. */
export function timeFromSeconds(seconds: number): GoTime {
  const millis = BigInt(Math.trunc(seconds * 1e9)) / 1_000_000n;
  return new GoTime(millis * 1_000_000n);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export interface TimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
  weekday: number;
  yearDay: number;
}

export function timeZone(t: GoTime): GoZone {
  return t.location.zone(unixSeconds(t));
}

/** The date and clock in the time's location. */
export function timeParts(t: GoTime): TimeParts {
  const { seconds, nanos } = splitSeconds(t);
  const d = new Date((Number(seconds) + timeZone(t).offsetSeconds) * 1000);
  // Date.UTC reads years below 100 as 19xx.
  const yearStart = new Date(0);
  yearStart.setUTCFullYear(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanosecond: Number(nanos),
    weekday: d.getUTCDay(),
    yearDay: Math.floor((d.getTime() - yearStart.getTime()) / 86_400_000) + 1,
  };
}

export const monthName = (p: TimeParts): string => MONTHS[p.month - 1] as string;
export const weekdayName = (p: TimeParts): string => WEEKDAYS[p.weekday] as string;

const LAYOUT_ELEMENT =
  /January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|2006|002|0[1-6]|__2|_2|15|1|2|3|4|5|PM|pm|Z07:00:00|Z070000|Z07:00|Z0700|Z07|-07:00:00|-070000|-07:00|-0700|-07|[.,](?:0+|9+)(?![0-9])/g;

const two = (n: number): string => String(n).padStart(2, '0');

/** The offset as Go's layouts write it: "-0700", "-07:00", "-07", with seconds for "-070000" and "-07:00:00". */
function formatOffset(element: string, offsetSeconds: number): string {
  if (element.startsWith('Z') && offsetSeconds === 0) return 'Z';
  const abs = Math.abs(offsetSeconds);
  const parts = [Math.floor(abs / 3600), Math.floor((abs % 3600) / 60), abs % 60].map(two);
  const count = element.slice(1).replaceAll(':', '').length / 2;
  return (offsetSeconds < 0 ? '-' : '+') + parts.slice(0, count).join(element.includes(':') ? ':' : '');
}

/** time.Time.Format. */
export function formatLayout(t: GoTime, layout: string): string {
  const p = timeParts(t);
  const zone = timeZone(t);
  const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
  const elements: Record<string, string> = {
    January: monthName(p),
    Jan: monthName(p).slice(0, 3),
    Monday: weekdayName(p),
    Mon: weekdayName(p).slice(0, 3),
    MST: zone.abbreviation || formatOffset('-0700', zone.offsetSeconds),
    '2006': String(p.year).padStart(4, '0'),
    '002': String(p.yearDay).padStart(3, '0'),
    '01': two(p.month),
    '02': two(p.day),
    '03': two(hour12),
    '04': two(p.minute),
    '05': two(p.second),
    '06': two(p.year % 100),
    __2: String(p.yearDay).padStart(3, ' '),
    _2: String(p.day).padStart(2, ' '),
    '15': two(p.hour),
    '1': String(p.month),
    '2': String(p.day),
    '3': String(hour12),
    '4': String(p.minute),
    '5': String(p.second),
    PM: p.hour >= 12 ? 'PM' : 'AM',
    pm: p.hour >= 12 ? 'pm' : 'am',
  };
  return layout.replace(LAYOUT_ELEMENT, (element) => {
    const known = elements[element];
    if (known !== undefined) return known;
    if (element.startsWith('Z') || element.startsWith('-')) return formatOffset(element, zone.offsetSeconds);
    const digits = String(p.nanosecond)
      .padStart(9, '0')
      .slice(0, element.length - 1);
    if (element[1] === '0') return element[0] + digits;
    const trimmed = digits.replace(/0+$/, '');
    return trimmed === '' ? '' : element[0] + trimmed;
  });
}

const NANOS_PER_MINUTE = 60n * NANOS_PER_SECOND;

/** `whole.fraction` of value/scale, the fraction without trailing zeros. */
function decimal(value: bigint, scale: bigint): string {
  const digits = scale.toString().length - 1;
  const fraction = (value % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return `${value / scale}${fraction ? `.${fraction}` : ''}`;
}

/** time.Duration's String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatDuration(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  if (abs === 0n) return '0s';
  if (abs < 1000n) return `${sign}${abs}ns`;
  if (abs < 1_000_000n) return `${sign}${decimal(abs, 1000n)}µs`;
  if (abs < NANOS_PER_SECOND) return `${sign}${decimal(abs, 1_000_000n)}ms`;
  const seconds = `${decimal(abs % NANOS_PER_MINUTE, NANOS_PER_SECOND)}s`;
  const minutes = abs / NANOS_PER_MINUTE;
  if (minutes === 0n) return sign + seconds;
  if (minutes < 60n) return `${sign}${minutes}m${seconds}`;
  return `${sign}${minutes / 60n}h${minutes % 60n}m${seconds}`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * A time as Go's JSON decoding reads it (RFC 3339): a "Z" time is UTC, one
 * with an offset keeps it as an unnamed zone. Undefined when it is not one.
 */
export function parseRfc3339(text: string): GoTime | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const date = new Date(0);
  date.setUTCFullYear(year as number, (month as number) - 1, day);
  date.setUTCHours(hour as number, minute, second);
  if (
    date.getUTCDate() !== day ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59
  ) {
    return undefined;
  }
  const offset = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10]) * 60) : 0;
  const nanos = BigInt((m[7] ?? '').padEnd(9, '0'));
  const seconds = BigInt(date.getTime() / 1000 - offset);
  return new GoTime(seconds * NANOS_PER_SECOND + nanos, m[8] ? fixedZone(offset) : UTC, 'time.Time');
}
