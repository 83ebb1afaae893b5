import { hash } from 'node:crypto';
import { ByteWriter } from '../core/bytes.ts';
import { type LogRecord, OWNED_FIELDS } from '../core/record/log-record.ts';
import { RecordLine } from '../core/record/record-line.ts';
import { setOwn } from './parse/object.ts';
import { toIso } from './parse/timestamp.ts';
import type { FileIdentity, LogEvent, SourceFields } from './types.ts';

/** The fields only the record builder writes; source fields by these names are ignored. */
const RECORD_FIELDS = new Set(['@timestamp', 'message', 'log', 'event', 'lookout']);

/** Elasticsearch rejects a whole document that has one of these at its root. */
const ELASTICSEARCH_METADATA = [
  '_id',
  '_index',
  '_source',
  '_routing',
  '_ignored',
  '_ignored_source',
  '_version',
  '_seq_no',
  '_primary_term',
  '_type',
  '_field_names',
  '_tier',
  '_doc_count',
  '_data_stream_timestamp',
  '_meta',
  '_nested_path',
];

/** One event ready for the queue: what the sinks need without parsing the record. */
export interface RecordEntry {
  /** `event.id`, the Elasticsearch `_id`. */
  id: string;
  /** `@timestamp` in epoch ms; chooses the daily index. */
  time: number;
  /** The whole ECS document, one line of JSON. */
  json: string;
}

/** First line of a payload: what every event of the batch shares. */
export type BatchHeader = SourceFields & { log: { file: { path: string } } };

export interface DecodedPayload {
  header: BatchHeader;
  entries: LogRecord[];
}

