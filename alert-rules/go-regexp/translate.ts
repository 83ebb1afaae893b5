/**
 * Go's regular expression syntax (RE2) written as a JavaScript pattern that
 * matches the same strings. Where the two languages read the same text
 * differently (`.`, `\s`, `^`/`$` under `(?m)`, `(?s)`, `(?U)`, a `(?i)` in the
 * middle of a pattern, escaped punctuation, POSIX classes, octal escapes) the
 * text is rewritten; what Go refuses is refused with Go's own error message.
 * The translation also says how badly a backtracking engine could stumble on
 * the pattern, which Go's linear-time engine never does.
 */

import {
  asciiFoldClosure,
  codePointText,
  complement,
  GO_SPACE,
  MAX_CODE_POINT,
  POSIX_CLASSES,
  rangesText,
} from './char-sets.ts';

/** A pattern Go refuses (or Lookout refuses to run); the message is Go's `error parsing regexp: …` where Go has one. */
export class GoRegexpError extends Error {
  /** The message without Go's `error parsing regexp: ` prefix. */
  readonly detail: string;

  constructor(detail: string, message = `error parsing regexp: ${detail}`) {
    super(message);
    this.name = 'GoRegexpError';
    this.detail = detail;
  }
}

/**
 * - `nested-repetition`: a repeated group that itself repeats, like `(a+)+`:
 *   exponential time on a near miss.
 * - `repeated-alternation`: a repeated group with alternatives, like `(a|ab)*`:
 *   exponential when the alternatives overlap.
 */
export type BacktrackingRisk = 'none' | 'repeated-alternation' | 'nested-repetition';

export interface GoTranslation {
  /** JavaScript pattern source, for the `u` flag. */
  source: string;
  /** Group names by capture index (index 0 is the whole match); undefined for unnamed groups. */
  captureNames: (string | undefined)[];
  backtracking: BacktrackingRisk;
}

/** Go refuses counted repetitions above this. */
const MAX_REPEAT = 1000;
/** Go reads longer counts as out of range rather than as numbers. */
const MAX_COUNT_DIGITS = 8;

