/** time.Time's String() for the UTC times templates produce. */
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
  const { seconds, nanos } = splitSeconds(t);
  const iso = new Date(Number(seconds) * 1000).toISOString();
  const [date, rest = ''] = iso.split('T');
  const fraction = nanos === 0n ? '' : `.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${date} ${rest.slice(0, 8)}${fraction} +0000 UTC`;
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

export function timeParts(t: GoTime): TimeParts {
  const { seconds, nanos } = splitSeconds(t);
  const d = new Date(Number(seconds) * 1000);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanosecond: Number(nanos),
    weekday: d.getUTCDay(),
    yearDay: Math.floor((d.getTime() - yearStart) / 86_400_000) + 1,
  };
}

export const monthName = (p: TimeParts): string => MONTHS[p.month - 1] as string;
export const weekdayName = (p: TimeParts): string => WEEKDAYS[p.weekday] as string;

const LAYOUT_ELEMENT =
  /January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|2006|002|0[1-6]|__2|_2|15|1|2|3|4|5|PM|pm|Z07:00:00|Z070000|Z07:00|Z0700|Z07|-07:00:00|-070000|-07:00|-0700|-07|[.,](?:0+|9+)(?![0-9])/g;

const two = (n: number): string => String(n).padStart(2, '0');

/** time.Time.Format for a UTC time. */
export function formatLayout(t: GoTime, layout: string): string {
  const p = timeParts(t);
  const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
  const elements: Record<string, string> = {
    January: monthName(p),
    Jan: monthName(p).slice(0, 3),
    Monday: weekdayName(p),
    Mon: weekdayName(p).slice(0, 3),
    MST: 'UTC',
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
    if (element.startsWith('Z')) return 'Z';
    if (element.startsWith('-')) return element.replace(/\d/g, '0').replace('-', '+');
    const digits = String(p.nanosecond)
      .padStart(9, '0')
      .slice(0, element.length - 1);
    if (element[1] === '0') return element[0] + digits;
    const trimmed = digits.replace(/0+$/, '');
    return trimmed === '' ? '' : element[0] + trimmed;
  });
}
