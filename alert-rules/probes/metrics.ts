import type { MetricCatalogue } from '../../core/metrics.ts';

/** From a millisecond to well past the one-second goal for a probe's start delay. */
const START_DELAY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** The probe scheduler's own metrics (the probes' results are exported as blackbox_exporter names them). */
export const PROBE_SCHEDULER_METRICS = {
  probes: {
    type: 'counter',
    name: 'probes_total',
    help: 'Probes run, by outcome (success, failure); results of probes aborted because their target was removed or changed are not counted',
    labels: ['outcome'],
  },
  skipped: {
    type: 'counter',
    name: 'probes_skipped_total',
    help: "Probes not started when due: the target's previous probe was still running (running) or still waiting for a slot (waiting), or whole intervals passed while the process was held up (late)",
    labels: ['reason'],
  },
  abandoned: {
    type: 'counter',
    name: 'probes_abandoned_total',
    help: 'Probes that did not stop within abandonAfter of their timeout; recorded as timed out',
  },
  startDelay: {
    type: 'histogram',
    name: 'probes_start_delay_seconds',
    help: 'How late each probe started after its due time (waiting for a slot under the concurrency cap, or a busy event loop)',
    buckets: START_DELAY_BUCKETS,
  },
  running: {
    type: 'gauge',
    name: 'probes_running',
    help: 'Probes running now',
  },
  waiting: {
    type: 'gauge',
    name: 'probes_waiting',
    help: 'Probes due and waiting for a slot under the concurrency cap',
  },
  targets: {
    type: 'gauge',
    name: 'probes_targets',
    help: 'Targets by reported state: unknown (no result yet), up, pending, down, flapping',
    labels: ['state'],
  },
  alertsSent: {
    type: 'counter',
    name: 'probes_alerts_sent_total',
    help: 'Probe alerts handed to the notifier (firing, resent or resolved)',
  },
  saveFailures: {
    type: 'counter',
    name: 'probes_save_failures_total',
    help: 'Saves of the probe state or history that failed: write (tried again later) or too_large (over its size limit)',
    labels: ['file', 'reason'],
  },
  restoreFailures: {
    type: 'counter',
    name: 'probes_restore_failures_total',
    help: 'Saved probe state or history files that could not be read or understood at start (moved aside; the probes started without them)',
    labels: ['file'],
  },
  savedBytes: {
    type: 'gauge',
    name: 'probes_saved_bytes',
    help: 'Size of the last saved probe state or history file',
    labels: ['file'],
  },
} as const satisfies MetricCatalogue;

/** Probe agents: the centre's view of them (with a `location` label) and an agent's own (`probe_agent_*`). */
export const PROBE_AGENT_METRICS = {
  results: {
    type: 'counter',
    name: 'probe_agents_results_total',
    help: 'Results received from probe agents, by location and status: accepted (into state and history), late (into history only), duplicate (sent again), ignored (of a target the location no longer probes), lost (sequence numbers skipped: the agent dropped them)',
    labels: ['location', 'status'],
  },
  up: {
    type: 'gauge',
    name: 'probe_agents_up',
    help: 'Whether the agents of each location that targets name report (1) or have been silent past downAfter (0)',
    labels: ['location'],
  },
  lastReport: {
    type: 'gauge',
    name: 'probe_agents_last_report_timestamp_seconds',
    help: 'When an agent of each location was last heard from (Unix seconds)',
    labels: ['location'],
  },
  alertsSent: {
    type: 'counter',
    name: 'probe_agents_alerts_sent_total',
    help: 'ProbeAgentDown alerts handed to the notifier (firing, resent or resolved)',
  },
  buffered: {
    type: 'gauge',
    name: 'probe_agent_buffered_results',
    help: "Results in the agent's buffer not yet accepted by the centre",
  },
  bufferBytes: {
    type: 'gauge',
    name: 'probe_agent_buffer_bytes',
    help: "Bytes of the agent's buffer on disk",
  },
  dropped: {
    type: 'counter',
    name: 'probe_agent_dropped_results_total',
    help: 'Results the agent dropped, oldest first, because its buffer was full (maxBufferBytes) or a result alone was over it; the centre counts them as lost',
  },
  deliveries: {
    type: 'counter',
    name: 'probe_agent_deliveries_total',
    help: 'Batches the agent posted to the centre, by outcome: accepted, failed (tried again) or refused (the centre refused the batch as malformed; its results are dropped)',
    labels: ['outcome'],
  },
  lastDelivery: {
    type: 'gauge',
    name: 'probe_agent_last_delivery_timestamp_seconds',
    help: 'When the centre last accepted a batch of the agent (Unix seconds)',
  },
  assignment: {
    type: 'counter',
    name: 'probe_agent_assignment_fetches_total',
    help: 'Fetches of the targets the agent probes, by outcome: changed, unchanged or failed (the last assignment goes on)',
    labels: ['outcome'],
  },
  targets: {
    type: 'gauge',
    name: 'probe_agent_targets',
    help: 'Targets the agent probes',
  },
} as const satisfies MetricCatalogue;
