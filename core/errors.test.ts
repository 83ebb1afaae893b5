import { describe, expect, it } from 'vitest';
import { describeError } from './errors.ts';

describe('describeError', () => {
  it('names each step of an aggregate down to the broker’s own words', () => {
    const refusal = Object.assign(new Error('SASL authentication failed.'), {
      serverErrorMessage: 'invalid credentials with SASL mechanism SCRAM-SHA-512',
    });
    const connection = new Error('Connection to 127.0.0.1:9093 failed.', { cause: refusal });
    const err = new AggregateError([connection], 'initProducerId failed 3 times.');
    expect(describeError(err)).toBe(
      'initProducerId failed 3 times: Connection to 127.0.0.1:9093 failed: SASL authentication failed: invalid credentials with SASL mechanism SCRAM-SHA-512',
    );
  });

  it('keeps a plain error or a thrown value readable', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('text')).toBe('text');
  });
});