const CONTROL_ESCAPES: Record<string, number> = { a: 0x07, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

/** A count in `{n,m}`: undefined where Go reads the brace as literal text (a leading zero), -1 where it is out of range. */
function repeatCount(digits: string): number | undefined {
  if (digits.length > 1 && digits.startsWith('0')) return undefined;
  return digits.length > MAX_COUNT_DIGITS ? -1 : Number(digits);
}

function quantifier(min: number, max: number): string {
  if (max === Infinity) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  if (min === 0 && max === 1) return '?';
  return max === min ? `{${min}}` : `{${min},${max}}`;
}

function isAsciiAlnum(char: string): boolean {
  return /^[0-9A-Za-z]$/.test(char);
}

interface Flags {
  /** i: case-insensitive. */
  foldCase: boolean;
  /** m: `^` and `$` match at line breaks. */
  multiLine: boolean;
  /** s: `.` matches `\n`. */
  dotNewline: boolean;
  /** U: repetitions are lazy unless marked with `?`. */
  ungreedy: boolean;
}

const DEFAULT_FLAGS: Flags = { foldCase: false, multiLine: false, dotNewline: false, ungreedy: false };

interface Group {
  /** Where the group's text starts in the output. */
  start: number;
  /** Flags to restore when the group closes. */
  outerFlags: Flags;
  /** Modifier groups opened by a `(?i)` inside this group: closed with it, and around each `|`, as Go's flags hold across it. */
  modifierGroups: string[];
  /** Whether JavaScript's case folding is on where this group's text is written. */
  jsFoldCase: boolean;
  /** Something inside repeats more than once. */
  repeats: boolean;
  /** Something inside has alternatives. */
  alternates: boolean;
}

interface Atom {
  /** Where the atom's text is in the output: a `(?i)` after it may have added text behind it. */
  start: number;
  end: number;
  /** JavaScript cannot repeat it as it is (an assertion, a repetition). */
  wrap: boolean;
  repeats: boolean;
  alternates: boolean;
}

class Translator {
  private readonly chars: string[];
  private readonly pattern: string;
  private pos = 0;
  private out = '';
  private flags: Flags = DEFAULT_FLAGS;
  private readonly groups: Group[];
  private readonly captureNames: (string | undefined)[] = [undefined];
  private backtracking: BacktrackingRisk = 'none';
  /** What a repetition operator would apply to; undefined where Go sees nothing to repeat. */
  private lastAtom: Atom | undefined;
  /** Where the repetition operator just before starts: Go refuses to stack them. */
  private lastRepeatStart: number | undefined;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.chars = [...pattern];
    this.groups = [this.newGroup(false)];
  }

  translate(): GoTranslation {
    while (this.pos < this.chars.length) {
      const repeatStart = this.pos;
      const repeated = this.step();
      this.lastRepeatStart = repeated ? repeatStart : undefined;
    }
    if (this.groups.length > 1) this.fail('missing closing )', this.pattern);
    this.out += ')'.repeat(this.groups[0]!.modifierGroups.length);
    return { source: this.out, captureNames: this.captureNames, backtracking: this.backtracking };
  }

  private fail(code: string, fragment: string): never {
    throw new GoRegexpError(`${code}: \`${fragment}\``);
  }

  private text(from: number, to = this.pos): string {
    return this.chars.slice(from, to).join('');
  }

  private rest(): string {
    return this.text(this.pos, this.chars.length);
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.pos + offset];
  }

  private get group(): Group {
    return this.groups.at(-1)!;
  }

  private newGroup(jsFoldCase: boolean): Group {
    return {
      start: this.out.length,
      outerFlags: this.flags,
      modifierGroups: [],
      jsFoldCase,
      repeats: false,
      alternates: false,
    };
  }

  private atom(text: string, assertion = false): void {
    const start = this.out.length;
    this.out += text;
    this.lastAtom = { start, end: this.out.length, wrap: assertion, repeats: false, alternates: false };
  }

  private literal(cp: number): string {
    // Inside a (?i:…) modifier group V8 misses the case equivalents of a lone ſ, K (Kelvin) or Å (angstrom); in a class it finds them.
    return this.flags.foldCase && cp >= 0x80 ? `[${codePointText(cp, true)}]` : codePointText(cp, false);
  }

  /** Translates one token; says whether it was a repetition operator. */
  private step(): boolean {
    const start = this.pos;
    const char = this.chars[this.pos++]!;
    switch (char) {
      case '\\':
        this.escape();
        return false;
      case '[':
        this.atom(this.charClass(start));
        return false;
      case '(':
        this.openGroup(start);
        return false;
      case ')':
        this.closeGroup();
        return false;
      case '|': {
        const group = this.group;
        group.alternates = true;
        this.lastAtom = undefined;
        this.out += `${')'.repeat(group.modifierGroups.length)}|${group.modifierGroups.join('')}`;
        return false;
      }
      case '^':
        this.atom(this.flags.multiLine ? '(?<![^\\n])' : '^', true);
        return false;
      case '$':
        this.atom(this.flags.multiLine ? '(?![^\\n])' : '$', true);
        return false;
      case '.':
        this.atom(this.flags.dotNewline ? '[\\s\\S]' : '[^\\n]');
        return false;
      case '*':
        return this.repeat(start, 0, Infinity);
      case '+':
        return this.repeat(start, 1, Infinity);
      case '?':
        return this.repeat(start, 0, 1);
      case '{':
        return this.countedRepeat(start);
      default:
        this.atom(this.literal(char.codePointAt(0)!));
        return false;
    }
  }

  /** `{n}`, `{n,}`, `{n,m}`; any other `{` is a literal brace in Go. */
  private countedRepeat(start: number): boolean {
    const match = /^(\d+)(,(\d*))?\}/.exec(this.rest());
    const min = match ? repeatCount(match[1]!) : undefined;
    const max = !match || match[2] === undefined ? min : match[3] === '' ? Infinity : repeatCount(match[3]!);
    if (min === undefined || max === undefined) {
      this.atom('\\{');
      return false;
    }
    this.pos += match![0].length;
    if (min < 0 || max < 0 || min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT) || max < min)
      this.fail('invalid repeat count', this.text(start));
    return this.repeat(start, min, max);
  }

  private repeat(start: number, min: number, max: number): boolean {
    const lazyMark = this.peek() === '?';
    if (lazyMark) this.pos++;
    if (this.lastRepeatStart !== undefined)
      this.fail('invalid nested repetition operator', this.text(this.lastRepeatStart));
    const atom = this.lastAtom;
    if (!atom) this.fail('missing argument to repetition operator', this.text(start));
    const text = this.out.slice(atom.start, atom.end);
    let repeated = `${atom.wrap ? `(?:${text})` : text}${quantifier(min, max)}`;
    if (lazyMark !== this.flags.ungreedy) repeated += '?';
    // What follows the atom can only be modifier groups that a `(?i)` opened; Go repeats the atom without them.
    this.out = `${this.out.slice(0, atom.start)}${repeated}${this.out.slice(atom.end)}`;
    if (max > 1) {
      if (atom.repeats) this.backtracking = 'nested-repetition';
      else if (atom.alternates && this.backtracking === 'none') this.backtracking = 'repeated-alternation';
      this.group.repeats = true;
    }
    // Go repeats a repetition again when a `(?flags)` stands between the operators.
    this.lastAtom = {
      start: atom.start,
      end: atom.start + repeated.length,
      wrap: true,
      repeats: atom.repeats || max > 1,
      alternates: atom.alternates,
    };
    return true;
  }

  private openGroup(start: number): void {
    if (this.peek() !== '?') {
      this.captureNames.push(undefined);
      this.pushGroup('(', this.flags);
      return;
    }
    const rest = this.rest();
    if ((rest.length > 3 && rest.startsWith('?P<')) || (rest.length > 2 && rest.startsWith('?<'))) {
      const end = this.chars.indexOf('>', this.pos);
      if (end < 0) this.fail('invalid named capture', this.text(start, this.chars.length));
      const name = this.text(this.pos + (rest.startsWith('?P') ? 3 : 2), end);
      this.pos = end + 1;
      if (!/^[0-9A-Za-z_]+$/.test(name)) this.fail('invalid named capture', this.text(start));
      this.captureNames.push(name);
      this.pushGroup('(', this.flags);
      return;
    }
    this.pos++;
    const flags = { ...this.flags };
    let negated = false;
    let sawFlag = false;
    while (this.pos < this.chars.length) {
      const char = this.chars[this.pos++]!;
      const on = !negated;
      if (char === 'i') flags.foldCase = on;
      else if (char === 'm') flags.multiLine = on;
      else if (char === 's') flags.dotNewline = on;
      else if (char === 'U') flags.ungreedy = on;
      else if (char === '-' && !negated) {
        negated = true;
        sawFlag = false;
        continue;
      } else if ((char === ':' || char === ')') && !(negated && !sawFlag)) {
        if (char === ':') this.pushGroup('(?:', flags);
        else this.setFlags(flags);
        return;
      } else break;
      sawFlag = true;
    }
    this.fail('invalid or unsupported Perl syntax', this.text(start));
  }

  /** Case folding is JavaScript's modifier group; the other flags change how the text is written. */
  private foldCaseModifier(foldCase: boolean): string {
    return foldCase ? '(?i:' : '(?-i:';
  }

  private pushGroup(open: string, flags: Flags): void {
    const jsFoldCase = this.jsFoldCase();
    const group = this.newGroup(flags.foldCase);
    this.groups.push(group);
    this.flags = flags;
    this.out += open;
    if (flags.foldCase !== jsFoldCase) {
      this.out += this.foldCaseModifier(flags.foldCase);
      group.modifierGroups.push(this.foldCaseModifier(flags.foldCase));
    }
    this.lastAtom = undefined;
  }

  private jsFoldCase(): boolean {
    const group = this.group;
    const modifier = group.modifierGroups.at(-1);
    return modifier === undefined ? group.jsFoldCase : modifier === '(?i:';
  }

  /** `(?flags)`: holds to the end of the enclosing group. */
  private setFlags(flags: Flags): void {
    if (flags.foldCase !== this.jsFoldCase()) {
      const modifier = this.foldCaseModifier(flags.foldCase);
      this.out += modifier;
      this.group.modifierGroups.push(modifier);
    }
    this.flags = flags;
  }

  private closeGroup(): void {
    if (this.groups.length === 1) this.fail('unexpected )', this.pattern);
    const group = this.groups.pop()!;
    this.out += `${')'.repeat(group.modifierGroups.length)})`;
    this.flags = group.outerFlags;
    this.group.repeats ||= group.repeats;
    this.group.alternates ||= group.alternates;
    this.lastAtom = {
      start: group.start,
      end: this.out.length,
      wrap: false,
      repeats: group.repeats,
      alternates: group.alternates,
    };
  }

  /** After a backslash, outside a class. */
  private escape(): void {
    const start = this.pos - 1;
    switch (this.peek()) {
      case 'A':
        this.pos++;
        this.atom('^', true);
        return;
      case 'z':
        this.pos++;
        this.atom('$', true);
        return;
      case 'b':
      case 'B': {
        const boundary = `\\${this.chars[this.pos++]}`;
        // Go's word boundary is ASCII even under (?i); JavaScript's then counts ſ and K (Kelvin) as word characters.
        this.atom(this.flags.foldCase ? `(?-i:${boundary})` : boundary, true);
        return;
      }
      case 'Q': {
        this.pos++;
        let end = this.pos;
        while (end < this.chars.length && !(this.chars[end] === '\\' && this.chars[end + 1] === 'E')) end++;
        for (const char of this.chars.slice(this.pos, end)) this.atom(this.literal(char.codePointAt(0)!));
        this.pos = Math.min(end + 2, this.chars.length);
        return;
      }
    }
    if (this.peek() === 'p' || this.peek() === 'P') {
      const { property, negated } = this.unicodeClass(start, this.chars[this.pos++] === 'P');
      const content = property === undefined ? rangesText([[0, MAX_CODE_POINT]]) : `\\p{${property}}`;
      // Go negates after case folding, as a negated JavaScript class does (JavaScript's \P folds after negating).
      this.atom(negated ? `[^${content}]` : `[${content}]`);
      return;
    }
    const set = this.classEscape(start);
    if (set !== undefined) this.atom(`[${set}]`);
    else this.atom(this.literal(this.escapedChar(start)));
  }

  /** `\d`, `\s`, `\pL`, … as the content of a JavaScript class; undefined for other escapes. */
  private classEscape(start: number): string | undefined {
    const char = this.peek();
    switch (char) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.pos++;
        return `\\${char}`;
      case 's':
        this.pos++;
        return rangesText(GO_SPACE);
      case 'S':
        this.pos++;
        return rangesText(complement(GO_SPACE));
      case 'p':
      case 'P': {
        this.pos++;
        const { property, negated } = this.unicodeClass(start, char === 'P');
        if (property === undefined) return negated ? '' : rangesText([[0, MAX_CODE_POINT]]);
        return `${negated ? '\\P' : '\\p'}{${property}}`;
      }
    }
    return undefined;
  }

  /** `\pL`, `\p{Greek}`, `\P{^Lu}`: the JavaScript property (undefined for Go's `Any`) and whether it is negated. */
  private unicodeClass(start: number, negated: boolean): { property: string | undefined; negated: boolean } {
    let name: string;
    if (this.peek() === '{') {
      const close = this.chars.indexOf('}', this.pos);
      if (close < 0) this.fail('invalid character class range', this.text(start, this.chars.length));
      name = this.text(this.pos + 1, close);
      this.pos = close + 1;
    } else {
      name = this.chars[this.pos++] ?? '';
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (name === 'Any') return { property: undefined, negated };
    // Go knows general categories (`L`, `Lu`) and scripts by their long names (`Greek`), nothing else JavaScript knows.
    const property = /^[A-Z][a-z]?$/.test(name)
      ? name
      : /^[A-Z][A-Za-z]*(?:_[A-Z][A-Za-z]*)*$/.test(name)
        ? `Script=${name}`
        : undefined;
    if (property !== undefined) {
      try {
        new RegExp(`\\p{${property}}`, 'u');
        return { property, negated };
      } catch {
        // Not a name JavaScript knows either: refused below.
      }
    }
    return this.fail('invalid character class range', this.text(start));
  }

  /** An escape that stands for one character (`\n`, `\x41`, `\101`, `\.`): its code point. */
  private escapedChar(start: number): number {
    const char = this.chars[this.pos++];
    if (char === undefined) throw new GoRegexpError('trailing backslash at end of expression: ``');
    const invalid = (): never => this.fail('invalid escape sequence', this.text(start));
    if (char.codePointAt(0)! < 0x80 && !isAsciiAlnum(char)) return char.codePointAt(0)!;
    const control = CONTROL_ESCAPES[char];
    if (control !== undefined) return control;
    if (/^[0-7]$/.test(char)) {
      // A lone `\1` … `\7` would be a backreference, which Go does not have.
      if (char !== '0' && !/^[0-7]$/.test(this.peek() ?? '')) invalid();
      let digits = char;
      while (digits.length < 3 && /^[0-7]$/.test(this.peek() ?? '')) digits += this.chars[this.pos++];
      return Number.parseInt(digits, 8);
    }
    if (char === 'x') return this.hexEscape(invalid);
    return invalid();
  }

  private hexEscape(invalid: () => never): number {
    const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);
    if (this.peek() !== '{') {
      const digits = [this.chars[this.pos++], this.chars[this.pos++]];
      if (!digits.every(isHex)) invalid();
      return Number.parseInt(digits.join(''), 16);
    }
    this.pos++;
    let value = 0;
    let digits = 0;
    for (;;) {
      const c = this.chars[this.pos++];
      if (c === '}' && digits > 0) return value;
      if (!isHex(c)) invalid();
      value = value * 16 + Number.parseInt(c!, 16);
      digits++;
      if (value > MAX_CODE_POINT) invalid();
    }
  }

  /** After `[`: Go's class syntax (a leading `]` is literal, POSIX names, ranges checked) written as a JavaScript class. */
  private charClass(start: number): string {
    let out = '[';
    if (this.peek() === '^') {
      this.pos++;
      out += '^';
    }
    for (let first = true; first || this.peek() !== ']'; first = false) {
      if (this.pos >= this.chars.length) this.fail('missing closing ]', this.text(start, this.chars.length));
      const posix = /^\[:(\^?)([\s\S]*?):\]/.exec(this.rest());
      if (posix) {
        const ranges = POSIX_CLASSES[posix[2]!];
        if (!ranges) this.fail('invalid character class range', posix[0]);
        this.pos += [...posix[0]].length;
        // Go negates after case folding.
        out += rangesText(
          posix[1] ? complement(this.flags.foldCase ? asciiFoldClosure(ranges) : ranges) : ranges,
        );
        continue;
      }
      const itemStart = this.pos;
      if (this.peek() === '\\') {
        this.pos++;
        const set = this.classEscape(itemStart);
        if (set !== undefined) {
          out += set;
          continue;
        }
        this.pos = itemStart;
      }
      const lo = this.classChar(start);
      let hi = lo;
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        hi = this.classChar(start);
        if (hi < lo) this.fail('invalid character class range', this.text(itemStart));
      }
      out += rangesText([[lo, hi]]);
    }
    this.pos++;
    return `${out}]`;
  }

  private classChar(classStart: number): number {
    const char = this.chars[this.pos];
    if (char === undefined) this.fail('missing closing ]', this.text(classStart, this.chars.length));
    this.pos++;
    return char === '\\' ? this.escapedChar(this.pos - 1) : char.codePointAt(0)!;
  }
}

/** Translates a Go regular expression; throws GoRegexpError with Go's message for what Go refuses. */
export function translateGoRegexp(pattern: string): GoTranslation {
  return new Translator(pattern).translate();
}
