const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export class TimeError extends Error {}

/**
 * A point in time as Kibana users write it: `now`, `now-15m`, `now-2h`,
 * `now-7d`, an ISO 8601 time, or epoch milliseconds.
 */
export function parseTime(input: string, now: number): number {
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
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
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
  return Number(match[1]) * UNITS[match[2]!]!;
}
