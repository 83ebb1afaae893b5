import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compileAnchoredGoRegexp,
  matchGoRegexp,
  replaceAllGoRegexp,
} from '../alert-rules/go-regexp/regexp.ts';
import { translateGoRegexp } from '../alert-rules/go-regexp/translate.ts';
import { onPath } from './infra/exec.ts';

/**
 * Alertmanager's regex matchers and the template functions match and
 * reReplaceAll are Go regular expressions; Lookout runs them as JavaScript
 * ones. Every pattern here, against every value, must match in both or in
 * neither, replace the same, and what Go refuses Lookout refuses too, with
 * Go's message. Matchers may refuse more: what a backtracking engine could
 * run in exponential time.
 */

const PATTERNS = [
  '5..',
  'a|b',
  '(?i)warn',
  'x(?i)y',
  '(a(?i)b|c)',
  'a(?i)b|c',
  '(?i:a)b',
  '(?i)(?-i:a)b',
  '(?-s:.)',
  '(?s).+',
  '(?m)^a$',
  'a\\sb',
  'a\\Sb',
  '[\\s]',
  '[\\S]',
  '\\d+',
  '\\w+',
  '\\W',
  '\\D',
  '\\bfoo\\b',
  'foo\\B',
  '[a-c\\d]+',
  '[^\\d\\s]+',
  '[[:digit:]x]+',
  '[[:alpha:][:digit:]]+',
  '[[:punct:]]',
  '[[:space:]]',
  '[]a]',
  '[a-]',
  '[^-a]',
  '[\\-]',
  '[a\\]b]',
  '\\Qa.b\\E',
  'a\\-b\\!',
  '\\.',
  '\\*',
  '\\/',
  '/',
  '\\x41',
  '\\x{1F600}',
  '\\101',
  '\\f\\t',
  '\\a',
  '\\v',
  '\\pL+',
  '\\p{Greek}',
  '\\PL',
  '\\pN',
  '\\p{Han}+',
  '\\p{Lu}',
  '(?P<n>a)b',
  '(?:ab)+',
  '(a|b)*c',
  'a*?',
  'a{2}',
  'a{,2}',
  'a{2,}',
  'a{1,3}?',
  'x{1001}',
  '{}',
  'a]',
  '\\Aab\\z',
  '\\z',
  '.+',
  '😀.',
  'é',
  'a$',
  '^a',
  '(?i)straße',
  '(?i)k',
  '(?i)[a-c]+',
  '[\\x00-\\x{10FFFF}]',
  '.*(critical|major).*',
  'node-[0-9]+\\.example\\.com',
  '(a',
  'a)',
  '[a',
  '*a',
  'a**',
  '(?=a)',
  '(a)\\1',
  '\\8',
  '\\k',
  '\\p{NoSuchClass}',
  'a\\',
  '(a+)+',
  '(a|b*)*c',
  '(a|ab)*',
  '(?U)a+',
  '(?U)a+?',
  '((?U)a+)(a*)',
  '[[:^alpha:]]+',
  '(?m)a$',
  '(?m)^b',
  '(?s:.)b',
  'x(?s).',
  'a|(?i)b',
  '(a(?i)b|c)d',
  '(?i)(a|b)(?-i)c',
  '^*a',
  '$*',
  '(?:^)+a',
  '\\b+',
  'a{01}',
  'a{0}',
  'a{1,02}',
  '\\Q*\\E+',
  '\\Q',
  '(?<n>a)(b)?',
  '(?P<x>.)\\pL',
  '[^\\n]',
  '.',
  '(?i)σ',
  '[\\p{Lu}\\d]+',
  '[\\d-z]',
  '[a-]+',
  '[z-a]',
  '[[:foo:]]',
  '(?P<a-b>x)',
  '(?<!a)b',
  '(?P=n)',
  '(?i-)',
  '(?',
  'a{2}+?',
  'a*?*',
  '(|*?)',
  '\\x{110000}',
  '\\x{}',
  '\\xg1',
  '\\x4',
  '\\C',
  '\\pX',
  '[\\b]',
  '[\\Q]',
  '\\_',
  '\\é',
  'a{2,1}',
  'a{1001}',
  '{2}',
  'a(?i)*',
  'a*(?i)+b',
  '(?i)a(?-i)*b',
  '(a)(?U){2,}?',
  'x(?i)ſ',
  'x(?i)\u212a',
  '(?i:\u212b)',
  '(?i)\\P{Lu}',
  '(?i)\\p{^Ll}',
  '(?i)[[:^upper:]]',
  '(?i)[[:^alpha:]]',
  '(?i)[^[:lower:]]',
  '(?i)\\W',
  '(?i)\\S\\b',
  '(?i)\\B.',
];

