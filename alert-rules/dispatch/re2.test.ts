import { describe, expect, it } from 'vitest';
import { compileAnchoredRe2 } from './re2.ts';

const test = (pattern: string, value: string) => compileAnchoredRe2(pattern).test(value);

describe('compileAnchoredRe2', () => {
  it.each([
    // [pattern, matching, not matching]
    ['5..', '503', '5030'],
    ['a|b', 'b', 'ab'],
    ['(?i)warn', 'WARN', 'warning'],
    ['x(?i)y', 'xY', 'XY'],
    ['(a(?i)b|c)', 'C', 'aC'], // the flag holds across | up to the group's end
    ['a(?i)b|c', 'aB', 'Ab'],
    ['(?i:a)b', 'Ab', 'AB'],
    ['a\\sb', 'a\tb', 'a\u00a0b'], // Go's \s is ASCII space only
    ['a\\Sb', 'a\u00a0b', 'a b'],
    ['[\\s]', '\n', '\u2003'],
    ['[[:digit:]x]+', '12x', '12y'],
    ['[]a]', ']', 'b'],
    ['[a-]', '-', 'b'],
    ['[^-a]', 'b', '-'],
    ['\\Qa.b\\E', 'a.b', 'axb'],
    ['a\\-b\\!', 'a-b!', 'ab'],
    ['\\x41\\x{1F600}', 'A😀', 'A'],
    ['\\101', 'A', '\\101'],
    ['\\pL+', 'été', 'e1'],
    ['\\p{Greek}', 'λ', 'l'],
    ['\\PL', '1', 'a'],
    ['(?P<name>a)b', 'ab', 'b'],
    ['(?:ab)+', 'abab', 'aba'],
    ['a{2}', 'aa', 'a'],
    ['a{,2}', 'a{,2}', 'aa'], // not a repetition in Go: literal text
    ['{}', '{}', ''],
    ['a]', 'a]', 'a'],
    ['\\Aab\\z', 'ab', 'ab\n'],
    ['(?s).+', 'a\nb', ''],
    ['.+', 'ab', 'a\nb'],
    ['😀.', '😀x', '😀'],
  ])('%s', (pattern, yes, no) => {
    expect(test(pattern, yes)).toBe(true);
    expect(test(pattern, no)).toBe(false);
  });

  it.each([
    ['(a', /missing closing \)/],
    ['a)', /unexpected \)/],
    ['[a', /missing closing \]/],
    ['*a', /missing argument/],
    ['a**', /nested repetition/],
    ['(?=a)', /lookahead/],
    ['(?<!a)b', /lookbehind/],
    ['(a)\\1', /backreferences/],
    ['\\8', /backreferences/],
    ['\\k', /invalid escape/],
    ['a{1001}', /above 1000/],
    ['(?U)a+', /ungreedy/],
    ['(a+)+', /exponential/],
    ['(a|b*)*c', /exponential/],
    ['((a)+)+', /exponential/],
    ['\\p{NoSuchClass}', /invalid character class/],
    ['[[:^alpha:]]', /not supported/],
    ['a\\', /trailing backslash/],
  ])('refuses %s', (pattern, message) => {
    expect(() => compileAnchoredRe2(pattern)).toThrow(message);
  });

  it('keeps a refused pattern in the message', () => {
    expect(() => compileAnchoredRe2('(api')).toThrow('invalid regular expression "(api"');
  });
});
