import { describe, expect, it } from 'vitest';
import { defaultMaxBytesInFlight, fetchSizes, InFlightBytes } from './in-flight.ts';

describe('InFlightBytes', () => {
  it('has room while less than the budget is held, and reports every change', () => {
    const seen: number[] = [];
    const bytes = new InFlightBytes(100, (held) => seen.push(held));
    bytes.hold(60);
    expect(bytes.hasRoom).toBe(true);
    bytes.hold(60);
    expect(bytes.hasRoom).toBe(false);
    bytes.release(30);
    expect(bytes.hasRoom).toBe(true);
    expect(seen).toEqual([60, 120, 90]);
  });

  it('lets a wait for room go on at the release that makes it', async () => {
    const bytes = new InFlightBytes(100);
    bytes.hold(150);
    let resolved: boolean | undefined;
    const waiting = bytes.room(() => false, 60_000).then((go) => (resolved = go));
    bytes.release(20);
    await Promise.resolve();
    expect(resolved).toBeUndefined();
    bytes.release(50);
    expect(await waiting).toBe(true);
  });

  it('gives up a wait when told to stop, asked again at every recheck', async () => {
    const bytes = new InFlightBytes(100);
    bytes.hold(100);
    let stop = false;
    const waiting = bytes.room(() => stop, 10);
    stop = true;
    expect(await waiting).toBe(false);
  });
});

describe('fetch sizes and the default budget', () => {
  const MiB = 1024 ** 2;

  it('fetches a sixteenth of the budget, compressed, at most 1 MiB of it from one partition', () => {
    expect(fetchSizes(16 * MiB)).toEqual({ maxBytes: MiB, maxBytesPerPartition: MiB });
    expect(fetchSizes(64 * MiB)).toEqual({ maxBytes: 4 * MiB, maxBytesPerPartition: MiB });
    expect(fetchSizes(MiB)).toEqual({ maxBytes: 64 * 1024, maxBytesPerPartition: 64 * 1024 });
  });

  it('takes an eighth of a container memory limit, at most 16 MiB', () => {
    expect(defaultMaxBytesInFlight(undefined)).toBe(16 * MiB);
    expect(defaultMaxBytesInFlight(1024 * MiB)).toBe(16 * MiB);
    expect(defaultMaxBytesInFlight(64 * MiB)).toBe(8 * MiB);
  });
});