/** ISO 8601 where a date can hold the time (±273,790 years), else the number of milliseconds. */
function isoOrNumber(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? toIso(ms) : String(ms);
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * The identity of a source, for event ids: the pod's uid, else the host name.
 * It must be the same every time a file is read, or a line read again gets a
 * new id: a caller that cannot always know the uid (node mode, where it comes
 * from a path that disappears with the pod) should pass the node name instead.
 */
function sourceIdentity(source: SourceFields): string {
  const kubernetes = source.kubernetes as { pod?: { uid?: unknown } } | undefined;
  const host = source.host as { name?: unknown } | undefined;
  return String(kubernetes?.pod?.uid ?? host?.name ?? '');
}

const ID_PREFIX_BYTES = 15;
const NEWLINE = 0x0a;
const TAB = 0x09;

/**
 * The part of `event.id` shared by every event of one file: SHA-256 of the
 * source and file identities, 15 bytes, 20 base64url characters. The event's
 * byte offset (base 36) follows it. Hashing once per file instead of once per
 * event keeps ~1 µs per line off the hot path, and two events of one file can
 * never collide since their offsets differ.
 */
export function eventIdPrefix(sourceId: string, identity: FileIdentity): string {
  const input = `${sourceId}\n${identity.dev}\n${identity.ino}\n${identity.fingerprint}\n${identity.generation}`;
  return (hash('sha256', input, 'buffer') as Buffer).subarray(0, ID_PREFIX_BYTES).toString('base64url');
}

/**
 * A queue payload being written: the header line, then `id \t time \t json`
 * per entry. Entries are written as they are made instead of being kept
 * until the batch is full: a batch of held record strings outlived V8's
 * young generation, and promoting them was most of the sidecar's garbage
 * collection work and of its peak memory.
 */
export class PayloadWriter {
  private readonly out: ByteWriter;

  /** Starts in `start` (a buffer, or that many bytes) and grows by doubling, up to `fullBytes` unless one entry needs more. */
  constructor(headerLine: string, start: number | Buffer, fullBytes = Number.POSITIVE_INFINITY) {
    this.out = new ByteWriter(start, fullBytes).text(headerLine).byte(NEWLINE);
  }

  add(entry: RecordEntry): void {
    // Piece by piece: a joined line would be one more string of the record's size per event.
    this.out.text(entry.id).byte(TAB).text(String(entry.time)).byte(TAB).text(entry.json).byte(NEWLINE);
  }

  /** Bytes written, the header line included. */
  get bytes(): number {
    return this.out.size;
  }

  /** The payload; the writer must not be used afterwards. */
  finish(): Buffer {
    return this.out.finish();
  }
}

/**
 * Builds queue entries for the events of one file. The JSON is assembled from
 * pieces computed once per file (source fields, path, header) and per event
 * only what changes; JSON.stringify escapes every control character, so a
 * record never holds a raw newline and a payload splits safely on "\n".
 */
export class RecordBuilder {
  readonly header: BatchHeader;
  private readonly headerLine: string;
  private readonly idPrefix: string;
  /** `,"kubernetes":{…},"host":{…}…`: the source fields as they appear in every record. */
  private readonly sourceJson: string;
  private readonly fileJson: string;
  private readonly owned: Set<string>;
  private readonly levels = new Map<string, string>();

  /** `sourceId` scopes event ids; by default the pod uid, else host.name (see sourceIdentity). */
  constructor(source: SourceFields, identity: FileIdentity, path: string, sourceId = sourceIdentity(source)) {
    const shared: SourceFields = {};
    for (const [key, value] of Object.entries(source)) {
      if (!RECORD_FIELDS.has(key)) setOwn(shared, key, value);
    }
    this.header = { ...shared, log: { file: { path } } };
    this.headerLine = json(this.header);
    this.idPrefix = eventIdPrefix(sourceId, identity);
    const sourceJson = json(shared);
    this.sourceJson = sourceJson.length > 2 ? `,${sourceJson.slice(1, -1)}` : '';
    // log.file.id: the file's identity, the same across renames and restarts; context follows it, not the path.
    this.fileJson = `"file":{"path":${json(path)},"id":"${this.idPrefix}"}`;
    this.owned = new Set([...OWNED_FIELDS, ...ELASTICSEARCH_METADATA, ...Object.keys(shared)]);
  }

  eventId(offset: number): string {
    return this.idPrefix + offset.toString(36);
  }

  build(event: LogEvent): RecordEntry {
    const time = event.time ?? event.readAt;
    const id = this.eventId(event.offset);
    let log = '';
    if (event.level !== undefined) log += `"level":${this.levelJson(event.level)},`;
    if (event.stream !== undefined) log += `"iostream":${json(event.stream)},`;
    let record = `{"@timestamp":"${toIso(time)}","message":${json(event.message)},"log":{${log}${this.fileJson},"offset":${event.offset}}${this.sourceJson},"event":{"id":"${id}"}`;
    let conflicts: SourceFields | undefined;
    let fields = '';
    if (event.fields) {
      conflicts = this.conflicts(event.fields);
      const own = json(conflicts ? this.without(event.fields, conflicts) : event.fields);
      if (own.length > 2) fields = `,${own.slice(1, -1)}`;
    }
    if (event.truncated || event.parseError !== undefined || conflicts || event.futureTime !== undefined) {
      const flags: SourceFields = {};
      if (event.truncated) flags.truncated = true;
      if (event.parseError !== undefined) flags.parse_error = event.parseError;
      if (event.futureTime !== undefined) flags.original_timestamp = isoOrNumber(event.futureTime);
      if (conflicts) flags.conflicts = conflicts;
      record += `,"lookout":${json(flags)}`;
    }
    record += `${fields}}`;
    return { id, time, json: record };
  }

  /** A payload to write entries into as they are made (see PayloadWriter for the sizes). */
  payload(start: number | Buffer, fullBytes: number): PayloadWriter {
    return new PayloadWriter(this.headerLine, start, fullBytes);
  }

  private levelJson(level: string): string {
    let out = this.levels.get(level);
    if (out === undefined) {
      out = json(level);
      if (this.levels.size < 64) this.levels.set(level, out);
    }
    return out;
  }

  /** Parsed fields that would overwrite what the sidecar sets, or undefined when there are none. */
  private conflicts(fields: SourceFields): SourceFields | undefined {
    let found: SourceFields | undefined;
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      const dot = key.indexOf('.');
      if (!this.owned.has(dot < 0 ? key : key.slice(0, dot))) continue;
      found ??= {};
      setOwn(found, key, value);
    }
    return found;
  }

  private without(fields: SourceFields, conflicts: SourceFields): SourceFields {
    const kept: SourceFields = {};
    for (const key in fields) {
      if (!Object.hasOwn(conflicts, key)) setOwn(kept, key, fields[key]);
    }
    return kept;
  }
}

/** A payload from a header and entries, for producers other than RecordBuilder. */
export function encodePayload(header: BatchHeader, entries: readonly RecordEntry[]): Buffer {
  let estimate = 0;
  for (const entry of entries) estimate += entry.json.length + 40;
  const out = new PayloadWriter(json(header), estimate);
  for (const entry of entries) out.add(entry);
  return out.finish();
}

/**
 * Splits a payload into its header and entries. Only the header is parsed as
 * JSON; each record stays bytes in the payload (a RecordLine), which the
 * sinks send on as they are.
 */
export function decodePayload(payload: Buffer): DecodedPayload {
  const headerEnd = payload.indexOf(NEWLINE);
  if (headerEnd < 0) throw new Error('payload has no header line');
  const header = JSON.parse(payload.toString('utf8', 0, headerEnd)) as BatchHeader;
  const entries: LogRecord[] = [];
  for (let start = headerEnd + 1; start < payload.length; ) {
    let end = payload.indexOf(NEWLINE, start);
    if (end < 0) end = payload.length;
    const entry = RecordLine.read(payload, start, end);
    if (!entry) throw new Error(`payload line at byte ${start} is not "id<TAB>time<TAB>json"`);
    entries.push(entry);
    start = end + 1;
  }
  return { header, entries };
}
