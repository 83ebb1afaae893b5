// JSON text is measured before it is parsed: a line nested 100,000 levels deep
// parses, but every walk over the result (a check, an index, JSON.stringify)
// then recurses that deep and overflows the stack. The scans read UTF-16 code
// units, none of which equals an ASCII bracket, quote or colon unless it is one.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

export interface JsonLimits {
  /** Objects and arrays inside one another; `{"a":[1]}` is 2 deep. */
  maxDepth: number;
  /** Keys in the whole text, at every level; not counted when absent. */
  maxFields?: number;
}

/**
 * Why JSON text is beyond the limits, or undefined when it is within them.
 * One pass over the characters, jumping over strings, before JSON.parse
 * builds anything. Counts `:` outside strings as keys, which is exact for
 * valid JSON; invalid JSON fails in JSON.parse afterwards.
 */
export function jsonBeyondLimits(text: string, limits: JsonLimits): string | undefined {
  // Most texts have too few brackets and colons to be beyond, even counting those in strings:
  // indexOf tells that in a third of the time the exact scan takes.
  const { maxDepth, maxFields = Number.POSITIVE_INFINITY } = limits;
  const opens = occurrences(text, '{', maxDepth) + occurrences(text, '[', maxDepth);
  if (
    opens <= maxDepth &&
    (maxFields === Number.POSITIVE_INFINITY || occurrences(text, ':', maxFields) <= maxFields)
  )
    return undefined;
  let depth = 0;
  let fields = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return `nested deeper than ${maxDepth} levels`;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    else if (c === COLON && ++fields > maxFields) return `more than ${maxFields} fields`;
  }
  return undefined;
}

/**
 * The text with every object or array deeper than `limit` replaced by
 * `null`, so it parses into something no deeper than `limit`. Valid JSON
 * stays valid; invalid JSON stays invalid.
 */
export function pruneDeeperThan(text: string, limit: number): string {
  const kept: string[] = [];
  let from = 0;
  let depth = 0;
  let cutAt = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth === limit + 1) cutAt = i;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth-- === limit + 1 && cutAt >= 0) {
        kept.push(text.slice(from, cutAt), 'null');
        from = i + 1;
        cutAt = -1;
      }
    }
  }
  // An unclosed container is left as it was: the parser then says what is wrong with it.
  kept.push(text.slice(from));
  return kept.join('');
}

/** How often `char` occurs in `text`, counting no further than one past `limit`. */
function occurrences(text: string, char: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0 && count <= limit; at = text.indexOf(char, at + 1)) count++;
  return count;
}

/** The index of the quote that closes the string opening at `start` (or the text's length, if none does). */
function stringEnd(text: string, start: number): number {
  for (let at = text.indexOf('"', start + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    // A quote after an odd run of backslashes is escaped.
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
  return text.length;
}
