import { describe, expect, it } from 'vitest';
import { unquoteGo } from './go-string.ts';

describe('unquoteGo', () => {
  it('reads escapes, bytes and unicode', () => {
    expect(unquoteGo('"say \\"hi\\"\\n\\t\\\\"')).toBe('say "hi"\n\t\\');
    expect(unquoteGo('"\\xe4\\xb8\\xad\\u00e9\\U0001F680\\101"')).toBe('中é🚀A');
  });

  it('refuses malformed quoting', () => {
    expect(unquoteGo('"unterminated')).toBeUndefined();
    expect(unquoteGo('"bad \\q escape"')).toBeUndefined();
    expect(unquoteGo('"trailing \\"')).toBeUndefined();
    expect(unquoteGo('"\\x4"')).toBeUndefined();
    expect(unquoteGo('""')).toBe('');
  });
});
