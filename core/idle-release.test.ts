import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleRelease } from './idle-release.ts';

describe('IdleRelease', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('releases once the last touch is idleMs old, and not while touched', () => {
    vi.useFakeTimers();
    const release = vi.fn();
    const idle = new IdleRelease(1000, release);
    idle.touch();
    vi.advanceTimersByTime(600);
    idle.touch();
    vi.advanceTimersByTime(600);
    expect(release).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(release).toHaveBeenCalledOnce();
  });

  it('then collects garbage once for releases close together, where gc is exposed', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    vi.stubGlobal('gc', gc);
    const first = new IdleRelease(1000, () => {});
    const second = new IdleRelease(1050, () => {});
    first.touch();
    second.touch();
    vi.advanceTimersByTime(1050);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(gc).toHaveBeenCalledOnce();
    expect(gc).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  });

  it('does not collect while other memory kept for reuse is in use', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    vi.stubGlobal('gc', gc);
    const done = new IdleRelease(1000, () => {});
    const busy = new IdleRelease(1000, () => {});
    done.touch();
    for (let ms = 0; ms < 3000; ms += 200) {
      busy.touch();
      vi.advanceTimersByTime(200);
    }
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1100);
    expect(gc).toHaveBeenCalledOnce();
  });

  it('releases without collecting where gc is not exposed', () => {
    vi.useFakeTimers();
    vi.stubGlobal('gc', undefined);
    const release = vi.fn();
    new IdleRelease(1000, release).touch();
    vi.advanceTimersByTime(2000);
    expect(release).toHaveBeenCalledOnce();
  });
});
