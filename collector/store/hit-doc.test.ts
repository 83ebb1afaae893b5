import { describe, expect, it } from 'vitest';
import { boundedDoc, DEPTH_CUT, MAX_HIT_DEPTH } from './hit-doc.ts';

const nested = (levels: number, open: string, close: string) =>
  JSON.parse(`{"message":"deep","a":${open.repeat(levels)}1${close.repeat(levels)}}`);

describe('boundedDoc', () => {
  it('leaves an ordinary document as it is', () => {
    const doc = { message: 'x', kubernetes: { pod: { name: 'p' } }, tags: [['a'], { b: [1] }] };
    expect(boundedDoc(structuredClone(doc))).toEqual(doc);
  });

  it('cuts objects and arrays nested past the limit, so the answer can be serialised', () => {
    for (const [open, close] of [
      ['{"a":', '}'],
      ['[', ']'],
    ] as const) {
      const doc = boundedDoc(nested(50_000, open, close));
      const text = JSON.stringify(doc);
      expect(text).toContain(DEPTH_CUT);
      expect(doc.message).toBe('deep');
      expect(text.split(open === '[' ? '[' : '{').length - 1).toBeLessThanOrEqual(MAX_HIT_DEPTH);
    }
  });

  it('keeps a document exactly at the limit whole', () => {
    // The root is level 1, `a` level 2: levels - 1 objects below it reach the limit.
    const doc = nested(MAX_HIT_DEPTH - 1, '{"a":', '}');
    expect(JSON.stringify(boundedDoc(structuredClone(doc)))).toBe(JSON.stringify(doc));
    expect(JSON.stringify(boundedDoc(nested(MAX_HIT_DEPTH, '{"a":', '}')))).toContain(DEPTH_CUT);
  });
});
