import { board, labelVariable, quantile, rate, stat, timeseries } from './panels.ts';

const SIDECAR = 'job=~"$sidecar_job", namespace=~"$namespace", instance=~"$instance"';
const COLLECTOR = 'job=~"$collector_job"';
/** The sidecars' and collectors' processes, for CPU and memory. */
const PROCESSES = 'job=~"$sidecar_job|$collector_job"';

/**
 * kube-state-metrics' series of the containers Lookout's processes run in:
 * a scrape through Kubernetes service discovery labels each process with its
 * `namespace`, `pod` and `container`, and kube-state-metrics uses the same.
 */
const containerSeries = (series: string, resource: string) =>
  `max by (namespace, pod, container) (${series}{resource="${resource}"}) and on (namespace, pod, container) process_start_time_seconds{${PROCESSES}}`;

export const pipeline = board({
  uid: 'lookout-pipeline',
  title: 'Lookout / Pipeline',
  description:
    'Sidecars and node agents reading and shipping logs; the collector consuming Kafka into the log store.',
  variables: [
    labelVariable('sidecar_job', 'Sidecar job', 'label_values(lookout_sidecar_queue_bytes, job)'),
    labelVariable(
      'namespace',
      'Namespace',
      'label_values(lookout_sidecar_queue_bytes{job=~"$sidecar_job"}, namespace)',
    ),
    labelVariable(
      'instance',
      'Sidecar',
      'label_values(lookout_sidecar_queue_bytes{job=~"$sidecar_job", namespace=~"$namespace"}, instance)',
    ),
    labelVariable('collector_job', 'Collector job', 'label_values(lookout_collector_bytes_in_flight, job)'),
  ],
  sections: [
    {
      title: 'Sidecars and node agents',
      panels: [
        timeseries({
          title: 'Lines read',
          description: 'Lines read from the log files, per sidecar.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_sidecar_read_lines_total{${SIDECAR}}`, ['instance']),
              legend: '{{instance}}',
            },
          ],
        }),
        timeseries({
          title: 'Queue bytes',
          description: 'Bytes in the disk queue that some sink has not acknowledged.',
          unit: 'bytes',
          queries: [{ expr: `lookout_sidecar_queue_bytes{${SIDECAR}}`, legend: '{{instance}}' }],
        }),
        timeseries({
          title: 'Oldest unacknowledged event',
          description: 'Age of the oldest event some sink has not acknowledged: how far behind shipping is.',
          unit: 's',
          queries: [
            { expr: `lookout_sidecar_queue_oldest_unacked_age_seconds{${SIDECAR}}`, legend: '{{instance}}' },
          ],
        }),
        timeseries({
          title: 'Backpressure',
          description:
            'Share of the time reading waited because the queue was full (the files are the buffer then).',
          unit: 'percentunit',
          min: 0,
          queries: [
            {
              expr: `rate(lookout_sidecar_backpressure_seconds{${SIDECAR}}[$__rate_interval])`,
              legend: '{{instance}}',
            },
          ],
        }),
        timeseries({
          title: 'Events acknowledged and failed per sink',
          description:
            'Events the destination confirmed (acked), and events whose sending failed and will be sent again.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_sidecar_sink_events_total{${SIDECAR}, outcome=~"acked|failed"}`, [
                'sink',
                'outcome',
              ]),
              legend: '{{sink}} {{outcome}}',
            },
          ],
        }),
        timeseries({
          title: 'Retried and dead-lettered per sink',
          description:
            'Records sent again after a 429 or 5xx, and records a sink refused for good (written to its dead-letter file).',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_sidecar_sink_retries_total{${SIDECAR}}`, ['sink']),
              legend: '{{sink}} retried',
            },
            {
              expr: rate(`lookout_sidecar_dead_lettered_total{${SIDECAR}}`, ['sink']),
              legend: '{{sink}} dead-lettered',
            },
          ],
        }),
        timeseries({
          title: 'Parse errors and truncations',
          description:
            'Events whose line did not fit the container format or parser (kept raw), events cut at a limit, and lines cut at maxLineBytes.',
          unit: 'cps',
          queries: [
            { expr: rate(`lookout_sidecar_parse_errors_total{${SIDECAR}}`), legend: 'parse errors' },
            { expr: rate(`lookout_sidecar_truncated_events_total{${SIDECAR}}`), legend: 'truncated events' },
            { expr: rate(`lookout_sidecar_truncated_lines_total{${SIDECAR}}`), legend: 'truncated lines' },
          ],
        }),
        timeseries({
          title: 'Files followed',
          description: 'Files being read, per sidecar.',
          unit: 'short',
          queries: [{ expr: `lookout_sidecar_files_open{${SIDECAR}}`, legend: '{{instance}}' }],
        }),
        timeseries({
          title: 'Reading up',
          description: '1 while files are being read; 0 while reading waits to restart after a failure.',
          unit: 'short',
          min: 0,
          max: 1,
          queries: [{ expr: `lookout_sidecar_tailer_up{${SIDECAR}}`, legend: '{{instance}}' }],
        }),
      ],
    },
    {
      title: 'Collector',
      panels: [
        timeseries({
          title: 'Consumer lag per partition',
          description: 'Records behind the end of each Kafka partition after the last batch.',
          unit: 'short',
          queries: [
            {
              expr: `max by (topic, partition) (lookout_collector_kafka_lag{${COLLECTOR}})`,
              legend: '{{topic}}/{{partition}}',
            },
          ],
        }),
        timeseries({
          title: 'Records consumed',
          description:
            'Kafka records stored, and records the store refused that went to the dead-letter topic.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_collector_records_total{${COLLECTOR}}`, ['outcome']),
              legend: '{{outcome}}',
            },
          ],
        }),
        stat({
          title: 'Dead-lettered in the time range',
          description:
            'Records sent to the dead-letter topic in the dashboard time range; each has its reason in a header.',
          unit: 'short',
          thresholds: ['green', [1, 'red']],
          queries: [
            {
              expr: `sum(increase(lookout_collector_records_total{${COLLECTOR}, outcome="dead_lettered"}[$__range]))`,
              legend: 'dead-lettered',
            },
          ],
        }),
        timeseries({
          title: 'Bulk latency',
          description:
            'Time to store and commit one slice of a Kafka batch (one bulk request to Elasticsearch).',
          unit: 's',
          queries: [
            { expr: quantile(0.5, 'lookout_collector_batch_seconds', COLLECTOR), legend: 'median' },
            { expr: quantile(0.99, 'lookout_collector_batch_seconds', COLLECTOR), legend: '99th percentile' },
          ],
        }),
        timeseries({
          title: 'Store retries and failures',
          description:
            'Records written again after a 429 or 5xx from the store, and batches the store could not take at all.',
          unit: 'cps',
          queries: [
            { expr: rate(`lookout_collector_store_retries_total{${COLLECTOR}}`), legend: 'records retried' },
            { expr: rate(`lookout_collector_store_failures_total{${COLLECTOR}}`), legend: 'batches failed' },
          ],
        }),
        timeseries({
          title: 'Bytes in flight',
          description:
            'Bytes of Kafka records read and not yet stored and committed (bounded by kafka.maxBytesInFlight).',
          unit: 'bytes',
          queries: [{ expr: `lookout_collector_bytes_in_flight{${COLLECTOR}}`, legend: '{{instance}}' }],
        }),
        timeseries({
          title: 'Lines posted to ingest',
          description: 'Lines posted to /api/ingest by sidecars shipping over HTTP, by outcome.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_collector_ingest_lines_total{${COLLECTOR}}`, ['outcome']),
              legend: '{{outcome}}',
            },
          ],
        }),
      ],
    },
    {
      title: 'CPU and memory',
      panels: [
        timeseries({
          title: 'CPU against requests',
          description:
            'CPU used by each sidecar and collector process; the requests of their containers come from kube-state-metrics, where it runs.',
          unit: 'short',
          width: 12,
          queries: [
            {
              expr: `rate(process_cpu_seconds_total{${PROCESSES}}[$__rate_interval])`,
              legend: '{{job}} {{instance}}',
            },
            {
              expr: containerSeries('kube_pod_container_resource_requests', 'cpu'),
              legend: 'request {{pod}}',
            },
          ],
        }),
        timeseries({
          title: 'Memory against requests and limits',
          description:
            'Resident memory of each sidecar and collector process; the requests and limits of their containers come from kube-state-metrics, where it runs.',
          unit: 'bytes',
          width: 12,
          queries: [
            { expr: `process_resident_memory_bytes{${PROCESSES}}`, legend: '{{job}} {{instance}}' },
            {
              expr: containerSeries('kube_pod_container_resource_requests', 'memory'),
              legend: 'request {{pod}}',
            },
            {
              expr: containerSeries('kube_pod_container_resource_limits', 'memory'),
              legend: 'limit {{pod}}',
            },
          ],
        }),
      ],
    },
  ],
});
