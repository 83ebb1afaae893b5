import { describe, expect, it } from 'vitest';
import { parseTextQuery } from './text-query.ts';

const w = (value: string) => ({ kind: 'word', value });
const p = (value: string) => ({ kind: 'phrase', value });
const f = (field: string, value: string) => ({ kind: 'field', field, value });

describe('parseTextQuery', () => {
  it('reads words side by side as AND, with NOT above AND above OR', () => {
    expect(parseTextQuery('timeout order')).toEqual({ kind: 'and', children: [w('timeout'), w('order')] });
    expect(parseTextQuery('a OR b c')).toEqual({
      kind: 'or',
      children: [w('a'), { kind: 'and', children: [w('b'), w('c')] }],
    });
    expect(parseTextQuery('error NOT debug -healthz')).toEqual({
      kind: 'and',
      children: [w('error'), { kind: 'not', child: w('debug') }, { kind: 'not', child: w('healthz') }],
    });
  });

  it('keeps phrases whole and groups with parentheses', () => {
    expect(parseTextQuery('timeout AND ("connection reset" OR refused)')).toEqual({
      kind: 'and',
      children: [w('timeout'), { kind: 'or', children: [p('connection reset'), w('refused')] }],
    });
  });

  it('treats query syntax of other engines as plain words', () => {
    expect(parseTextQuery('message:* {"query"} a\\b')).toEqual({
      kind: 'and',
      children: [w('*'), w('{'), p('query'), w('}'), w('a\\b')],
    });
    expect(parseTextQuery('连接超时')).toEqual(w('连接超时'));
    expect(parseTextQuery('   ')).toBeUndefined();
  });

  it('reads name:value as a field term, quoted values whole, short names as in the filters', () => {
    expect(parseTextQuery('kubernetes.pod.name:api-7f9')).toEqual(f('kubernetes.pod.name', 'api-7f9'));
    expect(parseTextQuery('level:error')).toEqual(f('log.level', 'error'));
    expect(parseTextQuery('@version:1 _id:x user.e-mail:a@b.c')).toEqual({
      kind: 'and',
      children: [f('@version', '1'), f('_id', 'x'), f('user.e-mail', 'a@b.c')],
    });
    expect(parseTextQuery('event.reason:"Back-off restarting" timeout')).toEqual({
      kind: 'and',
      children: [f('event.reason', 'Back-off restarting'), w('timeout')],
    });
    expect(parseTextQuery('NOT log.level:debug -pod:web-1')).toEqual({
      kind: 'and',
      children: [
        { kind: 'not', child: f('log.level', 'debug') },
        { kind: 'not', child: f('kubernetes.pod.name', 'web-1') },
      ],
    });
    expect(parseTextQuery('(reason:BackOff OR reason:Failed) url.full:http://x/y?a=b:c')).toEqual({
      kind: 'and',
      children: [
        { kind: 'or', children: [f('reason', 'BackOff'), f('reason', 'Failed')] },
        f('url.full', 'http://x/y?a=b:c'),
      ],
    });
    expect(parseTextQuery('log.file.path:/var/log/app.log')).toEqual(f('log.file.path', '/var/log/app.log'));
    expect(parseTextQuery('message:timeout message:"connection reset"')).toEqual({
      kind: 'and',
      children: [w('timeout'), p('connection reset')],
    });
  });

  it('keeps text with a colon as text: times, URLs, IPv6, drives, a trailing or doubled colon', () => {
    for (const text of [
      '12:30:01',
      '2026-01-01T12:30:01Z',
      'http://x/y',
      'https://example.com:8443/a',
      'ERROR:',
      'a::b',
      'std::vector',
      'fe80::1',
      '2001:db8::8a2e:370:7334',
      'dead:beef:0:0:1',
      'C:\\Windows\\System32',
      'D:/data/logs',
      ':x',
      '9front:x',
    ]) {
      expect(parseTextQuery(text), text).toEqual(w(text));
    }
    expect(parseTextQuery('ERROR: "disk full"')).toEqual({
      kind: 'and',
      children: [w('ERROR:'), p('disk full')],
    });
    expect(parseTextQuery('"level:error"')).toEqual(p('level:error'));
  });

  it('explains malformed input', () => {
    expect(() => parseTextQuery('event.id:abc')).toThrow(/filter on it with f.event.id=/);
    expect(() => parseTextQuery('@timestamp:"2026-01-01"')).toThrow(/f.@timestamp/);
    expect(() => parseTextQuery('level:"open')).toThrow(/no closing quote/);
    expect(() => parseTextQuery('host:"  "')).toThrow(/host:"" has no value to look for/);
    expect(() => parseTextQuery('"open')).toThrow(/no closing quote/);
    expect(() => parseTextQuery('(a OR b')).toThrow(/not closed/);
    expect(() => parseTextQuery('a )')).toThrow(/unexpected "\)"/);
    expect(() => parseTextQuery('OR a')).toThrow(/OR needs a term/);
    expect(() => parseTextQuery('a NOT')).toThrow(/ends where a term was expected/);
    expect(() => parseTextQuery('timeout OR')).toThrow(/OR needs a term on its right/);
    expect(() => parseTextQuery('a OR OR b')).toThrow(/OR needs a term on its right/);
    expect(() => parseTextQuery('timeout AND')).toThrow(/AND needs a term on its right/);
    expect(() => parseTextQuery('(a AND) b')).toThrow(/AND needs a term on its right/);
    expect(() => parseTextQuery(`${'-'.repeat(10_000)}x`)).toThrow(/nested at most 16 deep/);
    expect(() => parseTextQuery(`${'('.repeat(17)}x${')'.repeat(17)}`)).toThrow(/nested at most 16 deep/);
    expect(parseTextQuery('--x')).toEqual({ kind: 'not', child: { kind: 'not', child: w('x') } });
    expect(() => parseTextQuery(Array.from({ length: 65 }, (_, i) => `w${i}`).join(' '))).toThrow(
      /at most 64/,
    );
  });
});
