/**
 * Values and times written the way Prometheus's Go code writes them, so that
 * tools reading Prometheus's API read Lookout's unchanged.
 */

/** Go's zero time, which Prometheus prints for a time never set. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** `strconv.FormatFloat(v, 'e', -1, 64)`: shortest digits, exponent of at least two digits. */
export function formatGoExponent(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  const sign = Object.is(value, -0) ? '-' : '';
  const [mantissa, exponent = '+0'] = value.toExponential().split('e');
  const expSign = exponent.startsWith('-') ? '-' : '+';
  const digits = exponent.replace(/^[+-]/, '').padStart(2, '0');
  return `${sign}${mantissa}e${expSign}${digits}`;
}

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

/**
 * Go's `url.QueryEscape`: everything but letters, digits and `-_.~` is
 * percent-encoded, and a space becomes `+`.
 */
export function goQueryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
