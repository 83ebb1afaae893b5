import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileAnchoredRe2 } from '../alert-rules/dispatch/re2.ts';
import { onPath } from './infra/exec.ts';

/**
 * Alertmanager's regex matchers are Go regular expressions; Lookout runs
 * them as JavaScript ones. Every pattern here, against every value, must
 * match in both or in neither, and what Go refuses Lookout refuses too.
 * Lookout may refuse more (what a backtracking engine would run slowly).
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
];

function ours(pattern: string, value: string): string {
  try {
    return String(compileAnchoredRe2(pattern).test(value));
  } catch {
    return 'error';
  }
}

describe.skipIf(!onPath('go'))('Go regular expressions in JavaScript', () => {
  it('match what Go matches', () => {
    const cases = PATTERNS.flatMap((pattern) => VALUES.map((value) => ({ pattern, value })));
    const program = path.join(import.meta.dirname, 'support', 'go-regexp', 'main.go');
    const answers = execFileSync('go', ['run', program], {
      input: `${cases.map((c) => JSON.stringify(c)).join('\n')}\n`,
      env: { ...process.env, GOWORK: 'off', GOFLAGS: '-buildvcs=false' },
      maxBuffer: 16 * 1024 * 1024,
    })
      .toString()
      .trim()
      .split('\n');
    expect(answers).toHaveLength(cases.length);
    const differences = cases
      .map((c, i) => ({ ...c, go: answers[i], lookout: ours(c.pattern, c.value) }))
      .filter((c) => c.go !== c.lookout);
    expect(differences).toEqual([]);
  }, 120_000);
});
