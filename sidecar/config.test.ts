import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { sidecarSchema } from './config.ts';

const heap = getHeapStatistics().heap_size_limit;
const base = { inputs: [{ paths: ['/var/log/app/*.log'] }], sinks: { http: { url: 'http://127.0.0.1:1/' } } };

describe('sidecar configuration', () => {
  it('refuses an event size its heap cannot make a record of, naming the setting', () => {
    const result = sidecarSchema.safeParse({
      ...base,
      maxLineBytes: heap,
      inputs: [{ paths: ['/x/*.log'], multiline: { preset: 'java', maxBytes: heap } }],
      fileLogs: { input: { multiline: { preset: 'java', maxBytes: heap } } },
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual([
      'maxLineBytes',
      'inputs.0.multiline.maxBytes',
      'fileLogs.input.multiline.maxBytes',
    ]);
    expect(result.error!.issues[0]!.message).toMatch(/heap .* can make a record of; at most \d+ MiB here/);
  });

  it('takes sizes up to a quarter of the heap', () => {
    expect(sidecarSchema.safeParse({ ...base, maxLineBytes: Math.floor(heap / 4) }).success).toBe(true);
  });
});
