/**
 * Durations as Prometheus writes them in rule files (`1h30m`, `15s`, `1d`,
 * `500ms`): whole numbers, units from the largest to the smallest, each at
 * most once; a year is 365 days, a week 7 days. `0` needs no unit.
 */

const UNITS_LARGEST_FIRST: readonly [string, number][] = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** Prometheus keeps durations in Go's int64 nanoseconds, about 292 years. */
const MAX_MS = Number(2n ** 63n / 1_000_000n);

/** Milliseconds of a Prometheus duration; throws with the reason when `text` is not one. */
export function parsePrometheusDuration(text: string): number {
  if (text === '0') return 0;
  if (text === '') throw new Error('empty duration string');
  let ms = 0;
  let lastUnit = -1;
  const part = /(\d+)([^\d]+)/y;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (!match) throw new Error(`not a valid duration string: ${JSON.stringify(text)}`);
    const unit = UNITS_LARGEST_FIRST.findIndex(([name]) => name === match[2]);
    if (unit < 0)
      throw new Error(`unknown unit ${JSON.stringify(match[2])} in duration ${JSON.stringify(text)}`);
    if (unit <= lastUnit) {
      throw new Error(
        `not a valid duration string: ${JSON.stringify(text)} (units go from largest to smallest)`,
      );
    }
    lastUnit = unit;
    ms += Number(match[1]) * UNITS_LARGEST_FIRST[unit]![1];
    if (ms > MAX_MS) throw new Error(`duration out of range: ${JSON.stringify(text)}`);
  }
  return ms;
}
