import type { MetricCatalogue } from '../core/metrics.ts';

/** Every metric the sidecar exports. */
export const SIDECAR_METRICS = {
  readLines: {
    type: 'counter',
    name: 'sidecar_read_lines_total',
    help: 'Lines read, per file',
    labels: ['path'],
  },
  readBytes: {
    type: 'counter',
    name: 'sidecar_read_bytes_total',
    help: 'Bytes read, per file',
    labels: ['path'],
  },
  truncatedLines: {
    type: 'counter',
    name: 'sidecar_truncated_lines_total',
    help: 'Lines cut at the maximum line length',
  },
  rotations: {
    type: 'counter',
    name: 'sidecar_rotations_total',
    help: 'Rotations seen',
    labels: ['kind'],
  },
  fileErrors: {
    type: 'counter',
    name: 'sidecar_file_errors_total',
    help: 'Files that could not be read',
    labels: ['code'],
  },
  filesOpen: {
    type: 'gauge',
    name: 'sidecar_files_open',
    help: 'Files being followed',
  },
  tailerUp: {
    type: 'gauge',
    name: 'sidecar_tailer_up',
    help: '1 while files are being read, 0 while reading waits to restart',
  },
  tailerRestarts: {
    type: 'counter',
    name: 'sidecar_tailer_restarts_total',
    help: 'Times reading failed and was started again',
  },
  parseErrors: {
    type: 'counter',
    name: 'sidecar_parse_errors_total',
    help: 'Events whose line did not fit the container format or the declared parser (kept raw, flagged lookout.parse_error)',
  },
  truncatedEvents: {
    type: 'counter',
    name: 'sidecar_truncated_events_total',
    help: 'Events cut at a line, multiline or partial-line limit (flagged lookout.truncated)',
  },
  sinkEvents: {
    type: 'counter',
    name: 'sidecar_sink_events_total',
    help: 'Events per sink and outcome',
    labels: ['sink', 'outcome'],
  },
  deadLettered: {
    type: 'counter',
    name: 'sidecar_dead_lettered_total',
    help: 'Records a sink refused for good',
    labels: ['sink'],
  },
  sinkRetries: {
    type: 'counter',
    name: 'sidecar_sink_retries_total',
    help: 'Records sent again after a 429/5xx',
    labels: ['sink'],
  },
  queueBytes: {
    type: 'gauge',
    name: 'sidecar_queue_bytes',
    help: 'Bytes queued that some sink has not acknowledged',
  },
  queueOldestUnackedAge: {
    type: 'gauge',
    name: 'sidecar_queue_oldest_unacked_age_seconds',
    help: 'Age of the oldest unacknowledged event',
  },
  backpressure: {
    type: 'gauge',
    name: 'sidecar_backpressure_seconds',
    help: 'Time reading waited because the queue was full',
  },
  queueTornRecords: {
    type: 'gauge',
    name: 'sidecar_queue_torn_records',
    help: 'Records found torn or corrupt in the queue and skipped',
  },
  fileLogPods: {
    type: 'gauge',
    name: 'sidecar_file_log_pods',
    help: 'Pods of this node known from the API server (node mode, file logs on)',
  },
  fileLogAnnotations: {
    type: 'counter',
    name: 'sidecar_file_log_annotations_total',
    help: 'File-logs annotations judged, per outcome: accepted or refused',
    labels: ['outcome'],
  },
  fileLogPodsReleased: {
    type: 'counter',
    name: 'sidecar_file_log_pods_released_total',
    help: 'Deleted pods whose file logs were read to their end and released',
  },
  fileLogWatchFailures: {
    type: 'counter',
    name: 'sidecar_file_log_watch_failures_total',
    help: 'Times listing or watching the pods of this node failed',
  },
  fileLogFilesOpen: {
    type: 'gauge',
    name: 'sidecar_file_log_files_open',
    help: "Files of pods' file logs being followed",
  },
  fileLogReaderUp: {
    type: 'gauge',
    name: 'sidecar_file_log_reader_up',
    help: "1 while pods' file logs are being read, 0 before the first list of pods and while reading waits to restart",
  },
  logEvents: {
    type: 'counter',
    name: 'sidecar_log_events_total',
    help: 'Log events per container and log.level (empty when the event has none)',
    labels: ['namespace', 'pod', 'container', 'level'],
  },
  logMetricOverflow: {
    type: 'counter',
    name: 'sidecar_log_metric_overflow_total',
    help: 'Events a log metric counted with a label value replaced by other (value) or in its all-other series (series)',
    labels: ['metric', 'reason'],
  },
} as const satisfies MetricCatalogue;
