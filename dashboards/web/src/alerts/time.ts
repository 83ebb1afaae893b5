const WHEN = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** A time to the minute, in the browser's zone. */
export function formatWhen(time: string | number): string {
  return WHEN.format(typeof time === 'number' ? time : Date.parse(time));
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
];

/** `2h 5m`, `3d 4h`: the two largest units, or `under a minute`. */
export function formatSpan(ms: number): string {
  const parts: string[] = [];
  let rest = Math.abs(ms);
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
  }
  const shown = parts.slice(0, 2).filter((p) => !/^0/.test(p));
  return shown.length > 0 ? shown.join(' ') : 'under a minute';
}

/** How long silences last when made from an alert: a choice, 2 hours unless another is picked. */
export const SILENCE_DURATIONS = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '2 hours', ms: 2 * 3_600_000 },
  { label: '4 hours', ms: 4 * 3_600_000 },
  { label: '8 hours', ms: 8 * 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '3 days', ms: 3 * 86_400_000 },
  { label: '1 week', ms: 7 * 86_400_000 },
] as const;
export const DEFAULT_SILENCE_MS = 2 * 3_600_000;
