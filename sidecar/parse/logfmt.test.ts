import { describe, expect, it } from 'vitest';
import { parseLogfmt } from './logfmt.ts';

describe('parseLogfmt', () => {
  it('reads bare, quoted and escaped values', () => {
    expect(
      parseLogfmt(
        'ts=2024-01-02T03:04:05Z level=info msg="hello \\"world\\"\\n\\tok \\u00e9" path=/a=b debug',
      ),
    ).toEqual({
      ts: '2024-01-02T03:04:05Z',
      level: 'info',
      msg: 'hello "world"\n\tok é',
      path: '/a=b',
      debug: true,
    });
  });

  it('keeps values as strings, empty values, dotted keys and unicode', () => {
    expect(parseLogfmt('status=200 empty= quoted="" http.method=GET 用户=张三')).toEqual({
      status: '200',
      empty: '',
      quoted: '',
      'http.method': 'GET',
      用户: '张三',
    });
  });

  it('adds __proto__ as a field, never as a prototype', () => {
    const fields = parseLogfmt('__proto__=x a=1')!;
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(JSON.stringify(fields)).toBe('{"__proto__":"x","a":"1"}');
  });

  it.each(['just some words', 'msg="never closed', 'msg="escape at end\\"', '=value', '"quoted" key=v', ''])(
    'refuses %j',
    (line) => {
      expect(parseLogfmt(line)).toBeUndefined();
    },
  );
});