const VALUES = [
  '',
  'a',
  'b',
  'ab',
  'aB',
  'Ab',
  'AB',
  'C',
  'aC',
  'c',
  'warn',
  'WARN',
  'xY',
  'XY',
  'a b',
  'a\tb',
  'a\u00a0b',
  'a\u2003b',
  '\n',
  '\v',
  ' ',
  '12x',
  ']',
  '-',
  'a.b',
  'axb',
  'a-b!',
  'A',
  '😀',
  '😀x',
  'été',
  'λ',
  '1',
  'aa',
  'aaa',
  'a{,2}',
  '{}',
  'a]',
  'ab\n',
  'a\nb',
  'foo',
  'foo bar',
  'STRASSE',
  'straße',
  'K',
  'k',
  '\u212a',
  '!',
  '中文',
  'É',
  'é',
  '*',
  '/',
  'abab',
  'major',
  'xx critical yy',
  'node-12.example.com',
  '\f\t',
  '\x07',
  '\x0b',
  'ſ',
  'S',
  '\r',
  'a\rb',
  'xb',
  'x\nb',
  '\nb',
  'Σ',
  'ς',
  'AB1',
  'abc',
  'aab',
  '_',
  'xs',
  'xS',
  'xk',
  'å',
  'Å',
];

interface Answers {
  anchored: string;
  match: string;
  replaced: string;
}

function attempt(run: () => string): string {
  try {
    return run();
  } catch (e) {
    return (e as Error).message;
  }
}

function ours(pattern: string, value: string): Answers {
  const anchored = attempt(() => String(compileAnchoredGoRegexp(pattern).test(value)));
  const match = attempt(() => String(matchGoRegexp(pattern, value)));
  return {
    anchored: anchored === 'true' || anchored === 'false' ? anchored : 'error',
    match,
    replaced: match.startsWith('error') ? '' : replaceAllGoRegexp(pattern, '<$1|${0}>', value),
  };
}

describe.skipIf(!onPath('go'))('Go regular expressions in JavaScript', () => {
  it('match, replace and refuse what Go does', () => {
    const cases = PATTERNS.flatMap((pattern) => VALUES.map((value) => ({ pattern, value })));
    const program = path.join(import.meta.dirname, 'support', 'go-regexp', 'main.go');
    const answers = execFileSync('go', ['run', program], {
      input: `${cases.map((c) => JSON.stringify(c)).join('\n')}\n`,
      env: { ...process.env, GOWORK: 'off', GOFLAGS: '-buildvcs=false' },
      maxBuffer: 64 * 1024 * 1024,
    })
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Answers);
    expect(answers).toHaveLength(cases.length);
    const differences = cases
      .map((c, i) => ({ ...c, go: answers[i]!, lookout: ours(c.pattern, c.value) }))
      .filter(({ pattern, go, lookout }) => {
        // Matchers refuse what could backtrack exponentially; templates run it as Go does.
        const refusedOnPurpose =
          lookout.anchored === 'error' &&
          attempt(() => translateGoRegexp(pattern).backtracking) === 'nested-repetition';
        return (
          (go.anchored !== lookout.anchored && !refusedOnPurpose) ||
          go.match !== lookout.match ||
          go.replaced !== lookout.replaced
        );
      });
    expect(differences).toEqual([]);
  }, 120_000);
});
