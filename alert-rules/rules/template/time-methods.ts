/** The time.Time methods a template can call on a time (`toTime`, Alertmanager's `.StartsAt`). */
import type { TemplateFunction } from './functions.ts';
import { UTC } from './go-location.ts';
import { formatLayout, formatTime, monthName, timeParts, unixSeconds, weekdayName } from './go-time.ts';
import { GoInt, GoTime, type GoValue } from './go-values.ts';

/** Go's zero time, January 1 of year 1, UTC: what Alertmanager gives a firing alert's `.EndsAt`. */
const ZERO_TIME_NANOS = -62_135_596_800n * 1_000_000_000n;

const int = (n: number): GoInt => new GoInt(n);
const int64 = (n: number): GoInt => new GoInt(n, 'int64');

/** Methods without arguments. Month and Weekday print as Go prints them (their names). */
const METHODS = new Map<string, (t: GoTime) => GoValue>([
  ['Unix', (t) => int64(unixSeconds(t))],
  ['UnixMilli', (t) => int64(Number(t.unixNanos / 1_000_000n))],
  ['UnixNano', (t) => int64(Number(t.unixNanos))],
  ['String', formatTime],
  ['UTC', (t) => new GoTime(t.unixNanos, UTC, 'time.Time')],
  ['IsZero', (t) => t.unixNanos === ZERO_TIME_NANOS],
  ['Year', (t) => int(timeParts(t).year)],
  ['Month', (t) => monthName(timeParts(t))],
  ['Day', (t) => int(timeParts(t).day)],
  ['Hour', (t) => int(timeParts(t).hour)],
  ['Minute', (t) => int(timeParts(t).minute)],
  ['Second', (t) => int(timeParts(t).second)],
  ['Nanosecond', (t) => int(timeParts(t).nanosecond)],
  ['YearDay', (t) => int(timeParts(t).yearDay)],
  ['Weekday', (t) => weekdayName(timeParts(t))],
]);

const nanos = (v: GoValue): bigint => (v as GoTime).unixNanos;

/** Methods taking one argument. */
const METHODS_WITH_ARGUMENT = new Map<string, (t: GoTime) => TemplateFunction>([
  ['Format', (t) => ({ params: ['string'], call: ([layout]) => formatLayout(t, layout as string) })],
  [
    'Add',
    (t) => ({
      params: ['duration'],
      call: ([d]) => new GoTime(t.unixNanos + BigInt((d as GoInt).value), t.location, 'time.Time'),
    }),
  ],
  [
    'Sub',
    (t) => ({ params: ['time'], call: ([u]) => new GoInt(Number(t.unixNanos - nanos(u)), 'time.Duration') }),
  ],
  ['Before', (t) => ({ params: ['time'], call: ([u]) => t.unixNanos < nanos(u) })],
  ['After', (t) => ({ params: ['time'], call: ([u]) => t.unixNanos > nanos(u) })],
  ['Equal', (t) => ({ params: ['time'], call: ([u]) => t.unixNanos === nanos(u) })],
]);

/** The method `name` of `receiver` bound to it, if it has one. */
export function timeMethod(receiver: GoValue, name: string): TemplateFunction | undefined {
  if (!(receiver instanceof GoTime)) return undefined;
  const withArgument = METHODS_WITH_ARGUMENT.get(name);
  if (withArgument) return withArgument(receiver);
  const method = METHODS.get(name);
  return method === undefined ? undefined : { params: [], call: () => method(receiver) };
}
