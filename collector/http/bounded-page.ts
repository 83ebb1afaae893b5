import { byteLength, prefixWithin } from '../../notify/bytes.ts';
import { encodeCursor } from '../query/request.ts';
import type { SearchQuery, SortKey } from '../query/types.ts';
import type { ContextResult, LogHit, LogStore } from '../store/store.ts';

/** Hits per store call: a default page is one call, and at most this many documents are held at once. */
const MAX_SLICE = 100;

/** A hit as the API returns it: its id, its cursor, and the document. */
export function hitView(hit: LogHit) {
  return { id: hit.id, cursor: encodeCursor(hit.sort), doc: hit.doc };
}

/**
 * How many hits to ask the store for next: what about `budget` bytes hold at
 * the average size seen so far, from 1 to `most`. The store's answer is held
 * whole in memory, so its size follows the bytes still wanted, not the rows.
 */
export function sliceSize(budget: number, seen: { bytes: number; hits: number }, most: number): number {
  if (seen.hits === 0) return Math.min(most, MAX_SLICE);
  const fits = Math.floor(budget / Math.max(1, seen.bytes / seen.hits)) + 1;
  return Math.max(1, Math.min(most, fits));
}

const CUT_FLAG = ',"truncated":true';

/**
 * A hit alone bigger than a whole page (stored before messages were bounded,
 * or under a larger bound) still goes out, its message cut to fit and the
 * hit flagged `truncated`, so the reader can go on past it.
 */
function cutToFit(hit: LogHit, maxBytes: number, marks: { anchor?: true } = {}): string {
  const whole = JSON.stringify({ ...hitView(hit), ...marks });
  const message = hit.doc.message;
  if (typeof message !== 'string') return whole;
  const keep = byteLength(message, 'json') - (Buffer.byteLength(whole) - maxBytes) - CUT_FLAG.length;
  const doc = { ...hit.doc, message: prefixWithin(message, Math.max(0, keep), 'json') };
  return JSON.stringify({ ...hitView({ ...hit, doc }), ...marks, truncated: true });
}

/**
 * One answer of `/api/logs/search` as JSON text: at most `query.size` hits
 * and, past the first hit, at most `maxBytes`. A page cut short by bytes says
 * `truncated: true` and its `next` continues right after its last hit.
 */
export async function boundedPage(store: LogStore, query: SearchQuery, maxBytes: number): Promise<string> {
  const parts: string[] = [];
  const seen = { bytes: 0, hits: 0 };
  let truncated = false;
  let next: SortKey | undefined;
  let page = await store.search({ ...query, size: sliceSize(maxBytes, seen, query.size) });
  const { total, histogram } = page;
  reading: for (;;) {
    for (const hit of page.hits) {
      let json = JSON.stringify(hitView(hit));
      let bytes = Buffer.byteLength(json) + 1;
      if (seen.bytes + bytes > maxBytes) {
        truncated = true;
        if (parts.length > 0) break reading;
        json = cutToFit(hit, maxBytes);
        bytes = Buffer.byteLength(json) + 1;
      }
      parts.push(json);
      seen.bytes += bytes;
      seen.hits++;
      next = hit.sort;
    }
    if (!page.next || parts.length >= query.size) {
      next = page.next;
      break;
    }
    const size = sliceSize(maxBytes - seen.bytes, seen, query.size - parts.length);
    page = await store.search({ ...query, size, after: page.next, histogramIntervalMs: undefined });
  }
  const tail = { total, next: next && encodeCursor(next), histogram, ...(truncated && { truncated }) };
  return `{"hits":[${parts.join(',')}],${JSON.stringify(tail).slice(1)}`;
}

/**
 * A context answer as JSON text: the anchor (marked `anchor: true`) and the
 * lines nearest to it on both sides, in written order, as many as fit in
 * `maxBytes`; `truncated: true` when lines were left out for size.
 */
export function boundedContext(result: ContextResult, maxBytes: number): string {
  let anchor = JSON.stringify({ ...hitView(result.anchor), anchor: true });
  let truncated = Buffer.byteLength(anchor) > maxBytes;
  if (truncated) anchor = cutToFit(result.anchor, maxBytes, { anchor: true });
  let bytes = Buffer.byteLength(anchor);
  const before: string[] = [];
  const after: string[] = [];
  for (let b = result.before.length - 1, a = 0; !truncated && (b >= 0 || a < result.after.length); ) {
    const takeBefore = b >= 0 && (before.length <= after.length || a >= result.after.length);
    const json = JSON.stringify(hitView(takeBefore ? result.before[b]! : result.after[a]!));
    const size = Buffer.byteLength(json) + 1;
    if (bytes + size > maxBytes) {
      truncated = true;
      break;
    }
    bytes += size;
    if (takeBefore) {
      before.push(json);
      b--;
    } else {
      after.push(json);
      a++;
    }
  }
  const lines = [...before.reverse(), anchor, ...after].join(',');
  return `{"lines":[${lines}]${truncated ? ',"truncated":true' : ''}}`;
}
