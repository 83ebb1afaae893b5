import { type LogRecord, parseTimestamp } from '../../../core/record/log-record.ts';
import { ALL_TOKEN, keywordToken, tokenize } from './tokens.ts';

/** The latest time the embedded store's line key can hold: 2^43 ms after the epoch, in 2248. */
export const MAX_TIME = 2 ** 43 - 1;

/** A record as the embedded store keeps it. */
export interface Row {
  id: string;
  time: number;
  offset: number;
  /** The stream context is read from. */
  namespace: string;
  pod: string;
  container: string;
  path: string;
  /** `log.file.id`: the file's identity, the same for all its lines whatever its name was; empty when unknown. */
  fileId: string;
  /** Words of `message`, separated by spaces. */
  body: string;
  /** One keyword word per field value, separated by spaces. */
  keys: string;
  /** The document as it came. */
  doc: string;
}

/**
 * Fields that are not offered as keyword filters: unique per line (their
 * words would double the index) or searched another way. `event.id`,
 * `@timestamp` and `log.offset` are columns of their own.
 */
const NOT_KEYWORDS = new Set(['message', '@timestamp', 'event.id', 'log.offset']);
/** Enough for any real record; a document with more leaves keeps the first ones filterable. */
const MAX_KEYWORDS = 512;
const MAX_DEPTH = 32;

/** Reads, checks and indexes one record; a string is the reason it is refused. */
export function toRow(record: LogRecord): Row | string {
  const text = record.doc.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'document is not valid JSON';
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'document is not a JSON object';

  const leaves = new Leaves();
  leaves.walk(doc as Record<string, unknown>, '', 0);

  const id = leaves.first('event.id');
  if (typeof id !== 'string' || id === '') return 'event.id is missing, empty or not a string';
  if (record.id !== '' && record.id !== id)
    return `event.id "${id}" differs from the record id "${record.id}"`;
  const timestamp = leaves.first('@timestamp');
  const time = parseTimestamp(timestamp);
  if (timestamp === undefined) return '@timestamp is missing';
  if (time === undefined) return `@timestamp ${JSON.stringify(timestamp)} is not a valid date`;
  if (time < 0 || time > MAX_TIME) return `@timestamp ${JSON.stringify(timestamp)} is outside 1970 to 2248`;
  // Elasticsearch reads a long from a number or numeric text, dropping a fraction.
  const offset = Math.trunc(Number(leaves.first('log.offset') ?? 0));
  if (!Number.isSafeInteger(offset))
    return `log.offset ${JSON.stringify(leaves.first('log.offset'))} is not a number`;

  const body: string[] = [];
  for (const value of leaves.all('message')) {
    if (typeof value !== 'object') body.push(tokenize(String(value)).join(' '));
  }
  return {
    id,
    time,
    offset,
    namespace: text1(leaves.first('kubernetes.namespace')),
    pod: text1(leaves.first('kubernetes.pod.name')),
    container: text1(leaves.first('kubernetes.container.name')),
    path: text1(leaves.first('log.file.path')),
    fileId: text1(leaves.first('log.file.id')),
    body: body.join(' '),
    keys: leaves.keywords(),
    doc: text,
  };
}

/** The scalar values of one field of a stored document, as filters see them (see Leaves). */
export function fieldValues(docText: string, field: string): unknown[] {
  const leaves = new Leaves();
  leaves.walk(JSON.parse(docText), '', 0);
  return leaves.all(field);
}

function text1(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Scalar values of a document by dotted field name, the way Elasticsearch
 * sees fields: `{"user": {"id": 1}}` and `{"user.id": 1}` are both `user.id`,
 * and an array is several values of one field.
 */
class Leaves {
  private readonly values = new Map<string, unknown[]>();
  private count = 0;

  walk(value: unknown, path: string, depth: number): void {
    if (value === null || value === undefined || depth > MAX_DEPTH) return;
    if (Array.isArray(value)) {
      for (const item of value) this.walk(item, path, depth + 1);
      return;
    }
    if (typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        this.walk(child, path === '' ? key : `${path}.${key}`, depth + 1);
      }
      return;
    }
    let list = this.values.get(path);
    if (!list) {
      list = [];
      this.values.set(path, list);
    }
    list.push(value);
  }

  first(field: string): unknown {
    return this.values.get(field)?.[0];
  }

  all(field: string): unknown[] {
    return this.values.get(field) ?? [];
  }

  keywords(): string {
    const words = [ALL_TOKEN];
    for (const [field, list] of this.values) {
      if (NOT_KEYWORDS.has(field)) continue;
      for (const value of list) {
        if (this.count++ >= MAX_KEYWORDS) return words.join(' ');
        words.push(keywordToken(field, keywordText(value)));
      }
    }
    return words.join(' ');
  }
}

/** The text a keyword filter value is compared with: numbers and booleans as JSON writes them. */
export function keywordText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
