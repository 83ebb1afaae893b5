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
