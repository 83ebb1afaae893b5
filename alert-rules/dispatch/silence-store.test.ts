import { describe, expect, it } from 'vitest';
import { mergeSilences, parseSilences, type Silence, serializeSilences } from './silence-store.ts';

const silence = (id: string, updatedAt: number, comment = ''): Silence => ({
  id,
  matchers: [{ name: 'a', value: 'b', isRegex: false, isEqual: true }],
  startsAt: 0,
  endsAt: 1_000,
  updatedAt,
  createdBy: 'alice',
  comment,
});

describe('stored silences', () => {
  it('read back what they wrote', () => {
    const list = [silence('1', 5, 'x'), silence('2', 6)];
    expect(parseSilences(serializeSilences(list))).toEqual(list);
  });

  it.each([
    ['{"version":2,"silences":[]}', 'unknown format version 2'],
    ['{"version":1}', 'no list of silences'],
    ['{"version":1,"silences":[{"id":"1","matchers":[]}]}', 'silences[0].startsAt: not a time'],
    [
      '{"version":1,"silences":[{"id":"1","matchers":[{"name":"a"}]}]}',
      'silences[0].matchers[0]: not a matcher',
    ],
  ])('refuse %s', (json, message) => {
    expect(() => parseSilences(json)).toThrow(message);
  });

  it('merge two views, the version updated last winning', () => {
    const merged = mergeSilences(
      [silence('1', 5, 'ours'), silence('2', 1, 'ours')],
      [silence('2', 9, 'theirs'), silence('3', 1)],
    );
    expect(merged.map((s) => `${s.id}:${s.comment || '-'}`).sort()).toEqual(['1:ours', '2:theirs', '3:-']);
  });
});
