/**
 * Go's regular expressions (RE2 syntax), as Alertmanager matchers use them,
 * turned into JavaScript expressions that match the same strings. Where the
 * two languages read the same text differently (`\s`, `(?i)` in the middle of
 * a pattern, `\z`, escaped punctuation, POSIX classes) the text is rewritten;
 * what RE2 refuses (backreferences, lookarounds) is refused here too; and
 * what only a backtracking engine makes slow (a repeated group that itself
 * repeats, like `(a+)+`) is refused, because JavaScript would hang on it
 * where Go runs in linear time.
 */

export class Re2Error extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'Re2Error';
  }
}

/** Go refuses counted repetitions above this. */
const MAX_REPEAT = 1000;

const GO_SPACE = '\\t\\n\\f\\r ';
/** Everything but Go's `\s`, written as class ranges. */
const GO_NOT_SPACE = '\\0-\\x08\\x0B\\x0E-\\x1F!-\\u{10FFFF}';

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\0-\\x7F',
  blank: '\\t ',
  cntrl: '\\0-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Characters with a meaning in JavaScript patterns (unicode mode), outside a class. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
/** Characters that need an escape inside a JavaScript class. */
const JS_CLASS_SYNTAX = new Set('\\]-[^');

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\\x07',
  f: '\\f',
  n: '\\n',
  r: '\\r',
  t: '\\t',
  v: '\\v',
};

interface Group {
  /** Modifier groups opened by `(?i)` inside this group, closed with it (and around each `|`, as Go's flags hold across it). */
  flagGroups: string[];
  /** Something inside repeats more than once: repeating the group again risks exponential backtracking. */
  repeats: boolean;
}

