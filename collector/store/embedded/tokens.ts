import { hash } from 'node:crypto';

/**
 * Words of a message as Elasticsearch's standard analyzer finds them: the
 * word boundaries of Unicode UAX #29, lower-cased. So `example.com`,
 * `user_id` and `3.14` stay one word, `foo-bar` is two, and Han and Hiragana
 * characters are one word each (which is how a CJK word becomes a phrase of
 * its characters), and an emoji (with its modifiers, joined sequences, flags
 * and keycaps) is a word of its own. The embedded store indexes these words
 * separated by spaces, so SQLite's own tokenizer only ever splits on the
 * spaces.
 */

// Character classes of the UAX #29 word-break rules that matter here.
const OTHER = 0;
const LETTER = 1;
const NUMERIC = 2;
const KATAKANA = 3;
const EXTEND_NUM_LET = 4;
const MID_LETTER = 5;
const MID_NUM_LET = 6;
const MID_NUM = 7;
/** Combining marks, format characters and the second half of a surrogate pair: part of the character before. */
const EXTEND = 8;
/** Han and Hiragana: every character is a word of its own. */
const SINGLE = 9;
/** Extended pictographic: a word with what joins it (variation selectors, skin tones, ZWJ and the next emoji). */
const EMOJI = 10;
/** Two regional indicators make one flag. */
const REGIONAL = 11;

const ZWJ = 0x200d;
const VARIATION_EMOJI = 0xfe0f;
const COMBINING_KEYCAP = 0x20e3;

/** `#`, `*` or a digit, then U+20E3 (after a variation selector or not), is a keycap emoji: its length, else 0. */
function keycapLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (!((c >= 0x30 && c <= 0x39) || c === 0x23 || c === 0x2a)) return 0;
  let at = i + 1;
  if (text.charCodeAt(at) === VARIATION_EMOJI) at++;
  return text.charCodeAt(at) === COMBINING_KEYCAP ? at + 1 - i : 0;
}

/** The standard tokenizer cuts longer words into pieces of this many UTF-16 units. */
const MAX_TOKEN_LENGTH = 255;

const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-zA-Z]/.test(ch)) ASCII[c] = LETTER;
  else if (/[0-9]/.test(ch)) ASCII[c] = NUMERIC;
}
ASCII[0x5f] = EXTEND_NUM_LET; // _
ASCII[0x3a] = MID_LETTER; // :
ASCII[0x2e] = MID_NUM_LET; // .
ASCII[0x27] = MID_NUM_LET; // '
ASCII[0x2c] = MID_NUM; // ,
ASCII[0x3b] = MID_NUM; // ;

const CLASSES: [RegExp, number][] = [
  [/[\p{M}\p{Cf}\p{Emoji_Modifier}]/u, EXTEND],
  [/\p{Extended_Pictographic}/u, EMOJI],
  [/\p{Regional_Indicator}/u, REGIONAL],
  [/[\p{Script=Han}\p{Script=Hiragana}]/u, SINGLE],
  [/[\p{Script=Katakana}\u3031-\u3035\u309b\u309c\u30a0\u30fc\uff70]/u, KATAKANA],
  [/[\p{L}\p{Nl}]/u, LETTER],
  [/\p{Nd}/u, NUMERIC],
  [/\p{Pc}/u, EXTEND_NUM_LET],
  [/[\u00b7\u0387\u055f\u05f4\u2027\ufe13\ufe55\uff1a]/u, MID_LETTER],
  [/[\u2018\u2019\u2024\ufe52\uff07\uff0e]/u, MID_NUM_LET],
  [/[\u037e\u0589\u060c\u060d\u066c\u07f8\u2044\ufe10\ufe14\ufe50\ufe54\uff0c\uff1b]/u, MID_NUM],
];

/** Non-ASCII characters are rare in logs and seen again and again: their class is remembered. */
const seen = new Map<number, number>();

function classify(cp: number): number {
  if (cp < 128) return ASCII[cp]!;
  let found = seen.get(cp);
  if (found === undefined) {
    const ch = String.fromCodePoint(cp);
    found = CLASSES.find(([re]) => re.test(ch))?.[1] ?? OTHER;
    if (seen.size < 65_536) seen.set(cp, found);
  }
  return found;
}

const isWordPart = (c: number) => c === LETTER || c === NUMERIC || c === KATAKANA || c === EXTEND_NUM_LET;

