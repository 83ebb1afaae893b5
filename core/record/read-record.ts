import { utf8Prefix } from '../utf8.ts';
import {
  canonicalShape,
  checkDerivedFields,
  isFields,
  isOwnedKey,
  ShapeError,
  type ShapeLimits,
} from './canonical.ts';
import { jsonBeyondLimits, pruneDeeperThan } from './json-depth.ts';
import { isRecordId, type LogRecord, parseTimestamp, RECORD_ID_RULE } from './log-record.ts';

type Fields = Record<string, unknown>;

/** What a record received from outside must hold to be stored as it is. */
export interface RecordRules extends ShapeLimits {
  /** A longer `message` keeps its first bytes, cut on a character boundary, flagged `lookout.truncated`. */
  maxMessageBytes: number;
  /**
   * An event time further ahead of the receive time than this becomes the
   * receive time, the original kept in `lookout.original_timestamp`: each
   * future day would be a daily index that retention never reaches.
   */
  maxFutureSkewMs: number;
}

/** A record ready for a store, with the namespace its writer must be allowed; or why it is refused. */
export type ReadRecord =
  | { ok: true; record: LogRecord; namespace: string | undefined }
  | { ok: false; reason: string };

/**
 * Reads one record (one document of JSON, as the sidecar writes it) into its
 * canonical shape and checks what the stores rely on: an object with a valid
 * `event.id` and `@timestamp`, and one value of the right type for each field
 * they derive anything from. The document stored is the checked one,
 * serialised again, so no store can read a field differently from the check.
 *
 * A record beyond the depth or field limits keeps the fields Lookout owns
 * (they must themselves be within the limits, or the record is refused),
 * and its text becomes the `message`, flagged `lookout.parse_error`. Text
 * that nests too deep is never parsed as it is: the parts past the limit
 * are cut out first.
 */
export function readRecord(line: Buffer, rules: RecordRules, receivedAt: number): ReadRecord {
  let json = line.toString('utf8');
  // Fields are counted while shaping, where a record past the limit still keeps its owned fields.
  let plain = jsonBeyondLimits(json, { maxDepth: rules.maxDepth });
  if (plain !== undefined) json = pruneDeeperThan(json, rules.maxDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (!isFields(parsed)) return { ok: false, reason: 'not a JSON object' };
  let doc: Fields;
  try {
    const shaped = plain === undefined ? canonicalShape(parsed, rules) : undefined;
    if (shaped?.doc) doc = shaped.doc;
    else {
      plain ??= shaped?.overflow;
      // Shaping changed the parsed objects on its way; the owned fields are shaped from a fresh parse.
      const owned = canonicalShape(shaped ? JSON.parse(json) : parsed, rules, isOwnedKey);
      if (!owned.doc) return { ok: false, reason: `the fields Lookout owns are ${owned.overflow}` };
      doc = owned.doc;
    }
    checkDerivedFields(doc);
  } catch (err) {
    if (err instanceof ShapeError) return { ok: false, reason: err.message };
    throw err;
  }
  const event = doc.event as Fields | undefined;
  const id = event?.id;
  if (typeof id !== 'string' || !isRecordId(id)) {
    return { ok: false, reason: `event.id is missing or not ${RECORD_ID_RULE}` };
  }
  let time = parseTimestamp(doc['@timestamp']);
  if (time === undefined) return { ok: false, reason: '@timestamp is missing or not an ISO 8601 time' };

  if (plain !== undefined) {
    doc.message = line.toString('utf8');
    flags(doc).parse_error = `kept as text: ${plain}`;
  }
  const message = doc.message;
  const cut = typeof message === 'string' ? utf8Prefix(message, rules.maxMessageBytes) : message;
  if (cut !== message) {
    doc.message = cut;
    flags(doc).truncated = true;
  }
  if (time > receivedAt + rules.maxFutureSkewMs) {
    flags(doc).original_timestamp = doc['@timestamp'];
    doc['@timestamp'] = new Date(receivedAt).toISOString();
    time = receivedAt;
  }
  const namespace = (doc.kubernetes as Fields | undefined)?.namespace as string | undefined;
  return { ok: true, record: { id, time, doc: Buffer.from(JSON.stringify(doc)) }, namespace };
}

/** `lookout`, where the flags go; checkDerivedFields made sure it is an object when present. */
function flags(doc: Fields): Fields {
  if (doc.lookout === undefined) doc.lookout = Object.create(null);
  return doc.lookout as Fields;
}
