import { readRecordHeader } from '../core/record/headers.ts';
import { isRecordId, type LogRecord } from '../core/record/log-record.ts';
import { type RecordRules, readRecord } from '../core/record/read-record.ts';
import type { CollectorConfig } from './config.ts';

/** The record rules of the collector's configuration. */
export function recordRules(config: CollectorConfig['records']): RecordRules {
  return {
    maxDepth: config.maxDepth,
    maxFields: config.maxFields,
    maxMessageBytes: config.maxMessageBytes,
    maxFutureSkewMs: config.maxFutureSkew,
  };
}

/**
 * A record the sidecar sent to Kafka carries its id and time in a header too
 * (core/record/headers.ts): with it, the JSON is stored as it came without
 * being parsed here, and a document that is not valid JSON is refused by the
 * store instead (and dead-lettered the same way). The sidecar sets the
 * fields Lookout owns itself. Undefined when the header is missing or
 * malformed, or its time is past `latestTime`: then the record is read in
 * full, which replaces a time too far ahead.
 */
export function recordFromHeader(
  doc: Buffer,
  header: Buffer | undefined,
  latestTime: number,
): LogRecord | undefined {
  const read = header && readRecordHeader(header);
  return read && read.time <= latestTime && isRecordId(read.id)
    ? { id: read.id, time: read.time, doc }
    : undefined;
}

/** A Kafka record: from its header when it has a good one, else read in full. A string says why it is refused. */
export function kafkaRecord(
  doc: Buffer,
  header: Buffer | undefined,
  rules: RecordRules,
  receivedAt: number,
): LogRecord | string {
  const fromHeader = recordFromHeader(doc, header, receivedAt + rules.maxFutureSkewMs);
  if (fromHeader) return fromHeader;
  const read = readRecord(doc, rules, receivedAt);
  return read.ok ? read.record : read.reason;
}
