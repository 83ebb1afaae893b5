import { describe, expect, it } from 'vitest';
import { compileAnchoredGoRegexp } from './regexp.ts';
import { translateGoRegexp } from './translate.ts';

const test = (pattern: string, value: string) => compileAnchoredGoRegexp(pattern).test(value);

describe('compileAnchoredGoRegexp', () => {
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
    ['.', '\r', '\n'], // Go's . is anything but \n
    ['(?U)a+', 'aaa', ''],
    ['[[:^alpha:]]', '1', 'a'],
    ['(?m)a$\nb', 'a\nb', 'a\rb'],
    ['^*a', 'a', ''], // Go repeats an assertion
    ['xa(?i)*', 'xaa', 'xA'], // the flag group stands between the atom and its operator
    ['a?(?i)+b', 'aaB', 'Ab'],
    ['x(?i)ſ\u212a', 'xsk', 'Xsk'],
    ['(?i)\\P{Lu}', '1', 'b'], // Go negates after case folding
    ['(?i)[[:^upper:]]', '1', 'a'],
    ['a{01}', 'a{01}', 'a'], // a leading zero makes the brace literal
    ['\\x{10FFFF}', '\u{10FFFF}', ''],
    ['[\\d-z]', '-', 'a'],
  ])('%s', (pattern, yes, no) => {
    expect(test(pattern, yes)).toBe(true);
    expect(test(pattern, no)).toBe(false);
  });

  it.each([
    ['(a', 'missing closing ): `(a`'],
    ['a)', 'unexpected ): `a)`'],
    ['[a', 'missing closing ]: `[a`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['(|*?)', 'missing argument to repetition operator: `*?`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a{2}+?', 'invalid nested repetition operator: `{2}+?`'],
    ['(?=a)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?i-)', 'invalid or unsupported Perl syntax: `(?i-)`'],
    ['(?<!a)b', 'invalid named capture: `(?<!a)b`'],
    ['(?P<a-b>x)', 'invalid named capture: `(?P<a-b>`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['\\8', 'invalid escape sequence: `\\8`'],
    ['\\k', 'invalid escape sequence: `\\k`'],
    ['[\\b]', 'invalid escape sequence: `\\b`'],
    ['\\x{110000}', 'invalid escape sequence: `\\x{110000`'],
    ['\\xg1', 'invalid escape sequence: `\\xg1`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
    ['a{2,1}', 'invalid repeat count: `{2,1}`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
    ['\\p{NoSuchClass}', 'invalid character class range: `\\p{NoSuchClass}`'],
    // Recent Go accepts long category names; the Go of Prometheus 2.42 and Alertmanager 0.25 does not.
    ['\\p{Letter}', 'invalid character class range: `\\p{Letter}`'],
    ['a\\', 'trailing backslash at end of expression: ``'],
  ])('refuses %s as Go does', (pattern, message) => {
    expect(() => translateGoRegexp(pattern)).toThrow(`error parsing regexp: ${message}`);
  });

  it('reads a matcher value inside the anchors, as Alertmanager does', () => {
    expect(() => compileAnchoredGoRegexp('(a')).toThrow(
      'error parsing regexp: missing closing ): `^(?:(a)$`',
    );
    expect(() => compileAnchoredGoRegexp('\\Qa')).toThrow('missing closing )');
    expect(compileAnchoredGoRegexp('a)|(b').test('ax')).toBe(true);
  });

  it.each(['(a+)+', '(a|b*)*c', '((a)+)+', '(a{1,2}){2,}'])(
    'refuses %s, which can take exponential time',
    (pattern) => {
      expect(() => compileAnchoredGoRegexp(pattern)).toThrow(/exponential time/);
    },
  );
});

describe('translateGoRegexp', () => {
  it.each([
    ['a+b*', 'none'],
    ['(ab)+', 'none'],
    ['(a|ab)*', 'repeated-alternation'],
    ['(a+)+$', 'nested-repetition'],
    ['(?:x(a|b)*)+', 'nested-repetition'],
  ])('says how %s risks backtracking', (pattern, risk) => {
    expect(translateGoRegexp(pattern).backtracking).toBe(risk);
  });

  it('numbers the groups and keeps their names', () => {
    expect(translateGoRegexp('(a)(?:b)(?P<x>c)(?<y>d)').captureNames).toEqual([
      undefined,
      undefined,
      'x',
      'y',
    ]);
  });
});
