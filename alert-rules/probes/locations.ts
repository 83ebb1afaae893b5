import type { LocationsSeen } from './probe-alerts.ts';
import type { ProbeTarget } from './target-config.ts';
import { initialState, type ReportedState, reportedState, type TargetState } from './target-state.ts';

/** A target's state as its locations together make it, and since when it has been so. */
export interface Combined {
  reported: ReportedState;
  sinceMs: number;
}

/** One location's own state of a target, and whether it counts (its agent reports). */
export interface PlaceState {
  location: string;
  state: TargetState;
  counted: boolean;
}

/** When a location began to see the target as it reports it now. */
function sinceOf(state: TargetState): number {
  return reportedState(state) === 'flapping' ? state.flappingSinceMs : state.healthSinceMs;
}

/**
 * The state of a target probed from several locations, from what each
 * counted location sees: down when at least `locationsDown` of them see it
 * down; flapping when that many see it down or flapping but fewer down;
 * pending when that many are failing; up once any has a result. A location
 * whose agent does not report counts for nothing. The result is a
 * TargetState as the alerts take it, whose `since` is when this combined
 * state began (`previous` carries it from one call to the next).
 */
export function combineLocations(
  target: ProbeTarget,
  places: readonly PlaceState[],
  previous: Combined,
  nowMs: number,
): { state: TargetState; seen: LocationsSeen; combined: Combined } {
  const counted = places.filter((place) => place.counted);
  const is = (...states: ReportedState[]) =>
    counted.filter((place) => states.includes(reportedState(place.state)));
  const needed = target.locationsDown;
  const bad = is('down', 'flapping');
  const failingAtAll = is('down', 'flapping', 'pending');
  let reported: ReportedState = 'unknown';
  if (is('down').length >= needed) reported = 'down';
  else if (bad.length >= needed) reported = 'flapping';
  else if (failingAtAll.length >= needed) reported = 'pending';
  else if (counted.some((place) => place.state.lastResultAtMs > 0)) reported = 'up';
  const sinceMs = reported === previous.reported ? previous.sinceMs : nowMs;

  const failing = bad
    .map(({ location, state }) => ({ location, failure: state.lastFailure, sinceMs: sinceOf(state) }))
    .sort((a, b) => a.sinceMs - b.sinceMs);
  const expiries = counted.map((place) => place.state.certificateExpiresAtMs).filter((ms) => ms > 0);
  const state: TargetState = {
    ...initialState(),
    health: reported === 'flapping' ? 'down' : reported,
    healthSinceMs: reported === 'flapping' ? 0 : sinceMs,
    flappingSinceMs: reported === 'flapping' ? sinceMs : 0,
    lastFailure: failingAtAll.map(({ location, state }) => `${location}: ${state.lastFailure}`).join('; '),
    lastResultAtMs: Math.max(0, ...places.map((place) => place.state.lastResultAtMs)),
    certificateExpiresAtMs: expiries.length > 0 ? Math.min(...expiries) : 0,
  };
  return {
    state,
    seen: { failing, counted: counted.length, total: places.length, needed },
    combined: { reported, sinceMs },
  };
}
