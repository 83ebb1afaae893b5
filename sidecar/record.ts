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

/** What a payload takes: an entry that writes its line, `id \t time \t json \n`, and cannot fail doing so. */
export interface PayloadEntry {
  writeTo(out: ByteWriter): void;
}

/** A payload entry of a whole record, for producers other than RecordBuilder. */
export function plainEntry(entry: RecordEntry): PayloadEntry {
  return {
    writeTo: (out) =>
      out.text(entry.id).byte(TAB).text(String(entry.time)).byte(TAB).text(entry.json).byte(NEWLINE),
  };
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

  add(entry: PayloadEntry): void {
    entry.writeTo(this.out);
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

/** The parts of a record that are the same for every event; bytes, so writing them is a copy. */
const TIMESTAMP_OPEN = Buffer.from('{"@timestamp":"');
const MESSAGE_KEY = Buffer.from('","message":');
const LOG_OPEN = Buffer.from(',"log":{');
const ID_CLOSE = Buffer.from('"}');
const CLOSE_BRACE = 0x7d;

/** The parts of a record that are the same for every event of one file. */
interface FileParts {
  /** `event.id` up to the event's offset (see eventIdPrefix). */
  idPrefix: Buffer;
  /** `"file":{…},"offset":`, before the offset. */
  fileAndOffset: Buffer;
  /** `}` closing log, the source fields, then `,"event":{"id":"`, before the id. */
  sourceAndId: Buffer;
}

/**
 * One event's queue entry with everything that could fail done (its time in
 * ISO form, the JSON of its message and parsed fields), so that writing it
 * into a payload is copies of bytes made once per file. No record string is
 * made: V8 flattened each one to encode it, the largest single cost of reading
 * files in the sidecar's profile.
 */
class EventEntry implements PayloadEntry {
  private readonly parts: FileParts;
  private readonly offset: number;
  private readonly time: number;
  private readonly iso: string;
  private readonly message: string;
  /** `"level":…,"iostream":…,`, the log fields before the file's. */
  private readonly log: Buffer | undefined;
  /** `,"lookout":{…}` and the parsed fields, after the event id; usually empty. */
  private readonly extra: string;

  constructor(parts: FileParts, event: LogEvent, time: number, log: Buffer | undefined, extra: string) {
    this.parts = parts;
    this.offset = event.offset;
    this.time = time;
    this.iso = toIso(time);
    this.message = json(event.message);
    this.log = log;
    this.extra = extra;
  }

  writeTo(out: ByteWriter): void {
    const { parts, offset, time } = this;
    out.bytes(parts.idPrefix).integer(offset, 36).byte(TAB);
    if (Number.isSafeInteger(time) && time >= 0) out.integer(time);
    else out.text(String(time));
    out.byte(TAB).bytes(TIMESTAMP_OPEN).text(this.iso).bytes(MESSAGE_KEY).text(this.message).bytes(LOG_OPEN);
    if (this.log) out.bytes(this.log);
    out.bytes(parts.fileAndOffset).integer(offset).bytes(parts.sourceAndId);
    out.bytes(parts.idPrefix).integer(offset, 36).bytes(ID_CLOSE);
    if (this.extra !== '') out.text(this.extra);
    out.byte(CLOSE_BRACE).byte(NEWLINE);
  }
}

/** Most distinct level and stream pairs whose log fields are kept made; more are made per event. */
const KEPT_LOG_FIELDS = 64;

/**
 * Builds queue entries for the events of one file. The JSON is assembled from
 * pieces made once per file (source fields, path, header) and per event only
 * what changes; JSON.stringify escapes every control character, so a record
 * never holds a raw newline and a payload splits safely on "\n".
 */
export class RecordBuilder {
  readonly header: BatchHeader;
  private readonly headerLine: string;
  private readonly parts: FileParts;
  private readonly owned: Set<string>;
  /** By level, then by stream. */
  private readonly logFields = new Map<string | undefined, Map<string | undefined, Buffer>>();
  private keptLogFields = 0;

  /** `sourceId` scopes event ids; by default the pod uid, else host.name (see sourceIdentity). */
  constructor(source: SourceFields, identity: FileIdentity, path: string, sourceId = sourceIdentity(source)) {
    const shared: SourceFields = {};
    for (const [key, value] of Object.entries(source)) {
      if (!RECORD_FIELDS.has(key)) setOwn(shared, key, value);
    }
    this.header = { ...shared, log: { file: { path } } };
    this.headerLine = json(this.header);
    const idPrefix = eventIdPrefix(sourceId, identity);
    const sourceJson = json(shared);
    // log.file.id: the file's identity, the same across renames and restarts; context follows it, not the path.
    this.parts = {
      idPrefix: Buffer.from(idPrefix),
      fileAndOffset: Buffer.from(`"file":{"path":${json(path)},"id":"${idPrefix}"},"offset":`),
      sourceAndId: Buffer.from(
        `}${sourceJson.length > 2 ? `,${sourceJson.slice(1, -1)}` : ''},"event":{"id":"`,
      ),
    };
    this.owned = new Set([...OWNED_FIELDS, ...ELASTICSEARCH_METADATA, ...Object.keys(shared)]);
  }

  /** The event's entry; whatever can fail in making its record fails here, not when the entry is written. */
  build(event: LogEvent): PayloadEntry {
    const time = event.time ?? event.readAt;
    let conflicts: SourceFields | undefined;
    let extra = '';
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
      extra = `,"lookout":${json(flags)}`;
    }
    extra += fields;
    return new EventEntry(this.parts, event, time, this.logFieldsOf(event.level, event.stream), extra);
  }

  /** A payload to write entries into as they are made (see PayloadWriter for the sizes). */
  payload(start: number | Buffer, fullBytes: number): PayloadWriter {
    return new PayloadWriter(this.headerLine, start, fullBytes);
  }

  /** `"level":…,"iostream":…,` as bytes, made once for each pair seen (up to KEPT_LOG_FIELDS). */
  private logFieldsOf(level: string | undefined, stream: string | undefined): Buffer | undefined {
    if (level === undefined && stream === undefined) return undefined;
    let byStream = this.logFields.get(level);
    let out = byStream?.get(stream);
    if (out === undefined) {
      let text = '';
      if (level !== undefined) text += `"level":${json(level)},`;
      if (stream !== undefined) text += `"iostream":${json(stream)},`;
      out = Buffer.from(text);
      if (this.keptLogFields < KEPT_LOG_FIELDS) {
        if (!byStream) {
          byStream = new Map();
          this.logFields.set(level, byStream);
        }
        byStream.set(stream, out);
        this.keptLogFields++;
      }
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
  for (const entry of entries) out.add(plainEntry(entry));
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
