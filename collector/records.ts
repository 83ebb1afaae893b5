import { readRecordHeader } from '../core/record-headers.ts';
import type { LogRecord } from './store/store.ts';

/** A record that can be stored, or why it cannot. */
export type ParsedRecord =
  | { ok: true; record: LogRecord; namespace: string | undefined }
  | { ok: false; reason: string };

// Elasticsearch limits _id to 512 bytes; sidecar ids are 20 to 32 URL-safe characters.
const ID = /^[\w-]{1,256}$/;

/**
 * A record the sidecar sent to Kafka carries its id and time in a header too
 * (core/record-headers.ts): with it, the JSON is stored as it came without
 * being parsed here, and a document that is not valid JSON is refused by the
 * store instead (and dead-lettered the same way). Undefined when the header is
 * missing or malformed: then the record is parsed.
 */
export function recordFromHeader(doc: Buffer, header: Buffer | undefined): LogRecord | undefined {
  const read = header && readRecordHeader(header);
  return read && ID.test(read.id) ? { id: read.id, time: read.time, doc } : undefined;
}

/**
 * Reads a record as the sidecar writes it (one ECS document of JSON) and
 * checks what the stores rely on: an object with `event.id` and a valid
 * `@timestamp`. The bytes are stored as they came.
 */
export function parseRecord(bytes: Buffer): ParsedRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const fields = doc as Record<string, unknown>;
  const id = field(fields, 'event', 'id');
  if (typeof id !== 'string' || !ID.test(id)) {
    return { ok: false, reason: 'event.id is missing or not 1-256 letters, digits, "_" or "-"' };
  }
  const timestamp = fields['@timestamp'];
  const time = typeof timestamp === 'string' ? parseUtc(timestamp) : Number.NaN;
  if (!Number.isFinite(time)) return { ok: false, reason: '@timestamp is missing or not an ISO 8601 time' };
  const namespace = field(fields, 'kubernetes', 'namespace');
  return {
    ok: true,
    record: { id, time, doc: bytes },
    namespace: typeof namespace === 'string' ? namespace : undefined,
  };
}

/**
 * Date.parse reads an ISO time without a zone as local time; the stores read
 * the document's @timestamp as UTC, and so must the choice of daily index.
 */
function parseUtc(text: string): number {
  return Date.parse(/T[\d:.]+$/.test(text) ? `${text}Z` : text);
}

/** A two-level field, nested (`{"event": {"id": …}}`) or dotted (`{"event.id": …}`). */
function field(doc: Record<string, unknown>, parent: string, child: string): unknown {
  const nested = doc[parent];
  if (nested !== null && typeof nested === 'object' && child in nested) {
    return (nested as Record<string, unknown>)[child];
  }
  return doc[`${parent}.${child}`];
}
