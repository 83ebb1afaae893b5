import { sortedLabels } from '../rules/labels.ts';
import type { Labels } from '../types.ts';
import type { AlertOwner, WantedAlert } from './probe-alerts.ts';

/** The alert a location whose probe agents stopped reporting fires (`alertname`), with a `location` label. */
export const PROBE_AGENT_DOWN = 'ProbeAgentDown';

/** A location as the owner of its ProbeAgentDown, which links to the agents' list. */
export function locationOwner(location: string, checkIntervalMs: number): AlertOwner {
  return { key: `@${location}`, path: '/api/probe-agents', intervalMs: checkIntervalMs };
}

/**
 * ProbeAgentDown for a location none of whose agents has reported lately;
 * `lastReportMs` 0 when none has since alert-rules started.
 */
export function agentDownAlerts(
  location: string,
  lastReportMs: number,
  targets: number,
  labels: Labels,
  nowMs: number,
): WantedAlert[] {
  const since =
    lastReportMs === 0
      ? 'none has reported since alert-rules started'
      : `none has reported since ${new Date(lastReportMs).toISOString()}`;
  const probed =
    targets === 1 ? 'Its 1 target is judged by its' : `Its ${targets} targets are judged by their`;
  return [
    {
      labels: sortedLabels({ ...labels, alertname: PROBE_AGENT_DOWN, location }),
      annotations: {
        summary: `The probe agents at ${location} do not report`,
        description: `No probe agent at ${location} reports: ${since}. ${probed} other locations meanwhile; what ${location} saw before does not count.`,
      },
      activeAtMs: lastReportMs || nowMs,
    },
  ];
}
