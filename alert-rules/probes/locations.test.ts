import { describe, expect, it } from 'vitest';
import { testTarget } from './fixtures/fakes.ts';
import { type Combined, combineLocations, type PlaceState } from './locations.ts';
import { initialState, type TargetState } from './target-state.ts';

const T0 = Date.UTC(2026, 0, 1);
const target = testTarget('shop', { locations: ['a', 'b', 'c'] });
const UNKNOWN: Combined = { reported: 'unknown', sinceMs: 0 };

const seen = (health: TargetState['health'], extra: Partial<TargetState> = {}): TargetState => ({
  ...initialState(),
  health,
  healthSinceMs: T0,
  lastResultAtMs: health === 'unknown' ? 0 : T0,
  lastFailure: health === 'up' ? '' : `${health} here`,
  ...extra,
});

const places = (...states: [TargetState, boolean?][]): PlaceState[] =>
  states.map(([state, counted = true], i) => ({ location: 'abc'[i]!, state, counted }));

const reported = (...states: [TargetState, boolean?][]) =>
  combineLocations(target, places(...states), UNKNOWN, T0).combined.reported;

describe('combineLocations', () => {
  it('is down at locationsDown locations down, and otherwise what most of them say', () => {
    expect(target.locationsDown).toBe(2);
    expect(reported([seen('down')], [seen('down')], [seen('up')])).toBe('down');
    expect(reported([seen('down')], [seen('up')], [seen('up')])).toBe('up');
    expect(reported([seen('down')], [seen('pending')], [seen('up')])).toBe('pending');
    expect(reported([seen('unknown')], [seen('unknown')], [seen('unknown')])).toBe('unknown');
    const flapping = seen('up', { flappingSinceMs: T0 });
    expect(reported([seen('down')], [flapping], [seen('up')])).toBe('flapping');
  });

  it('leaves out the locations that do not count', () => {
    expect(reported([seen('down')], [seen('down'), false], [seen('up')])).toBe('up');
    expect(reported([seen('down')], [seen('down'), false], [seen('down')])).toBe('down');
  });

  it('keeps since when the combined state began, and lists the failing locations oldest first', () => {
    const first = combineLocations(
      target,
      places(
        [seen('down', { healthSinceMs: T0 + 5 })],
        [seen('down', { healthSinceMs: T0 + 1 })],
        [seen('up')],
      ),
      UNKNOWN,
      T0 + 10,
    );
    expect(first.combined).toEqual({ reported: 'down', sinceMs: T0 + 10 });
    expect(first.seen.failing.map((f) => f.location)).toEqual(['b', 'a']);
    expect(first.seen).toMatchObject({ counted: 3, total: 3, needed: 2 });
    const later = combineLocations(
      target,
      places([seen('down')], [seen('down')], [seen('up')]),
      first.combined,
      T0 + 99,
    );
    expect(later.combined.sinceMs).toBe(T0 + 10);
    expect(later.state.healthSinceMs).toBe(T0 + 10);
  });

  it('takes the earliest certificate expiry the counted locations know', () => {
    const { state } = combineLocations(
      target,
      places(
        [seen('up', { certificateExpiresAtMs: T0 + 9 })],
        [seen('up', { certificateExpiresAtMs: T0 + 3 }), false],
        [seen('up', { certificateExpiresAtMs: T0 + 5 })],
      ),
      UNKNOWN,
      T0,
    );
    expect(state.certificateExpiresAtMs).toBe(T0 + 5);
  });
});
