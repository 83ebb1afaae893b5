import { describe, expect, it } from 'vitest';
import { heapFlags, memoryLimit, relaunchArguments } from './memory-limit.ts';

const MiB = 1024 ** 2;
const proc = (execArgv: string[] = [], env: NodeJS.ProcessEnv = {}, command = 'sidecar') => ({
  execPath: '/usr/bin/node',
  execArgv,
  argv: ['/usr/bin/node', 'bin/lookout.js', command, '--config', 'c.yaml'],
  env,
});

describe('heap sizes under a memory limit', () => {
  it('sees a limit only below the machine memory', () => {
    expect(memoryLimit(128 * MiB, 16 * 1024 * MiB)).toBe(128 * MiB);
    // Without a limit Node reports 0, or a number larger than the machine (cgroup "max").
    expect(memoryLimit(0, 16 * 1024 * MiB)).toBeUndefined();
    expect(memoryLimit(2 ** 64, 16 * 1024 * MiB)).toBeUndefined();
  });

  it('keeps the heap within half of the limit, the young generation small', () => {
    expect(heapFlags(64 * MiB)).toEqual(['--max-old-space-size=29', '--max-semi-space-size=1']);
    expect(heapFlags(100 * MiB)).toEqual(['--max-old-space-size=44', '--max-semi-space-size=2']);
    expect(heapFlags(128 * MiB)).toEqual(['--max-old-space-size=52', '--max-semi-space-size=4']);
    expect(heapFlags(256 * MiB)).toEqual(['--max-old-space-size=116', '--max-semi-space-size=4']);
    expect(heapFlags(1024 * MiB)).toEqual(['--max-old-space-size=488', '--max-semi-space-size=8']);
    expect(heapFlags(20 * MiB)).toEqual(['--max-old-space-size=16', '--max-semi-space-size=1']);
  });

  it('starts again with those sizes before the rest of the arguments', () => {
    expect(relaunchArguments(proc(['--enable-source-maps'], {}, 'collector'), 128 * MiB)?.args).toEqual([
      '/usr/bin/node',
      '--max-old-space-size=52',
      '--max-semi-space-size=4',
      '--enable-source-maps',
      'bin/lookout.js',
      'collector',
      '--config',
      'c.yaml',
    ]);
  });

  it('keeps the sidecar to the heap of a 128 MiB limit where there is none, with gc exposed', () => {
    expect(relaunchArguments(proc(), undefined)?.args.slice(1, 4)).toEqual([
      '--max-old-space-size=52',
      '--max-semi-space-size=4',
      '--expose-gc',
    ]);
    expect(relaunchArguments(proc(), 512 * MiB)?.args.slice(1, 4)).toEqual([
      '--max-old-space-size=232',
      '--max-semi-space-size=8',
      '--expose-gc',
    ]);
  });

  it('gives the allocator two arenas, unless the environment says otherwise', () => {
    expect(relaunchArguments(proc([], { TZ: 'UTC' }), 128 * MiB)?.env).toEqual({
      TZ: 'UTC',
      MALLOC_ARENA_MAX: '2',
    });
    expect(relaunchArguments(proc([], { MALLOC_ARENA_MAX: '8' }), 128 * MiB)?.env).toEqual({
      MALLOC_ARENA_MAX: '8',
    });
  });

  it('leaves sizes chosen on the command line or in NODE_OPTIONS alone, and a process without a limit', () => {
    expect(relaunchArguments(proc(['--max-old-space-size=100']), 128 * MiB)).toBeUndefined();
    expect(
      relaunchArguments(proc([], { NODE_OPTIONS: '--max-semi-space-size=4' }), 128 * MiB),
    ).toBeUndefined();
    expect(relaunchArguments(proc([], {}, 'collector'), undefined)).toBeUndefined();
  });
});