/** Rules WB5, WB8–WB10, WB13–WB13b: the pairs that never break. */
function joins(left: number, right: number): boolean {
  if (right === EXTEND_NUM_LET) return isWordPart(left);
  if (left === EXTEND_NUM_LET) return right === LETTER || right === NUMERIC || right === KATAKANA;
  if (left === KATAKANA || right === KATAKANA) return left === right;
  return (left === LETTER || left === NUMERIC) && (right === LETTER || right === NUMERIC);
}

/** Rules WB6/7 and WB11/12: `a.b`, `a:b`, `1,000`, `3.14` hold together across one middle character. */
function joinsAcross(left: number, middle: number, right: number): boolean {
  if (left === LETTER && right === LETTER) return middle === MID_LETTER || middle === MID_NUM_LET;
  if (left === NUMERIC && right === NUMERIC) return middle === MID_NUM || middle === MID_NUM_LET;
  return false;
}

/** The words of a text, lower-cased, in order. */
export function tokenize(text: string): string[] {
  const n = text.length;
  // Classes by UTF-16 index; the second half of a surrogate pair rides along as EXTEND.
  const classes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cp = text.codePointAt(i)!;
    classes[i] = classify(cp);
    if (cp > 0xffff) classes[++i] = EXTEND;
  }
  const skipExtend = (i: number) => {
    while (i < n && classes[i] === EXTEND) i++;
    return i;
  };
  const tokens: string[] = [];
  let i = 0;
  while (i < n) {
    const first = classes[i]!;
    const keycap = keycapLength(text, i);
    if (keycap > 0) {
      push(tokens, text.slice(i, i + keycap));
      i += keycap;
      continue;
    }
    if (first === EMOJI || first === REGIONAL) {
      let end = skipExtend(i + 1);
      if (first === REGIONAL && classes[end] === REGIONAL) end = skipExtend(end + 1);
      // WB3c: a zero-width joiner binds the next pictograph into the same emoji.
      while (first === EMOJI && end < n && text.charCodeAt(end - 1) === ZWJ && classes[end] === EMOJI)
        end = skipExtend(end + 1);
      push(tokens, text.slice(i, end));
      i = end;
      continue;
    }
    if (first === SINGLE) {
      const end = skipExtend(i + 1);
      push(tokens, text.slice(i, end));
      i = end;
      continue;
    }
    if (!isWordPart(first)) {
      i++;
      continue;
    }
    const start = i;
    let last = first;
    let hasWordChar = first !== EXTEND_NUM_LET;
    let end = skipExtend(i + 1);
    while (end < n) {
      const next = classes[end]!;
      if (joins(last, next)) {
        last = next;
        if (next !== EXTEND_NUM_LET) hasWordChar = true;
        end = skipExtend(end + 1);
        continue;
      }
      const after = skipExtend(end + 1);
      if (after < n && joinsAcross(last, next, classes[after]!)) {
        last = classes[after]!;
        end = skipExtend(after + 1);
        continue;
      }
      break;
    }
    // A run of underscores alone is not a word.
    if (hasWordChar) push(tokens, text.slice(start, end));
    i = end;
  }
  return tokens;
}

function push(tokens: string[], word: string): void {
  const lower = word.toLowerCase();
  if (lower.length <= MAX_TOKEN_LENGTH) {
    tokens.push(lower);
    return;
  }
  for (let at = 0; at < lower.length; at += MAX_TOKEN_LENGTH)
    tokens.push(lower.slice(at, at + MAX_TOKEN_LENGTH));
}

/** Keyword words of recent field values: namespaces, pods and levels repeat, so most hashing is skipped. */
const keywordCache = new Map<string, string>();
const CACHED_KEY_LENGTH = 256;

/**
 * The index word for "field has this value": a hash, so any value (spaces,
 * quotes, any length) is one opaque word that SQLite's tokenizer leaves
 * whole, and the match is exact and case-sensitive as a keyword field is.
 * 96 bits make an accidental or contrived collision out of reach.
 */
export function keywordToken(field: string, value: string): string {
  const key = `${field}\u0000${value}`;
  let token = keywordCache.get(key);
  if (token === undefined) {
    token = `k${hash('sha256', key, 'hex').slice(0, 24)}`;
    if (key.length <= CACHED_KEY_LENGTH) {
      if (keywordCache.size >= 50_000) keywordCache.clear();
      keywordCache.set(key, token);
    }
  }
  return token;
}

/** The index word every line has, for queries that only exclude. */
export const ALL_TOKEN = 'all';
