import { describe, expect, it } from 'vitest';
import { encodeWriteRequest } from './write-request.ts';

describe('encodeWriteRequest', () => {
  it('writes the protobuf bytes of a WriteRequest', () => {
    const encoded = encodeWriteRequest([
      { labels: [['__name__', 'a']], samples: [{ value: 1, timeMs: 1000 }] },
    ]);
    const label = ['0a08', Buffer.from('__name__').toString('hex'), '1201', '61'].join('');
    const sample = ['09', '000000000000f03f', '10e807'].join('');
    const series = `0a0d${label}120c${sample}`;
    expect(encoded.toString('hex')).toBe(`0a1d${series}`);
  });

  it('writes several series with several samples, UTF-8 values, special and negative numbers', () => {
    const encoded = encodeWriteRequest([
      {
        labels: [
          ['__name__', 'x'],
          ['city', 'Zürich'],
        ],
        samples: [{ value: Number.NaN, timeMs: 1_700_000_000_000 }],
      },
      {
        labels: [['__name__', 'y']],
        samples: [
          { value: -Infinity, timeMs: -1 },
          { value: 0.5, timeMs: 0 },
        ],
      },
    ]);
    const hex = encoded.toString('hex');
    expect(hex).toContain(Buffer.from('Zürich').toString('hex'));
    expect(hex).toContain('10ffffffffffffffffff01'); // timestamp -1 as ten bytes
    expect(hex).toContain('000000000000f0ff'); // -Inf
    expect(encodeWriteRequest([]).length).toBe(0);
  });
});
