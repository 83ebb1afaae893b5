/**
 * Values and times written the way Prometheus's Go code writes them, so that
 * tools reading Prometheus's API read Lookout's unchanged.
 */

/** Go's zero time, which Prometheus prints for a time never set. */
import { formatFloat } from './template/go-float.ts';

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A time as Go's JSON encoding writes it (RFC 3339 with the fraction's
 * trailing zeros dropped, in UTC). 0 stands for Go's zero time.
 */
export function formatGoTime(ms: number): string {
  if (ms === 0) return GO_ZERO_TIME;
  return new Date(ms)
    .toISOString()
    .replace(/\.?0+Z$/, 'Z')
    .replace(/\.Z$/, 'Z');
}

/** `strconv.FormatFloat(v, 'e', -1, 64)`, as Prometheus's API writes a sample's value. */
export function formatGoExponent(value: number): string {
  return formatFloat(value, 'e', -1);
}
