/**
 * One log record: the ECS document as JSON text, with the fields every queue,
 * sink and store needs read out once. The sidecar's queue entries, the
 * collector's Kafka and ingest records and the stores' writes are all this.
 */
export interface LogRecord {
  /** `event.id`: the Elasticsearch `_id` and the embedded store's primary key. */
  id: string;
  /** `@timestamp` in epoch ms: chooses the daily index (or day partition). */
  time: number;
  /** The whole document, UTF-8 JSON. */
  doc: Buffer;
}

/**
 * Top-level fields Lookout sets. Parsed fields never overwrite them: the
 * sidecar keeps a parsed field by one of these names, or a dotted name under
 * one, under `lookout.conflicts`.
 */
export const OWNED_FIELDS = [
  '@timestamp',
  'message',
  'log',
  'kubernetes',
  'host',
  'service',
  'event',
  'lookout',
];

// Elasticsearch limits _id to 512 bytes; sidecar ids are 20 to 32 URL-safe characters.
const RECORD_ID = /^[\w-]{1,256}$/;

/** Whether an `event.id` is one every store takes as a key: 1-256 letters, digits, `_` or `-`. */
export function isRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}

export const RECORD_ID_RULE = '1-256 letters, digits, "_" or "-"';

/**
 * A Kubernetes label key as a field name: `app.kubernetes.io/name` has dots,
 * which would make `app` both a value and an object next to a label `app`.
 */
export function dedotLabelKey(key: string): string {
  return key.replaceAll('.', '_');
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * `@timestamp` in epoch ms, as Elasticsearch's default date format reads it
 * (strict ISO 8601 date with optional time, or epoch milliseconds). A time
 * without a zone is UTC; digits past the millisecond are dropped.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  // Epoch milliseconds as text; four digits alone are a year, as in Elasticsearch.
  if (/^-?\d{5,16}$/.test(value)) return Number(value);
  if (/^\d{4}$/.test(value)) return Date.UTC(Number(value), 0, 1);
  const m = ISO_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const date = Date.UTC(
    year!,
    month! - 1,
    day!,
    hour!,
    minute!,
    second!,
    Number(frac.padEnd(3, '0').slice(0, 3)),
  );
  // Date.UTC rolls 31 April over to 1 May; a real date reads back the same day.
  if (new Date(date).getUTCDate() !== day) return undefined;
  let shift = 0;
  if (zone !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5) || '0');
    if (hours > 23 || minutes > 59) return undefined;
    shift = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return date - shift;
}
