import { describe, expect, it } from 'vitest';
import { findRecordHeader, RECORD_HEADER, recordHeaders } from './headers.ts';

describe('findRecordHeader', () => {
  const entry = (key: string, value: string) => [Buffer.from(key), Buffer.from(value)] as const;

  it('finds the header the producer writes among the record’s headers, as bytes', () => {
    const written = [...recordHeaders('k1', 1_700_000_000_123)];
    expect(findRecordHeader([entry('trace', 'x'), ...written])?.toString()).toBe('1700000000123 k1');
  });

  it('takes the first of a header sent twice, and nothing from a header of another name', () => {
    expect(findRecordHeader([entry(RECORD_HEADER, '1 a'), entry(RECORD_HEADER, '2 b')])?.toString()).toBe(
      '1 a',
    );
    expect(
      findRecordHeader([entry('lookout-recorder', '1 a'), entry('lookout-recor', '1 a')]),
    ).toBeUndefined();
    expect(findRecordHeader([])).toBeUndefined();
  });
});
