import { describe, expect, it } from 'vitest';
import { highlightTerms } from './query.ts';

describe('highlightTerms', () => {
  it('highlights words and phrases, not negated ones, operators or field terms', () => {
    expect(highlightTerms('Timeout AND "connection reset" NOT debug -healthz (refused)')).toEqual([
      'timeout',
      'connection reset',
      'refused',
    ]);
    expect(highlightTerms('log.level:error pod:"api 7f9" -kubernetes.namespace:shop order')).toEqual([
      'order',
    ]);
  });

  it('highlights message: terms as the text they search, and text with colons as text', () => {
    expect(highlightTerms('message:timeout message:"disk full"')).toEqual(['timeout', 'disk full']);
    expect(highlightTerms('12:30:01 ERROR: http://x/y a::b C:\\logs "level:error"')).toEqual([
      '12:30:01',
      'error:',
      'http://x/y',
      'a::b',
      'c:\\logs',
      'level:error',
    ]);
  });
});
