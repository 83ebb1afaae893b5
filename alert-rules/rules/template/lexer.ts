/** Go text/template's lexer: text, actions with trim markers, comments, and the tokens inside actions. */

export type TokenType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'comment'
  | 'assign'
  | 'declare'
  | 'EOF'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  | 'keyword';

export interface Token {
  type: TokenType;
  value: string;
  /** Index into the text. */
  pos: number;
  line: number;
}

export const KEYWORDS = new Set([
  '.',
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'nil',
  'template',
  'with',
]);

const LEFT = '{{';
const RIGHT = '}}';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));
}

function hasLeftTrimMarker(text: string, at: number): boolean {
  return text[at] === '-' && isSpace(text[at + 1]);
}

function hasRightTrimMarker(text: string, at: number): boolean {
  return isSpace(text[at]) && text[at + 1] === '-';
}

/** Describes a rune the way Go's %#U does. */
function describeRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

/** Produces every token of `text` up front (templates are short). */
export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let parenDepth = 0;
  const emit = (type: TokenType, value = text.slice(start, pos)): void => {
    tokens.push({ type, value, pos: start, line });
    line += countNewlines(value);
    start = pos;
  };
  const fail = (message: string): Token[] => {
    tokens.push({ type: 'error', value: message, pos: start, line });
    return tokens;
  };
  const ignore = (): void => {
    line += countNewlines(text.slice(start, pos));
    start = pos;
  };
  const atRightDelim = (): [boolean, boolean] => {
    if (hasRightTrimMarker(text, pos) && text.startsWith(RIGHT, pos + 2)) return [true, true];
    return [text.startsWith(RIGHT, pos), false];
  };
  const skipSpaces = (): void => {
    while (isSpace(text[pos])) pos++;
  };
  const atTerminator = (): boolean => {
    const c = text[pos];
    if (c === undefined || isSpace(c) || '.,|:()'.includes(c)) return true;
    return text.startsWith(RIGHT, pos);
  };

  for (;;) {
    // Text up to the next action.
    const delim = text.indexOf(LEFT, pos);
    if (delim < 0) {
      pos = text.length;
      if (pos > start) emit('text');
      emit('EOF', '');
      return tokens;
    }
    if (delim > pos) {
      pos = delim;
      let end = pos;
      if (hasLeftTrimMarker(text, pos + LEFT.length)) while (end > start && isSpace(text[end - 1])) end--;
      const value = text.slice(start, end);
      if (value.length > 0) {
        tokens.push({ type: 'text', value, pos: start, line });
      }
      ignore();
    }
    // The left delimiter, or a comment.
    pos += LEFT.length;
    const trim = hasLeftTrimMarker(text, pos);
    const afterMarker = trim ? 2 : 0;
    if (text.startsWith('/*', pos + afterMarker)) {
      pos += afterMarker + 2;
      ignore();
      const close = text.indexOf('*/', pos);
      if (close < 0) return fail('unclosed comment');
      pos = close + 2;
      const [isDelim, trimAfter] = atRightDelim();
      if (!isDelim) return fail('comment ends before closing delimiter');
      pos += (trimAfter ? 2 : 0) + RIGHT.length;
      if (trimAfter) skipSpaces();
      ignore();
      continue;
    }
    emit('leftDelim', LEFT);
    pos += afterMarker;
    ignore();
    parenDepth = 0;
    // Inside the action.
    for (;;) {
      const [isDelim, trimAfter] = atRightDelim();
      if (isDelim) {
        if (parenDepth !== 0) return fail('unclosed left paren');
        if (trimAfter) {
          pos += 2;
          ignore();
        }
        pos += RIGHT.length;
        emit('rightDelim', RIGHT);
        if (trimAfter) {
          skipSpaces();
          ignore();
        }
        break;
      }
      const c = text[pos];
      if (c === undefined) return fail('unclosed action');
      if (isSpace(c)) {
        let spaces = 0;
        while (isSpace(text[pos])) {
          pos++;
          spaces++;
        }
        if (hasRightTrimMarker(text, pos - 1) && text.startsWith(RIGHT, pos + 1)) {
          pos--;
          if (spaces === 1) continue;
        }
        emit('space');
        continue;
      }
      pos += c.length;
      if (c === '=') emit('assign');
      else if (c === ':') {
        if (text[pos] !== '=') return fail('expected :=');
        pos++;
        emit('declare');
      } else if (c === '|') emit('pipe');
      else if (c === '"' || c === "'") {
        const error = scanQuoted(c);
        if (error) return fail(error);
        emit(c === '"' ? 'string' : 'charConstant');
      } else if (c === '`') {
        const close = text.indexOf('`', pos);
        if (close < 0) return fail('unterminated raw quoted string');
        pos = close + 1;
        emit('rawString');
      } else if (c === '$' || (c === '.' && !/[0-9]/.test(text[pos] ?? ''))) {
        if (atTerminator()) {
          emit(c === '$' ? 'variable' : 'keyword');
          continue;
        }
        while (isAlphaNumeric(text[pos])) pos++;
        if (!atTerminator()) return fail(`bad character ${describeRune(text[pos] ?? '')}`);
        emit(c === '$' ? 'variable' : 'field');
      } else if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        pos -= c.length;
        if (!scanNumber()) return fail(`bad number syntax: ${JSON.stringify(text.slice(start, pos))}`);
        emit('number');
      } else if (isAlphaNumeric(c)) {
        while (isAlphaNumeric(text[pos])) pos++;
        if (!atTerminator()) return fail(`bad character ${describeRune(text[pos] ?? '')}`);
        const word = text.slice(start, pos);
        emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : 'identifier');
      } else if (c === '(') {
        emit('leftParen');
        parenDepth++;
      } else if (c === ')') {
        parenDepth--;
        emit('rightParen');
        if (parenDepth < 0) return fail('unexpected right paren');
      } else if (c.charCodeAt(0) < 0x7f && c >= ' ') emit('char');
      else return fail(`unrecognized character in action: ${describeRune(c)}`);
    }
  }

  function scanQuoted(quoteChar: string): string | undefined {
    for (;;) {
      let c = text[pos++];
      if (c === '\\') {
        c = text[pos++];
        if (c !== undefined && c !== '\n') continue;
      }
      if (c === undefined || c === '\n') {
        return quoteChar === '"' ? 'unterminated quoted string' : 'unterminated character constant';
      }
      if (c === quoteChar) return undefined;
    }
  }

  function scanNumber(): boolean {
    const accept = (chars: string): boolean => {
      const c = text[pos];
      if (c !== undefined && chars.includes(c)) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (chars: string): void => {
      while (accept(chars));
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(text[pos])) {
      pos++;
      return false;
    }
    return true;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
