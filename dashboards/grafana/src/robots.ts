import { type Section, timeseries } from './panels.ts';

/**
 * The chat robots' panels, for the boards of the components that send to
 * them (event router, alert-rules): `selector` picks the component's series.
 */
export function robotSection(selector: string): Section {
  const robots = `${selector}, robot=~"$robot"`;
  return {
    title: 'Chat robots',
    panels: [
      timeseries({
        title: 'Messages sent per robot',
        description: 'Requests the DingTalk or WeCom robot took (errcode 0).',
        unit: 'cps',
        queries: [
          {
            expr: `sum by (robot) (rate(lookout_notify_sends_total{${robots}, errcode="0"}[$__rate_interval]))`,
            legend: '{{robot}}',
          },
        ],
      }),
      timeseries({
        title: 'Messages refused per robot',
        description:
          'Requests a robot answered with an error, by errcode (network, timeout and http_NNN included; some are retried), and messages dropped for good, by reason.',
        unit: 'cps',
        queries: [
          {
            expr: `sum by (robot, errcode) (rate(lookout_notify_sends_total{${robots}, errcode!="0"}[$__rate_interval]))`,
            legend: '{{robot}} errcode {{errcode}}',
          },
          {
            expr: `sum by (robot, reason) (rate(lookout_notify_dropped_total{${robots}}[$__rate_interval]))`,
            legend: '{{robot}} dropped: {{reason}}',
          },
        ],
      }),
      timeseries({
        title: 'Messages waiting',
        description: 'Messages in the outbox: rate limits and failing robots make them wait.',
        unit: 'short',
        queries: [{ expr: `max by (robot) (lookout_notify_outbox_depth{${robots}})`, legend: '{{robot}}' }],
      }),
      timeseries({
        title: 'Oldest waiting message',
        description: 'How long the oldest message in the outbox has waited; 0 when none waits.',
        unit: 's',
        queries: [
          { expr: `max by (robot) (lookout_notify_outbox_oldest_seconds{${robots}})`, legend: '{{robot}}' },
        ],
      }),
    ],
  };
}
