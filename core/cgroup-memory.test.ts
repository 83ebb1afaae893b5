import { describe, expect, it } from 'vitest';
import { cgroupMemoryLimit } from './cgroup-memory.ts';

const files = (contents: Record<string, string>) => (path: string) => contents[path];

describe('cgroupMemoryLimit', () => {
  it('reads cgroup v2, then v1', () => {
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': '268435456\n' }))).toBe(268_435_456);
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '536870912\n' }))).toBe(
      536_870_912,
    );
  });

  it('finds no limit where there is none', () => {
    expect(cgroupMemoryLimit(files({}))).toBeUndefined();
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBeUndefined();
    expect(
      cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' })),
    ).toBeUndefined();
  });
});
