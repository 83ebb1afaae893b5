/**
 * Kafka headers the sidecar puts on each record: its `event.id` and
 * `@timestamp` (epoch ms). They are what a consumer needs to route a record
 * to its daily index without parsing the JSON; the JSON stays the truth.
 */
export const RECORD_ID_HEADER = 'lookout-event-id';
export const RECORD_TIME_HEADER = 'lookout-time';

/** Header keys as bytes, made once: a producer writes them on every record. */
export const RECORD_ID_KEY = Buffer.from(RECORD_ID_HEADER);
export const RECORD_TIME_KEY = Buffer.from(RECORD_TIME_HEADER);

export function recordHeaders(id: string, time: number): Map<Buffer, Buffer> {
  return new Map([
    [RECORD_ID_KEY, Buffer.from(id)],
    [RECORD_TIME_KEY, Buffer.from(String(time))],
  ]);
}
