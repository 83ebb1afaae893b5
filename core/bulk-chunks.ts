/** Bytes a bulk item's action line adds to its document. */
const BULK_ACTION_BYTES = 120;

export interface BulkLimits {
  maxDocs: number;
  /** Request body bytes, action lines included. */
  maxBytes: number;
}

/**
 * What one bulk request holds by default: some 5 MB, where Elasticsearch
 * spends the least CPU per document (a tenth more at half that size), well
 * inside its http.max_content_length.
 */
export const DEFAULT_BULK_LIMITS: BulkLimits = { maxDocs: 10_000, maxBytes: 5 * 1024 * 1024 };

/**
 * Splits items into bulk requests by document count and body size, so one
 * request stays within what the cluster accepts; an item larger than the
 * limit still goes, alone.
 */
export function* bulkChunks<T>(
  items: Iterable<T>,
  docBytes: (item: T) => number,
  limits: BulkLimits,
): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = docBytes(item) + BULK_ACTION_BYTES;
    if (chunk.length > 0 && (chunk.length >= limits.maxDocs || bytes + size > limits.maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
