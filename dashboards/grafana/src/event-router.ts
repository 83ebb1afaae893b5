import { board, labelVariable, rate, timeseries } from './panels.ts';
import { robotSection } from './robots.ts';

const ROUTER = 'job=~"$job", instance=~"$instance"';

export const eventRouter = board({
  uid: 'lookout-event-router',
  title: 'Lookout / Event router',
  description: 'Kubernetes events watched, routed and aggregated, and the messages sent to chat robots.',
  variables: [
    labelVariable('job', 'Job', 'label_values(lookout_event_router_events_seen_total, job)'),
    labelVariable(
      'instance',
      'Instance',
      'label_values(lookout_event_router_events_seen_total{job=~"$job"}, instance)',
    ),
    labelVariable('robot', 'Robot', 'label_values(lookout_notify_outbox_depth{job=~"$job"}, robot)'),
  ],
  sections: [
    {
      title: 'Events',
      panels: [
        timeseries({
          title: 'Events received',
          description: 'Kubernetes events received from the API server, by list or watch.',
          unit: 'cps',
          queries: [
            { expr: rate(`lookout_event_router_events_seen_total{${ROUTER}}`, ['via']), legend: '{{via}}' },
          ],
        }),
        timeseries({
          title: 'Events by verdict',
          description:
            'Events judged: new, update (recurring), seen (already handled) or old (before the resume point).',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_event_router_events_total{${ROUTER}}`, ['verdict']),
              legend: '{{verdict}}',
            },
          ],
        }),
        timeseries({
          title: 'Events routed',
          description: 'New or recurring events that matched at least one route.',
          unit: 'cps',
          queries: [{ expr: rate(`lookout_event_router_routed_total{${ROUTER}}`), legend: 'routed' }],
        }),
        timeseries({
          title: 'Messages made',
          description:
            'Messages made from routed events: single, update (a group told again), or storm (one summary of many objects).',
          unit: 'cps',
          queries: [
            { expr: rate(`lookout_event_router_messages_total{${ROUTER}}`, ['kind']), legend: '{{kind}}' },
          ],
        }),
        timeseries({
          title: 'Aggregation groups',
          description: 'Groups (route, object, reason) remembered to aggregate recurring events.',
          unit: 'short',
          queries: [
            { expr: `sum by (instance) (lookout_event_router_groups{${ROUTER}})`, legend: '{{instance}}' },
          ],
        }),
        timeseries({
          title: 'Watch relists',
          description:
            'Event lists repeated because a watch expired; a steady climb means watches keep expiring.',
          unit: 'cps',
          queries: [{ expr: rate(`lookout_event_router_watch_relists_total{${ROUTER}}`), legend: 'relists' }],
        }),
      ],
    },
    robotSection(ROUTER),
  ],
});
