/** Go's time.Location for templates: UTC, fixed offsets (times parsed with one), and IANA zones (`tz`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The zone in force at an instant: what `MST` and `-0700` print. */
export interface GoZone {
  /** Empty for a fixed offset without a name: Go prints the offset in its place. */
  abbreviation: string;
  offsetSeconds: number;
}

export interface GoLocation {
  /** What %#v shows: "UTC", "Asia/Shanghai", "" for a fixed offset. */
  name: string;
  zone(unixSeconds: number): GoZone;
}

export const UTC: GoLocation = { name: 'UTC', zone: () => ({ abbreviation: 'UTC', offsetSeconds: 0 }) };

/** The location Go gives a time parsed with a numeric offset (in a process whose local zone is UTC). */
export function fixedZone(offsetSeconds: number): GoLocation {
  if (offsetSeconds === 0) return UTC;
  return { name: '', zone: () => ({ abbreviation: '', offsetSeconds }) };
}

const ZONEINFO = '/usr/share/zoneinfo';
const loaded = new Map<string, GoLocation>();

/** time.LoadLocation: "" and "UTC" are UTC, "Local" the process's zone, else an IANA name. */
export function loadLocation(name: string): GoLocation {
  if (name === '' || name === 'UTC') return UTC;
  const known = loaded.get(name);
  if (known) return known;
  if (name.includes('..') || /^[/\\]/.test(name)) throw new Error('time: invalid location name');
  const ianaName = name === 'Local' ? new Intl.DateTimeFormat().resolvedOptions().timeZone : name;
  let offsets: Intl.DateTimeFormat;
  try {
    // Intl also takes "+08:00" as a zone; Go takes names only.
    if (!/^[A-Za-z]/.test(ianaName)) throw new RangeError(ianaName);
    offsets = new Intl.DateTimeFormat('en-US', { timeZone: ianaName, timeZoneName: 'longOffset' });
  } catch {
    throw new Error(`unknown time zone ${name}`);
  }
  const names = zoneNames(ianaName);
  const location: GoLocation = {
    name,
    zone(unixSeconds) {
      const text = offsets.formatToParts(unixSeconds * 1000).find((p) => p.type === 'timeZoneName')?.value;
      const offsetSeconds = parseGmtOffset(text ?? 'GMT');
      return { offsetSeconds, abbreviation: names(offsetSeconds) };
    },
  };
  loaded.set(name, location);
  return location;
}

/** "GMT+08:00", "GMT-03:30", "GMT" (Intl's longOffset). */
function parseGmtOffset(text: string): number {
  const m = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return 0;
  const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -seconds : seconds;
}

/** "+08", "+0530": how the zone database names zones that have no letters, and Go's fallback here. */
function numericAbbreviation(offsetSeconds: number): string {
  const abs = Math.abs(offsetSeconds);
  const hours = String(Math.floor(abs / 3600)).padStart(2, '0');
  const minutes = Math.floor((abs % 3600) / 60);
  return `${offsetSeconds < 0 ? '-' : '+'}${hours}${minutes === 0 ? '' : String(minutes).padStart(2, '0')}`;
}

/**
 * The abbreviations Go prints ("CST" for Asia/Shanghai, "CET"/"CEST"), which
 * Intl does not know: from the POSIX rule at the end of the zone's file in the
 * system's zone database, which holds for current times. Without the file,
 * the numeric form.
 */
function zoneNames(ianaName: string): (offsetSeconds: number) => string {
  let rule: RegExpExecArray | null = null;
  try {
    const file = readFileSync(join(ZONEINFO, ianaName), 'latin1');
    // Only version 2 files and later end with the rule.
    if (!file.startsWith('TZif') || (file[4] ?? '\0') < '2') return numericAbbreviation;
    const footer = file.slice(file.lastIndexOf('\n', file.length - 2) + 1, -1);
    rule = /^(<[^>]*>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}){0,2})(<[^>]*>|[A-Za-z]{3,})?/.exec(footer);
  } catch {
    // No zone database: numeric abbreviations.
  }
  if (!rule) return numericAbbreviation;
  const [std, stdOffset, dst] = [rule[1] as string, rule[2] as string, rule[3]];
  const unbracket = (s: string) => s.replace(/^<(.*)>$/, '$1');
  // POSIX offsets are west of Greenwich: "CST-8" is 8 hours east.
  const [h = '0', m = '0', s = '0'] = stdOffset.replace(/^[+-]/, '').split(':');
  const east = (stdOffset.startsWith('-') ? 1 : -1) * (Number(h) * 3600 + Number(m) * 60 + Number(s));
  return (offsetSeconds) => {
    if (offsetSeconds === east) return unbracket(std);
    return dst ? unbracket(dst) : numericAbbreviation(offsetSeconds);
  };
}
