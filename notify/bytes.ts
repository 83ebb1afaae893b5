/**
 * How a robot counts the size of a text: `utf8` is the bytes of the text
 * itself (WeCom's content limits); `json` is the bytes it takes inside a
 * JSON string, escapes included (DingTalk limits the whole request body).
 */
export type Encoding = 'utf8' | 'json';

export function byteLength(text: string, encoding: Encoding): number {
  return encoding === 'utf8' ? Buffer.byteLength(text, 'utf8') : Buffer.byteLength(JSON.stringify(text)) - 2;
}

const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x22, 0x5c]);

/** Bytes one code point takes; a lone surrogate is written as U+FFFD in UTF-8 and as \uXXXX in JSON. */
function codePointBytes(cp: number, encoding: Encoding): number {
  const surrogate = cp >= 0xd800 && cp <= 0xdfff;
  if (encoding === 'json') {
    if (SHORT_ESCAPES.has(cp)) return 2;
    if (cp < 0x20 || surrogate) return 6;
  }
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  return cp < 0x10000 ? 3 : 4;
}

/** The longest prefix of `text` that ends on a character boundary and takes at most `budget` bytes. */
export function prefixWithin(text: string, budget: number, encoding: Encoding): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += codePointBytes(char.codePointAt(0)!, encoding);
    if (used > budget) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** Says how much was cut, so a reader knows the message is incomplete. */
export type TruncationMarker = (cutBytes: number) => string;

export const englishMarker: TruncationMarker = (cut) => `… (truncated, ${cut} more bytes)`;

/**
 * Fits `text` into `limit` bytes, cutting on a character boundary and ending
 * with the marker. The cut size is counted in UTF-8 bytes of the original
 * text. Below the marker's own size the text is cut without it.
 */
export function truncate(text: string, limit: number, encoding: Encoding, marker = englishMarker): string {
  if (byteLength(text, encoding) <= limit) return text;
  const total = Buffer.byteLength(text, 'utf8');
  let cut = total;
  let result = '';
  // The marker shrinks as the kept part grows (fewer digits), so a second pass can use the bytes it freed.
  for (let pass = 0; pass < 2; pass++) {
    const room = limit - byteLength(marker(cut), encoding);
    if (room < 0) return prefixWithin(text, limit, encoding);
    const kept = prefixWithin(text, room, encoding);
    cut = total - Buffer.byteLength(kept, 'utf8');
    result = kept + marker(cut);
  }
  return result;
}

/**
 * Cuts `text` into pieces of at most `limit` bytes, preferring to break after
 * a newline in the second half of a piece. With more than `maxParts` pieces
 * the last one is truncated with the marker.
 */
export function split(
  text: string,
  limit: number,
  encoding: Encoding,
  maxParts: number,
  marker = englishMarker,
): string[] {
  if (limit < 6) throw new RangeError(`cannot split into pieces of ${limit} bytes`);
  const parts: string[] = [];
  let rest = text;
  while (rest !== '') {
    if (parts.length === maxParts - 1 || byteLength(rest, encoding) <= limit) {
      parts.push(truncate(rest, limit, encoding, marker));
      break;
    }
    let head = prefixWithin(rest, limit, encoding);
    const newline = head.lastIndexOf('\n');
    if (newline >= head.length / 2) head = head.slice(0, newline + 1);
    parts.push(head);
    rest = rest.slice(head.length);
  }
  return parts;
}
