import { describe, expect, it } from 'vitest';
import { InFlightBytes } from './in-flight.ts';

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
