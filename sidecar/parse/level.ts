// Levels are normalized to six names so one Kibana filter finds the errors of
// every language: trace, debug, info, warn, error, fatal. Unknown names are
// kept in lower case rather than guessed.

const CANONICAL: Record<string, readonly string[]> = {
  trace: ['trace', 'trc', 'finest', 'finer', 'verbose'],
  debug: ['debug', 'dbg', 'fine'],
  info: ['info', 'inf', 'information', 'informational', 'notice'],
  warn: ['warn', 'warning', 'wrn'],
  error: ['error', 'err', 'severe'],
  fatal: ['fatal', 'critical', 'crit', 'panic', 'dpanic', 'emerg', 'emergency', 'alert'],
};

/** Every spelling, in lower and upper case, so the hot path needs no case conversion. */
const WORDS = new Map<string, string>();
for (const [level, words] of Object.entries(CANONICAL)) {
  for (const word of words) {
    WORDS.set(word, level);
    WORDS.set(word.toUpperCase(), level);
  }
}

/** pino and bunyan write levels as numbers. */
const NUMERIC: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** A level taken from a parsed field, in lower case with the usual synonyms folded. */
export function normalizeLevel(value: unknown): string | undefined {
  if (typeof value === 'number') return NUMERIC[value] ?? String(value);
  if (typeof value !== 'string') return undefined;
  const known = WORDS.get(value);
  if (known) return known;
  const lower = value.trim().toLowerCase();
  if (lower === '') return undefined;
  return WORDS.get(lower) ?? lower;
}

const SCAN_CHARS = 200;
const SCAN_WORDS = 8;
const LONGEST_WORD = 13;

function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}
function isUpper(code: number): boolean {
  return code >= 65 && code <= 90;
}
function isLetter(code: number): boolean {
  return isUpper(code) || (code >= 97 && code <= 122);
}
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
/** `[`, `(`, `<`, quotes: marks that say "this word is a field", as in `[error]`. */
function isOpening(code: number): boolean {
  return code === 91 || code === 40 || code === 60 || code === 34 || code === 39;
}
/** What may follow a level word: `]`, `)`, `>`, `:`, `,`, `|`, `[` (logrus `WARN[0000]`), quotes. */
function isClosing(code: number): boolean {
  return (
    code === 93 ||
    code === 41 ||
    code === 62 ||
    code === 58 ||
    code === 44 ||
    code === 124 ||
    code === 91 ||
    code === 34 ||
    code === 39
  );
}

const KEYS = ['level=', 'lvl=', 'severity='];

function keyPrefix(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first !== 108 && first !== 115) return 0;
  for (const key of KEYS) {
    if (text.startsWith(key, at)) return key.length;
  }
  return 0;
}

/** Letters a level word or a `level=` key can start with, in either case: most words fail this test at once. */
const STARTS = new Uint8Array(128);
for (const word of [...WORDS.keys(), ...KEYS]) STARTS[word.charCodeAt(0)] = 1;

/** Index of the next space or tab at or after `from`, or `limit`. */
function nextSpace(text: string, from: number, limit: number, tabs: boolean): number {
  let end = text.indexOf(' ', from);
  if (tabs) {
    const tab = text.indexOf('\t', from);
    if (tab >= 0 && (end < 0 || tab < end)) end = tab;
  }
  return end < 0 || end > limit ? limit : end;
}

function klogLevel(text: string): string | undefined {
  const first = text.charCodeAt(0);
  if (
    (first === 73 || first === 87 || first === 69 || first === 70) &&
    isDigit(text.charCodeAt(1)) &&
    isDigit(text.charCodeAt(2)) &&
    isDigit(text.charCodeAt(3)) &&
    isDigit(text.charCodeAt(4)) &&
    isSpace(text.charCodeAt(5))
  ) {
    return first === 73 ? 'info' : first === 87 ? 'warn' : first === 69 ? 'error' : 'fatal';
  }
  return undefined;
}

/**
 * The level a plain line announces in its first words: `ERROR`, `[warn]`,
 * `info:`, `level=debug`, or klog's `E0102` header. An upper-case word counts
 * anywhere among the first words; a word in another case only when it is
 * marked (bracketed, followed by a colon or a tab, after `level=`), so a message that
 * merely starts with "Error connecting" is not taken as a level unless written `Error:`.
 */
export function detectLevel(text: string): string | undefined {
  const klog = klogLevel(text);
  if (klog) return klog;
  const limit = Math.min(text.length, SCAN_CHARS);
  const tabs = text.lastIndexOf('\t', limit) >= 0;
  let i = 0;
  for (let words = 0; words < SCAN_WORDS && i < limit; words++) {
    while (i < limit && isSpace(text.charCodeAt(i))) i++;
    let marked = false;
    while (i < limit && isOpening(text.charCodeAt(i))) {
      marked = true;
      i++;
    }
    if (STARTS[text.charCodeAt(i)] !== 1) {
      i = nextSpace(text, i, limit, tabs);
      continue;
    }
    const key = keyPrefix(text, i);
    if (key > 0) {
      marked = true;
      i += key;
    }
    const start = i;
    let upper = true;
    while (i < limit && isLetter(text.charCodeAt(i))) {
      if (!isUpper(text.charCodeAt(i))) upper = false;
      i++;
    }
    const length = i - start;
    const next = text.charCodeAt(i);
    const ends = i >= text.length || isSpace(next) || isClosing(next);
    // A tab after the word marks it too: tab-separated output (zap's console encoder) is structured.
    if (length >= 3 && length <= LONGEST_WORD && ends && (upper || marked || next === 9 || isClosing(next))) {
      const word = text.slice(start, i);
      const level = WORDS.get(word) ?? WORDS.get(word.toLowerCase());
      if (level) return level;
    }
    i = nextSpace(text, i, limit, tabs);
  }
  return undefined;
}