function codePoint(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function literal(char: string, inClass: boolean): string {
  const syntax = inClass ? JS_CLASS_SYNTAX : JS_SYNTAX;
  if (syntax.has(char)) return `\\${char}`;
  const cp = char.codePointAt(0)!;
  return cp < 0x20 ? codePoint(cp) : char;
}

function isWordChar(char: string): boolean {
  return /^[0-9A-Za-z_]$/.test(char);
}

class Translator {
  private readonly chars: string[];
  private readonly pattern: string;
  private pos = 0;
  private out = '';
  private readonly groups: Group[] = [{ flagGroups: [], repeats: false }];
  /** Whether the last atom repeats inside; undefined when there is nothing a repetition could apply to. */
  private lastAtom: { repeats: boolean } | undefined;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.chars = [...pattern];
  }

  fail(reason: string): never {
    throw new Re2Error(this.pattern, reason);
  }

  translate(): string {
    while (this.pos < this.chars.length) this.step();
    if (this.groups.length > 1) this.fail('missing closing )');
    this.out += ')'.repeat(this.groups[0]!.flagGroups.length);
    return this.out;
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.pos + offset];
  }

  private atom(text: string, repeats = false): void {
    this.lastAtom = { repeats };
    this.out += text;
  }

  private step(): void {
    const char = this.chars[this.pos++]!;
    switch (char) {
      case '\\':
        this.atom(this.escape(false));
        return;
      case '[':
        this.atom(this.charClass());
        return;
      case '(':
        this.openGroup();
        return;
      case ')':
        this.closeGroup();
        return;
      case '|': {
        const flags = this.groups.at(-1)!.flagGroups;
        this.lastAtom = undefined;
        this.out += `${')'.repeat(flags.length)}|${flags.join('')}`;
        return;
      }
      case '^':
      case '$':
        this.lastAtom = undefined;
        this.out += char;
        return;
      case '.':
        this.atom('.');
        return;
      case '*':
      case '+':
      case '?':
        this.repeat(char, char !== '?');
        return;
      case '{':
        this.countedRepeat();
        return;
      default:
        this.atom(literal(char, false));
        return;
    }
  }

  private repeat(operator: string, many: boolean): void {
    const atom = this.lastAtom;
    if (!atom) this.fail(`missing argument to repetition operator ${operator}`);
    if (this.peek() === '?') {
      this.pos++;
      operator += '?';
    }
    if (/^[*+?{]/.test(this.peek() ?? '')) this.fail(`invalid nested repetition operator ${operator}`);
    if (many && atom.repeats) {
      this.fail(
        'a repeated group that itself repeats (like (a+)+) can take exponential time; write it without nesting',
      );
    }
    this.out += operator;
    if (many) this.groups.at(-1)!.repeats = true;
    this.lastAtom = undefined;
  }

  /** `{n}`, `{n,}`, `{n,m}`; any other `{` is a literal brace in Go. */
  private countedRepeat(): void {
    const rest = this.chars.slice(this.pos).join('');
    const match = /^(\d+)(,(\d*))?\}/.exec(rest);
    if (!match) {
      this.atom('\\{');
      return;
    }
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT))
      this.fail(`repetition count above ${MAX_REPEAT}`);
    if (max < min) this.fail(`invalid repeat count {${match[0]}`);
    this.pos += [...match[0]].length;
    this.repeat(`{${match[0]}`, max > 1);
  }

  private openGroup(): void {
    let open = '(?:';
    if (this.peek() === '?') {
      const rest = this.chars.slice(this.pos + 1).join('');
      const named = /^P?<([A-Za-z0-9_]+)>/.exec(rest);
      const flags = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (rest.startsWith(':')) {
        this.pos += 2;
      } else if (named) {
        // Captures are never read, so a named group is just a group (and JavaScript's rules for names do not matter).
        this.pos += 1 + named[0].length;
      } else if (flags && (flags[1] || flags[2] !== undefined)) {
        this.pos += 1 + flags[0].length;
        if (flags[0].includes('U')) this.fail('the ungreedy flag U is not supported');
        if (flags[2] === '') this.fail('missing flags after -');
        const modifiers = `${flags[1]}${flags[2] !== undefined ? `-${flags[2]}` : ''}`;
        if (flags[3] === ')') {
          // `(?i)` applies to the rest of the enclosing group: a modifier group that closes with it.
          this.out += `(?${modifiers}:`;
          this.groups.at(-1)!.flagGroups.push(`(?${modifiers}:`);
          this.lastAtom = undefined;
          return;
        }
        open = `(?${modifiers}:`;
      } else if (/^(?:=|!|<=|<!)/.test(rest)) {
        this.fail('lookahead and lookbehind assertions are not supported (Go does not have them)');
      } else {
        this.fail(`invalid or unsupported group syntax (?${rest.slice(0, 3)}`);
      }
    }
    this.groups.push({ flagGroups: [], repeats: false });
    this.out += open;
    this.lastAtom = undefined;
  }

  private closeGroup(): void {
    const group = this.groups.pop();
    if (!group || this.groups.length === 0) this.fail('unexpected )');
    this.out += `${')'.repeat(group.flagGroups.length)})`;
    if (group.repeats) this.groups.at(-1)!.repeats = true;
    this.lastAtom = { repeats: group.repeats };
  }

  /** After a backslash; inside a class, class-shorthand escapes expand to class content. */
  private escape(inClass: boolean): string {
    const char = this.chars[this.pos++];
    if (char === undefined) this.fail('trailing backslash at end of expression');
    switch (char) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return `\\${char}`;
      case 's':
        return inClass ? GO_SPACE : `[${GO_SPACE}]`;
      case 'S':
        return inClass ? GO_NOT_SPACE : `[^${GO_SPACE}]`;
      case 'p':
      case 'P':
        return this.unicodeClass(char);
      case 'x':
        return this.hexEscape();
      case 'Q':
        return this.quoted(inClass);
    }
    if (!inClass) {
      if (char === 'b' || char === 'B') return `\\${char}`;
      if (char === 'A') return '(?<![\\s\\S])';
      if (char === 'z') return '(?![\\s\\S])';
    }
    const simple = SIMPLE_ESCAPES[char];
    if (simple) return simple;
    if (/[0-7]/.test(char)) return this.octal(char);
    if (/[89]/.test(char)) this.fail(`backreferences are not supported (\\${char})`);
    if (char.codePointAt(0)! < 0x80 && !isWordChar(char)) return literal(char, inClass);
    return this.fail(`invalid escape sequence \\${char}`);
  }

  /** Go reads `\0`, `\012`, `\12` as octal; a lone `\1` … `\7` would be a backreference, which it refuses. */
  private octal(first: string): string {
    let digits = first;
    while (digits.length < 3 && /[0-7]/.test(this.peek() ?? '')) digits += this.chars[this.pos++];
    if (first !== '0' && digits.length === 1) this.fail(`backreferences are not supported (\\${first})`);
    return codePoint(Number.parseInt(digits, 8));
  }

  private hexEscape(): string {
    const rest = this.chars.slice(this.pos).join('');
    const match = /^\{([0-9A-Fa-f]{1,8})\}/.exec(rest) ?? /^([0-9A-Fa-f]{2})/.exec(rest);
    if (!match) this.fail('invalid escape sequence \\x');
    const cp = Number.parseInt(match[1]!, 16);
    if (cp > 0x10ffff) this.fail(`invalid escape sequence \\x${match[0]}`);
    this.pos += match[0].length;
    return codePoint(cp);
  }

  private quoted(inClass: boolean): string {
    const rest = this.chars.slice(this.pos);
    let end = rest.findIndex((c, i) => c === '\\' && rest[i + 1] === 'E');
    if (end < 0) end = rest.length;
    this.pos += end + 2;
    const text = rest.slice(0, end);
    return text.map((c) => literal(c, inClass)).join('');
  }

  private unicodeClass(kind: string): string {
    let name = this.chars[this.pos++];
    if (name === undefined) this.fail(`invalid character class range \\${kind}`);
    if (name === '{') {
      const close = this.chars.indexOf('}', this.pos);
      if (close < 0) this.fail(`invalid character class range \\${kind}{`);
      name = this.chars.slice(this.pos, close).join('');
      this.pos = close + 1;
    }
    let negate = kind === 'P';
    if (name.startsWith('^')) {
      negate = !negate;
      name = name.slice(1);
    }
    const prefix = negate ? '\\P' : '\\p';
    if (name === 'Any') return negate ? '[^\\s\\S]' : '[\\s\\S]';
    for (const candidate of [name, `Script=${name}`]) {
      try {
        new RegExp(`${prefix}{${candidate}}`, 'u');
        return `${prefix}{${candidate}}`;
      } catch {
        // Not a general category; try it as a script.
      }
    }
    return this.fail(`invalid character class range \\${kind}{${name}}`);
  }

  /** After `[`: Go's class syntax (a leading `]` is literal, POSIX names) written as a JavaScript class. */
  private charClass(): string {
    let out = '[';
    if (this.peek() === '^') {
      this.pos++;
      out += '^';
    }
    for (let first = true; ; first = false) {
      const char = this.chars[this.pos++];
      if (char === undefined) this.fail('missing closing ]');
      if (char === ']' && !first) return `${out}]`;
      if (char === '[' && this.peek() === ':') {
        const rest = this.chars.slice(this.pos).join('');
        const posix = /^:(\^?)([a-z]+):\]/.exec(rest);
        if (posix) {
          const ranges = POSIX_CLASSES[posix[2]!];
          if (!ranges) this.fail(`invalid character class range [:${posix[2]}:]`);
          if (posix[1]) this.fail(`negated POSIX class [:^${posix[2]}:] is not supported`);
          this.pos += posix[0].length;
          out += ranges;
          continue;
        }
      }
      if (char === '\\') out += this.escape(true);
      // A dash between two characters makes a range; first or last it is literal.
      else if (char === '-' && !first && this.peek() !== ']') out += '-';
      else out += literal(char, true);
    }
  }
}

/** Compiles a Go regular expression, anchored at both ends as Alertmanager anchors matcher values. */
export function compileAnchoredRe2(pattern: string): RegExp {
  const source = new Translator(pattern).translate();
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    throw new Re2Error(pattern, (err as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}
