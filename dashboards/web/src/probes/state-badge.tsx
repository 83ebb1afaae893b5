import type { ProbeState } from './types.ts';

export function StateBadge({ state }: { state: ProbeState }) {
  return <span class={`state state-${state}`}>{state}</span>;
}
