// JSON text is measured before it is parsed: a line nested 100,000 levels deep
// parses, but every walk over the result (a check, an index, a serialiser) then
// recurses that deep. These scans read bytes only; in UTF-8 no byte of a
// multi-byte character equals an ASCII bracket, quote or backslash.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Whether JSON text nests objects and arrays more than `limit` deep
 * (`{"a":[1]}` is 2 deep). Text with no more than `limit` brackets in all
 * cannot, and most records are told so by two native searches.
 */
export function nestedDeeperThan(text: Buffer, limit: number): boolean {
  if (countUpTo(text, OPEN_OBJECT, limit + 1) + countUpTo(text, OPEN_ARRAY, limit + 1) <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i]!;
    if (byte === QUOTE) i = stringEnd(text, i);
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) depth--;
  }
  return false;
}

/**
 * The text with every object or array deeper than `limit` replaced by
 * `null`, so it parses into something no deeper than `limit`. Valid JSON
 * stays valid; invalid JSON stays invalid.
 */
export function pruneDeeperThan(text: Buffer, limit: number): Buffer {
  const kept: Buffer[] = [];
  let from = 0;
  let depth = 0;
  let cutAt = -1;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i]!;
    if (byte === QUOTE) i = stringEnd(text, i);
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth === limit + 1) cutAt = i;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth-- === limit + 1 && cutAt >= 0) {
        kept.push(text.subarray(from, cutAt), NULL);
        from = i + 1;
        cutAt = -1;
      }
    }
  }
  // An unclosed container is left as it was: the parser then says what is wrong with it.
  kept.push(text.subarray(from));
  return Buffer.concat(kept);
}

const NULL = Buffer.from('null');

/** The index of the quote that closes the string opening at `start` (or the last index, if none does). */
function stringEnd(text: Buffer, start: number): number {
  for (let at = text.indexOf(QUOTE, start + 1); at >= 0; at = text.indexOf(QUOTE, at + 1)) {
    // A quote after an odd run of backslashes is escaped.
    let slashes = 0;
    while (text[at - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
  return text.length - 1;
}

function countUpTo(text: Buffer, byte: number, most: number): number {
  let count = 0;
  for (let at = text.indexOf(byte); at >= 0 && count < most; at = text.indexOf(byte, at + 1)) count++;
  return count;
}
