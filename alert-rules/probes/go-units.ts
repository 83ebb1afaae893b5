/**
 * Durations and byte sizes as blackbox_exporter's configuration writes them:
 * Go's time.ParseDuration (`5s`, `1m30s`, `1.5s`, `250ms`) and
 * alecthomas/units' Base2Bytes (`10MB` and `10MiB` both mean 10 × 1024²).
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Sums `<number><unit>` parts; units are whatever `units` knows. Undefined when `text` is not such a sum. */
function sumOfParts(text: string, units: Record<string, number>): number | undefined {
  const part = /(\d+(?:\.\d*)?|\.\d+)([^\d.]+)/y;
  let total = 0;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    const unit = match ? units[match[2]!] : undefined;
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * unit;
  }
  return text === '' ? undefined : total;
}

/** Milliseconds of a non-negative Go duration; throws with the reason when `text` is not one. */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const ms = sumOfParts(text.replace(/^\+/, ''), DURATION_UNITS_MS);
  if (ms === undefined) throw new Error(`not a duration like "5s" or "1m30s": ${JSON.stringify(text)}`);
  return ms;
}

const SIZE_PREFIXES = ['K', 'M', 'G', 'T', 'P', 'E'];
const SIZE_UNITS: Record<string, number> = Object.fromEntries([
  ['B', 1],
  ...SIZE_PREFIXES.flatMap((prefix, i) => [
    [`${prefix}iB`, 1024 ** (i + 1)],
    [`${prefix}B`, 1024 ** (i + 1)],
  ]),
]);

/** Bytes of a Base2Bytes size (`0`, `512KB`, `10MiB`); throws with the reason when `text` is not one. */
export function parseGoByteSize(text: string): number {
  if (text === '0') return 0;
  const bytes = sumOfParts(text, SIZE_UNITS);
  if (bytes === undefined) throw new Error(`not a size like "10MB" or "512KiB": ${JSON.stringify(text)}`);
  return Math.floor(bytes);
}

/** A duration as people read it in a failure: `5s`, `1.5s`, `250ms`. */
export function formatSeconds(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  return `${Number((ms / 1_000).toFixed(ms < 10_000 ? 2 : 1))}s`;
}
