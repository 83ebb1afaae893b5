import type { ProbeTarget } from './target-config.ts';
import type { ProbeResult } from './types.ts';

/** What the results of the probes say so far, flapping aside. */
export type Health = 'unknown' | 'up' | 'pending' | 'down';

/** What a target is reported as: its health, unless it flaps. */
export type ReportedState = Health | 'flapping';

export const REPORTED_STATES: readonly ReportedState[] = ['unknown', 'up', 'pending', 'down', 'flapping'];

/** One target's state, plain data so that it is saved and restored as it is. Times are Unix ms, 0 never. */
export interface TargetState {
  health: Health;
  healthSinceMs: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** When the current run of failures began. */
  failingSinceMs: number;
  lastFailure: string;
  lastResultAtMs: number;
  /** Results taken, numbering the probes for the flapping window. */
  probes: number;
  /** The numbers of the probes at which the target went down or came back up, within the flapping window. */
  changes: number[];
  flappingSinceMs: number;
  /** The earliest expiry of the target's certificates at the last probe that showed them; 0: none known. */
  certificateExpiresAtMs: number;
}

export function initialState(): TargetState {
  return {
    health: 'unknown',
    healthSinceMs: 0,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    failingSinceMs: 0,
    lastFailure: '',
    lastResultAtMs: 0,
    probes: 0,
    changes: [],
    flappingSinceMs: 0,
    certificateExpiresAtMs: 0,
  };
}

export function reportedState(state: TargetState): ReportedState {
  return state.flappingSinceMs !== 0 ? 'flapping' : state.health;
}

export interface StateChange {
  from: ReportedState;
  to: ReportedState;
}

/**
 * Takes one result into the state at `atMs`: failures make an up target
 * pending, and down after `failuresBeforeDown` in a row; a down target is up
 * after `successesBeforeUp` successes in a row. Going down and coming back up
 * are the changes flapping counts. Returns the change of the reported state,
 * if any.
 */
export function applyResult(
  state: TargetState,
  result: ProbeResult,
  target: ProbeTarget,
  atMs: number,
): StateChange | undefined {
  const before = reportedState(state);
  state.probes++;
  state.lastResultAtMs = atMs;
  // A success without certificates means the target no longer speaks TLS; a failure tells nothing about them.
  if (result.certificateExpiresAtMs !== undefined || result.success)
    state.certificateExpiresAtMs = result.certificateExpiresAtMs ?? 0;

  const health = result.success ? afterSuccess(state, target) : afterFailure(state, result, target, atMs);
  if (health !== state.health) {
    if (health === 'down' || (health === 'up' && state.health === 'down')) state.changes.push(state.probes);
    state.health = health;
    state.healthSinceMs = atMs;
  }
  updateFlapping(state, target, atMs);

  const after = reportedState(state);
  return after === before ? undefined : { from: before, to: after };
}

function afterSuccess(state: TargetState, target: ProbeTarget): Health {
  state.consecutiveFailures = 0;
  state.failingSinceMs = 0;
  state.consecutiveSuccesses++;
  if (state.health === 'down' && state.consecutiveSuccesses < target.successesBeforeUp) return 'down';
  return 'up';
}

function afterFailure(state: TargetState, result: ProbeResult, target: ProbeTarget, atMs: number): Health {
  state.consecutiveSuccesses = 0;
  if (state.consecutiveFailures === 0) state.failingSinceMs = atMs;
  state.consecutiveFailures++;
  state.lastFailure = result.failure ?? 'failed';
  if (state.health === 'down' || state.consecutiveFailures >= target.failuresBeforeDown) return 'down';
  return 'pending';
}

/** Flapping starts at `stateChanges` changes within the window and ends once the window holds none. */
function updateFlapping(state: TargetState, target: ProbeTarget, atMs: number): void {
  const { stateChanges, probes } = target.flapping;
  const oldest = state.probes - probes;
  while ((state.changes[0] ?? Number.POSITIVE_INFINITY) <= oldest) state.changes.shift();
  if (state.flappingSinceMs === 0) {
    if (stateChanges > 0 && state.changes.length >= stateChanges) state.flappingSinceMs = atMs;
  } else if (state.changes.length === 0 || stateChanges === 0) {
    state.flappingSinceMs = 0;
  }
}

const DAY_MS = 86_400_000;

/** The expiry thresholds (days) the target's certificate has crossed at `nowMs`, largest first. */
export function crossedExpiryThresholds(state: TargetState, target: ProbeTarget, nowMs: number): number[] {
  if (state.certificateExpiresAtMs === 0) return [];
  const left = state.certificateExpiresAtMs - nowMs;
  return target.certificateExpiryDays.filter((days) => left <= days * DAY_MS);
}
