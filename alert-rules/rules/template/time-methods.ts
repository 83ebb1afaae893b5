/** The time.Time methods a template can call on what `toTime` returns. */
import type { TemplateFunction } from './functions.ts';
import { formatLayout, formatTime, monthName, timeParts, unixSeconds, weekdayName } from './go-time.ts';
import { GoInt, GoTime, type GoValue } from './go-values.ts';

const int = (n: number): GoInt => new GoInt(n);
const int64 = (n: number): GoInt => new GoInt(n, 'int64');

/** Methods without arguments. Month and Weekday print as Go prints them (their names). */
const METHODS = new Map<string, (t: GoTime) => GoValue>([
  ['Unix', (t) => int64(unixSeconds(t))],
  ['UnixMilli', (t) => int64(Number(t.unixNanos / 1_000_000n))],
  ['UnixNano', (t) => int64(Number(t.unixNanos))],
  ['String', formatTime],
  ['UTC', (t) => t],
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

/** The method `name` of `receiver` bound to it, if it has one. */
export function timeMethod(receiver: GoValue, name: string): TemplateFunction | undefined {
  if (!(receiver instanceof GoTime)) return undefined;
  if (name === 'Format')
    return { params: ['string'], call: ([layout]) => formatLayout(receiver, layout as string) };
  const method = METHODS.get(name);
  return method === undefined ? undefined : { params: [], call: () => method(receiver) };
}
