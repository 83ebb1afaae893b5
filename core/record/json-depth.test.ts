import { describe, expect, it } from 'vitest';
import { jsonBeyondLimits, pruneDeeperThan } from './json-depth.ts';

const text = (value: string) => value;
const nestedDeeperThan = (json: string, maxDepth: number) =>
  jsonBeyondLimits(json, { maxDepth }) !== undefined;

describe('jsonBeyondLimits', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(nestedDeeperThan(text('{"a":[1,{"b":2}]}'), 3)).toBe(false);
    expect(nestedDeeperThan(text('{"a":[1,{"b":[2]}]}'), 3)).toBe(true);
    expect(nestedDeeperThan(text('{"a":"[[[[{{{{"}'), 1)).toBe(false);
    expect(nestedDeeperThan(text('{"a":"\\"[[[[","b":"\\\\"}'), 1)).toBe(false);
    expect(nestedDeeperThan(text('{"a":"\\\\",  "b":[[1]]}'), 2)).toBe(true);
    expect(nestedDeeperThan(text('{"a":{},"b":{},"c":{}}'), 2)).toBe(false);
  });

  it('measures a line 100,000 deep without recursion', () => {
    expect(nestedDeeperThan(text(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 64)).toBe(true);
  });
});

describe('pruneDeeperThan', () => {
  it('replaces what is deeper than the limit by null, leaving strings alone', () => {
    const pruned = pruneDeeperThan(text('{"a":{"b":{"c":[1]},"s":"{[\\"]}"},"d":[[[]]]}'), 2);
    expect(JSON.parse(pruned)).toEqual({ a: { b: null, s: '{["]}' }, d: [null] });
  });

  it('leaves invalid JSON invalid', () => {
    expect(() => JSON.parse(pruneDeeperThan(text('{"a":[[[[1]]]'), 2))).toThrow();
  });
});
