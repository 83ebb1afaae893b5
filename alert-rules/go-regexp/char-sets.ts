/**
 * Characters and character sets as JavaScript pattern text (unicode mode),
 * and the sets Go names: `\s`, POSIX classes.
 */

export const MAX_CODE_POINT = 0x10ffff;

export type Ranges = readonly (readonly [number, number])[];

export const GO_SPACE: Ranges = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];

export const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/** Characters with a meaning in JavaScript patterns (unicode mode), outside a class. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
/** Characters that need an escape inside a JavaScript class. */
const JS_CLASS_SYNTAX = new Set('\\]-[^');

export function complement(ranges: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function toRanges(codePoints: Iterable<number>): Ranges {
  const out: [number, number][] = [];
  for (const cp of [...codePoints].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && cp <= last[1] + 1) last[1] = Math.max(last[1], cp);
    else out.push([cp, cp]);
  }
  return out;
}

/** An ASCII class with the letters of the other case, and ſ and K (Kelvin), which fold to s and k. */
export function asciiFoldClosure(ranges: Ranges): Ranges {
  const codePoints = new Set<number>();
  for (const [lo, hi] of ranges) {
    for (let cp = lo; cp <= hi; cp++) {
      const char = String.fromCodePoint(cp);
      codePoints.add(cp).add(char.toLowerCase().codePointAt(0)!).add(char.toUpperCase().codePointAt(0)!);
    }
  }
  if (codePoints.has(0x73)) codePoints.add(0x17f);
  if (codePoints.has(0x6b)) codePoints.add(0x212a);
  return toRanges(codePoints);
}

export function codePointText(cp: number, inClass: boolean): string {
  const char = String.fromCodePoint(cp);
  if ((inClass ? JS_CLASS_SYNTAX : JS_SYNTAX).has(char)) return `\\${char}`;
  return cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff) ? `\\u{${cp.toString(16)}}` : char;
}

export function rangesText(ranges: Ranges): string {
  return ranges
    .map(([lo, hi]) =>
      lo === hi ? codePointText(lo, true) : `${codePointText(lo, true)}-${codePointText(hi, true)}`,
    )
    .join('');
}
