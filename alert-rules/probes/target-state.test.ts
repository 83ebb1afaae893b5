import { describe, expect, it } from 'vitest';
import { testTarget } from './fixtures/fakes.ts';
import type { ProbeTarget } from './target-config.ts';
import {
  applyResult,
  crossedExpiryThresholds,
  initialState,
  type ReportedState,
  reportedState,
  type TargetState,
} from './target-state.ts';
import type { ProbeResult } from './types.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

const ok = (extra: Partial<ProbeResult> = {}): ProbeResult => ({
  success: true,
  startedAtMs: 0,
  durationMs: 10,
  samples: [],
  ...extra,
});
const failed = (failure = 'status 503'): ProbeResult => ({ ...ok(), success: false, failure });

/** Applies results one a minute and returns the reported state after each. */
function run(state: TargetState, target: ProbeTarget, results: ProbeResult[]): ReportedState[] {
  return results.map((result) => {
    applyResult(state, result, target, T0 + state.probes * 60_000);
    return reportedState(state);
  });
}

describe('applyResult', () => {
  it('is pending after fewer failures in a row than failuresBeforeDown, then down', () => {
    const target = testTarget('shop', { failuresBeforeDown: 3 });
    const state = initialState();
    expect(run(state, target, [ok(), failed(), failed(), failed(), failed()])).toEqual([
      'up',
      'pending',
      'pending',
      'down',
      'down',
    ]);
    expect(state.healthSinceMs).toBe(T0 + 3 * 60_000);
    expect(state.lastFailure).toBe('status 503');
  });

  it('goes back to up from pending on one success, with no change of health reported for flapping', () => {
    const target = testTarget('shop', { failuresBeforeDown: 3 });
    const state = initialState();
    expect(run(state, target, [ok(), failed(), failed(), ok()])).toEqual(['up', 'pending', 'pending', 'up']);
    expect(state.changes).toEqual([]);
  });

  it('is down on the first failure with failuresBeforeDown 1', () => {
    const state = initialState();
    expect(run(state, testTarget('shop', { failuresBeforeDown: 1 }), [failed()])).toEqual(['down']);
  });

  it('is up again only after successesBeforeUp successes in a row', () => {
    const target = testTarget('shop', { failuresBeforeDown: 1, successesBeforeUp: 2 });
    const state = initialState();
    expect(run(state, target, [failed(), ok(), failed(), ok(), ok()])).toEqual([
      'down',
      'down',
      'down',
      'down',
      'up',
    ]);
  });

  it('reports the change of the reported state only', () => {
    const target = testTarget('shop', { failuresBeforeDown: 2 });
    const state = initialState();
    expect(applyResult(state, ok(), target, T0)).toEqual({ from: 'unknown', to: 'up' });
    expect(applyResult(state, ok(), target, T0)).toBeUndefined();
    expect(applyResult(state, failed(), target, T0)).toEqual({ from: 'up', to: 'pending' });
    expect(applyResult(state, failed(), target, T0)).toEqual({ from: 'pending', to: 'down' });
    expect(applyResult(state, failed(), target, T0)).toBeUndefined();
  });
});

describe('flapping', () => {
  const target = testTarget('shop', { failuresBeforeDown: 1, flapping: { stateChanges: 4, probes: 10 } });

  it('starts at the fourth up or down within the window and ends once the window holds none', () => {
    const state = initialState();
    const states = run(state, target, [ok(), failed(), ok(), failed(), ok(), failed(), ok()]);
    expect(states).toEqual(['up', 'down', 'up', 'down', 'flapping', 'flapping', 'flapping']);
    expect(state.flappingSinceMs).toBe(T0 + 4 * 60_000);
    // The last change was at probe 7; the window of 10 is clear of it at probe 17.
    expect(
      run(
        state,
        target,
        Array.from({ length: 10 }, () => ok()),
      ).at(-2),
    ).toBe('flapping');
    expect(reportedState(state)).toBe('up');
    expect(state.flappingSinceMs).toBe(0);
  });

  it('does not flap when the changes are spread wider than the window', () => {
    const state = initialState();
    const slow = [failed(), ...Array(9).fill(ok())];
    expect(run(state, target, [...slow, ...slow])).not.toContain('flapping');
  });

  it('never flaps with stateChanges 0', () => {
    const never = testTarget('shop', { failuresBeforeDown: 1, flapping: { stateChanges: 0 } });
    const state = initialState();
    expect(
      run(
        state,
        never,
        Array.from({ length: 20 }, (_, i) => (i % 2 ? ok() : failed())),
      ),
    ).not.toContain('flapping');
  });
});

describe('certificate expiry', () => {
  const target = testTarget('shop');

  it('crosses the thresholds as the expiry comes nearer, largest first', () => {
    const state = initialState();
    applyResult(state, ok({ certificateExpiresAtMs: T0 + 30 * DAY }), target, T0);
    expect(crossedExpiryThresholds(state, target, T0)).toEqual([]);
    expect(crossedExpiryThresholds(state, target, T0 + 9 * DAY)).toEqual([21]);
    expect(crossedExpiryThresholds(state, target, T0 + 16 * DAY)).toEqual([21, 14]);
    expect(crossedExpiryThresholds(state, target, T0 + 40 * DAY)).toEqual([21, 14, 7]);
  });

  it('keeps the expiry through failures and forgets it on a success without certificates', () => {
    const state = initialState();
    applyResult(state, ok({ certificateExpiresAtMs: T0 + 10 * DAY }), target, T0);
    applyResult(state, failed('connect: connection refused'), target, T0);
    expect(crossedExpiryThresholds(state, target, T0)).toEqual([21, 14]);
    applyResult(state, ok(), target, T0);
    expect(crossedExpiryThresholds(state, target, T0)).toEqual([]);
  });

  it('uses the configured thresholds', () => {
    const custom = testTarget('shop', { certificateExpiryDays: [3, 30, 30] });
    expect(custom.certificateExpiryDays).toEqual([30, 3]);
    const state = initialState();
    applyResult(state, ok({ certificateExpiresAtMs: T0 + 2 * DAY }), custom, T0);
    expect(crossedExpiryThresholds(state, custom, T0)).toEqual([30, 3]);
  });
});
