import { board, labelVariable, quantile, rate, stat, timeseries } from './panels.ts';

/** The probes' results: blackbox_exporter's names, `instance` the probed URL (scraped with honor_labels). */
const PROBES = 'job=~"$job", instance=~"$instance"';
/** The probe scheduler's own series, `instance` the alert-rules process. */
const SCHEDULER = 'job=~"$job"';

export const probes = board({
  uid: 'lookout-probes',
  title: 'Lookout / Probes',
  description:
    "Site probes run by alert-rules: blackbox_exporter's series for each target (instance is the probed URL), and the scheduler.",
  variables: [
    labelVariable('job', 'Job', 'label_values(probe_success, job)'),
    labelVariable('instance', 'Target', 'label_values(probe_success{job=~"$job"}, instance)'),
  ],
  sections: [
    {
      title: 'Targets',
      panels: [
        stat({
          title: 'Up now',
          description: 'The latest probe of each target: up or down.',
          unit: 'none',
          thresholds: ['red', [1, 'green']],
          valueTexts: { '0': 'down', '1': 'up' },
          queries: [{ expr: `probe_success{${PROBES}}`, legend: '{{instance}}' }],
        }),
        stat({
          title: 'Uptime over 30 days',
          description:
            'Share of successful probes over the last 30 days (over the history Prometheus keeps, if shorter).',
          unit: 'percentunit',
          thresholds: ['red', [0.99, 'orange'], [0.999, 'green']],
          queries: [{ expr: `avg_over_time(probe_success{${PROBES}}[30d])`, legend: '{{instance}}' }],
        }),
        stat({
          title: 'Certificate days left',
          description: 'Days until the earliest certificate a TLS target showed expires.',
          unit: 'd',
          thresholds: ['red', [7, 'orange'], [30, 'green']],
          queries: [
            { expr: `(probe_ssl_earliest_cert_expiry{${PROBES}} - time()) / 86400`, legend: '{{instance}}' },
          ],
        }),
        timeseries({
          title: 'Probe success',
          description: '1 when a probe succeeded, 0 when it failed.',
          unit: 'none',
          min: 0,
          max: 1,
          queries: [{ expr: `probe_success{${PROBES}}`, legend: '{{instance}}' }],
        }),
        timeseries({
          title: 'Probe duration',
          description: 'Time the whole probe took.',
          unit: 's',
          queries: [{ expr: `probe_duration_seconds{${PROBES}}`, legend: '{{instance}}' }],
        }),
        timeseries({
          title: 'HTTP latency by phase',
          description: 'Time of each phase of HTTP probes: resolve, connect, tls, processing, transfer.',
          unit: 's',
          queries: [
            {
              expr: `sum by (instance, phase) (probe_http_duration_seconds{${PROBES}})`,
              legend: '{{instance}} {{phase}}',
            },
          ],
        }),
        timeseries({
          title: 'HTTP status code',
          description: 'Status code of the last response (0 when none came).',
          unit: 'none',
          queries: [{ expr: `probe_http_status_code{${PROBES}}`, legend: '{{instance}}' }],
        }),
        stat({
          title: 'Uptime in the time range',
          description: 'Share of successful probes in the dashboard time range.',
          unit: 'percentunit',
          queries: [{ expr: `avg_over_time(probe_success{${PROBES}}[$__range])`, legend: '{{instance}}' }],
        }),
      ],
    },
    {
      title: 'Scheduler',
      panels: [
        timeseries({
          title: 'Targets by state',
          description:
            'Targets by their reported state: unknown (no result yet), up, pending, down, flapping.',
          unit: 'short',
          queries: [{ expr: `sum by (state) (lookout_probes_targets{${SCHEDULER}})`, legend: '{{state}}' }],
        }),
        timeseries({
          title: 'Probes run',
          description: 'Probes run, by outcome.',
          unit: 'cps',
          queries: [{ expr: rate(`lookout_probes_total{${SCHEDULER}}`, ['outcome']), legend: '{{outcome}}' }],
        }),
        timeseries({
          title: 'Probe start delay',
          description:
            'How late probes started after they were due (waiting for a slot under concurrency, or a busy process).',
          unit: 's',
          queries: [
            {
              expr: quantile(0.99, 'lookout_probes_start_delay_seconds', SCHEDULER),
              legend: '99th percentile',
            },
          ],
        }),
      ],
    },
  ],
});
