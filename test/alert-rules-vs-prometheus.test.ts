import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Labels } from '../alert-rules/types.ts';
import { untilQueried } from './support/prometheus-api.ts';
import {
  type ComparableAlert,
  comparableAlerts,
  INTERVAL_MS,
  SideBySide,
} from './support/rules-side-by-side.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

// Prometheus and Lookout evaluate the same rule file against the same data, while a scripted exporter
// drives the alerts through their states; at each step both must say the same in /api/v1/alerts and
// /api/v1/rules, and in the end have sent the same alerts to Alertmanager, written the same series and
// reloaded a changed file alike. They evaluate at the same slots (the same file path and group name), but
// one may see a scrape an evaluation before the other, so each step is polled until both agree.

const RULES = String.raw`
groups:
  - name: queues
    rules:
      - alert: QueueBacklog
        expr: queue_depth{job="compare"} > 100
        for: 3s
        labels:
          severity: page
          owner: 'team-{{ $labels.queue }}'
        annotations:
          summary: 'Queue {{ $labels.queue }} on {{ $labels.instance }} holds {{ $value }} items'
          size: '{{ humanize $value }} items ({{ $value | humanize1024 }}, {{ printf "%.1f" $value }})'
          labels: '{{ $labels }}'
          where: '{{ $externalLabels }} in {{ $externalLabels.cluster }}, see {{ $externalURL }}/alerts'
          queues: '{{ range query "sort_desc(queue_depth{job=\"compare\"})" }}{{ .Labels.queue }}={{ .Value }} {{ end }}'
      - record: queue:depth:sum
        expr: sum by (job) (queue_depth{job="compare"})
        labels:
          source: rules
      - alert: QueueStalled
        expr: queue_stalled{job="compare"} == 1
        keep_firing_for: 3s
        annotations:
          summary: '{{ $labels.queue }} stopped moving'
  - name: workers
    limit: 2
    rules:
      - alert: WorkerDown
        expr: worker_up{job="compare"} == 0
        labels:
          severity: ticket
        annotations:
          summary: '{{ $labels.worker }} is down ({{ $value }})'
  - name: odd
    rules:
      - alert: OddValue
        expr: odd_value{job="compare"}
        labels:
          shown: '{{ $value }}'
          instance: 'renamed-{{ $labels.instance }}'
          gone: '{{ $labels.nothere }}'
        annotations:
          value: '{{ $value }} | {{ humanize $value }} | {{ humanize1024 $value }} | {{ humanizeDuration $value }} | {{ humanizePercentage $value }}'
          labels: '{{ $labels.name }} | {{ $labels }} | {{ $labels.nothere }} | {{ .Labels.nothere }}'
          first: '{{ with query "sort(odd_value{job=\"compare\"})" }}{{ . | first | label "name" }} {{ . | first | value }}{{ end }}'
          bad_query: '{{ query "sum(" }}'
          range_query: '{{ query "odd_value[1m]" }}'
      - alert: SameLabels
        expr: worker_up{job="compare"}
        labels:
          worker: all
      - alert: ManyToMany
        expr: worker_up{job="compare"} * ON() group_left worker_up{job="compare"}
      - alert: RangeResult
        expr: odd_value[1m]
`;

const ODD_VALUES: [string, number][] = [
  ['nan', Number.NaN],
  ['inf', Number.POSITIVE_INFINITY],
  ['minus-inf', Number.NEGATIVE_INFINITY],
  ['tiny', 1.5e-7],
  ['huge', 1e21],
  ['say "hi"\\there\nnext', 0.25],
  ['größe ✓', 3 * 86_400 + 5.5],
];

const ORDERS = { queue: 'orders' };
const MAIL = { queue: 'mail' };
const worker = (name: string): Labels => ({ worker: name });

let dir: string;
let file: string;
let exporter: ScriptedExporter;
let both: SideBySide;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lookout-vs-prometheus-'));
  file = path.join(dir, 'compare.rules.yml');
  await writeFile(file, RULES);
  exporter = await ScriptedExporter.start();
  exporter.set('queue_depth', ORDERS, 5);
  exporter.set('queue_depth', MAIL, 3);
  exporter.set('queue_stalled', ORDERS, 0);
  for (const name of ['a', 'b', 'c']) exporter.set('worker_up', worker(name), 1);
  for (const [name, value] of ODD_VALUES) exporter.set('odd_value', { name }, value);
  both = await SideBySide.start({
    prometheusRuleFiles: [file],
    lookoutRuleFiles: [file],
    scrapeTargets: [{ job: 'compare', urls: [exporter.url] }],
  });
  await untilQueried(both.prometheus.url, 'queue_depth{job="compare",queue="orders"}', 5);
});

afterAll(async () => {
  await both?.close();
  await exporter?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The exporter's value, once Prometheus has scraped it. */
async function set(name: string, labels: Labels, value: number): Promise<void> {
  exporter.set(name, labels, value);
  const selector = Object.entries({ job: 'compare', ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  await untilQueried(both.prometheus.url, `${name}{${selector}}`, value);
}

const named = (alerts: ComparableAlert[], alertname: string, labels: Labels = {}) =>
  alerts.filter(
    (a) => a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
  );
const states = (alerts: ComparableAlert[], alertname: string) =>
  named(alerts, alertname)
    .map((a) => `${a.labels.queue ?? a.labels.worker}:${a.state}`)
    .sort()
    .join(' ');

describe('Lookout and Prometheus evaluating the same rule file', () => {
  it('load the same groups and rules, and agree once evaluated', async () => {
    const { prometheus, lookout } = await both.rules();
    const definition = (groups: typeof prometheus) =>
      groups.map((g) => ({
        name: g.name,
        file: g.file,
        interval: g.interval,
        limit: g.limit,
        rules: g.rules.map((r) =>
          r.type === 'alerting'
            ? {
                name: r.name,
                query: r.query,
                duration: r.duration,
                keepFiringFor: r.keepFiringFor,
                labels: r.labels,
                annotations: r.annotations,
                type: r.type,
              }
            : { name: r.name, query: r.query, labels: r.labels, type: r.type },
        ),
      }));
    expect(definition(lookout)).toEqual(definition(prometheus));
    await both.untilRulesAgree(
      (rules) =>
        rules
          .filter((r) => r.group !== 'odd')
          .every((r) => r.health === 'ok' && (r.state ?? 'inactive') === 'inactive'),
      'every rule evaluated, healthy and inactive',
    );
    await both.untilAlertsAgree(
      (alerts) => alerts.every((a) => a.labels.alertname === 'OddValue'),
      'no alerts but the odd ones',
    );
  });

  it('agree on odd values and label values, failing template queries and failing rules', async () => {
    const odd = await both.untilAlertsAgree(
      (alerts) => named(alerts, 'OddValue').length === ODD_VALUES.length,
      'every odd value firing',
    );
    expect(named(odd, 'OddValue', { name: 'huge' })[0]?.annotations.value).toBe(
      '1e+21 | 1Z | 867.4Ei | -106751991167300d -15h -30m -8s | 1e+23%',
    );
    expect(named(odd, 'OddValue', { name: 'nan' })[0]?.annotations).toMatchObject({
      bad_query: expect.stringMatching(/error calling query: 1:5: parse error: unclosed left parenthesis>$/),
      range_query: expect.stringMatching(/error calling query: rule result is not a vector or scalar>$/),
    });
    const rules = await both.untilRulesAgree(
      (rules) => rules.filter((r) => r.group === 'odd' && r.health === 'err').length === 3,
      'three failing rules',
    );
    expect(rules.filter((r) => r.health === 'err').map((r) => [r.rule, r.lastError])).toEqual([
      [
        'ManyToMany',
        expect.stringMatching(/^found duplicate series for the match group \{\} on the right hand-side/),
      ],
      ['RangeResult', 'rule result is not a vector or scalar'],
      ['SameLabels', 'vector contains metrics with the same labelset after applying alert labels'],
    ]);
  });

  it('agree on a pending alert and its rendered annotations', async () => {
    await set('queue_depth', ORDERS, 1536.5);
    const [alert] = named(
      await both.untilAlertsAgree(
        (alerts) => states(alerts, 'QueueBacklog') === 'orders:pending',
        'orders pending',
      ),
      'QueueBacklog',
    );
    expect(alert?.annotations).toMatchObject({
      summary: expect.stringMatching(/^Queue orders on 127\.0\.0\.1:\d+ holds 1536\.5 items$/),
      size: '1.536k items (1.5ki, 1536.5)',
      where: 'map[cluster:eu-1 replica:a] in eu-1, see http://prometheus.example:9090/alerts',
      queues: 'orders=1536.5 mail=3 ',
    });
    expect(alert?.labels).toMatchObject({ owner: 'team-orders', severity: 'page' });
    await both.untilRulesAgree(
      (rules) => rules.find((r) => r.rule === 'QueueBacklog')?.state === 'pending',
      'the rule pending',
    );
  });

  it('agree when it fires, with the time it became active', async () => {
    const [pending] = named(comparableAlerts((await both.alerts()).prometheus), 'QueueBacklog');
    const [firing] = named(
      await both.untilAlertsAgree(
        (alerts) => states(alerts, 'QueueBacklog') === 'orders:firing',
        'orders firing',
      ),
      'QueueBacklog',
    );
    expect(firing?.activeAtMs).toBe(pending?.activeAtMs);
    await both.untilRulesAgree(
      (rules) => rules.find((r) => r.rule === 'QueueBacklog')?.state === 'firing',
      'the rule firing',
    );
  });

  it('agree on an alert that flaps while pending: it goes, and comes back active from a new time', async () => {
    await set('queue_depth', MAIL, 120);
    const first = await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueBacklog') === 'mail:pending orders:firing',
      'mail pending',
    );
    await set('queue_depth', MAIL, 3);
    await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueBacklog') === 'orders:firing',
      'mail gone while pending',
    );
    await set('queue_depth', MAIL, 130);
    const again = await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueBacklog') === 'mail:pending orders:firing',
      'mail pending again',
    );
    const activeAt = (alerts: ComparableAlert[]) => named(alerts, 'QueueBacklog', MAIL)[0]?.activeAtMs ?? 0;
    expect(activeAt(again)).toBeGreaterThan(activeAt(first));
    expect(named(again, 'QueueBacklog', MAIL)[0]?.annotations.queues).toBe('orders=1536.5 mail=130 ');
  });

  it('agree on resolved alerts (gone from the list) and on one that returns', async () => {
    const before = await both.alerts();
    const firstActive = named(comparableAlerts(before.prometheus), 'QueueBacklog', ORDERS)[0]?.activeAtMs;
    await set('queue_depth', MAIL, 3);
    await set('queue_depth', ORDERS, 50);
    await both.untilAlertsAgree((alerts) => states(alerts, 'QueueBacklog') === '', 'both resolved');
    await both.untilRulesAgree(
      (rules) => rules.find((r) => r.rule === 'QueueBacklog')?.state === 'inactive',
      'the rule inactive',
    );
    await set('queue_depth', ORDERS, 2048);
    const returned = await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueBacklog') === 'orders:pending',
      'orders pending again',
    );
    expect(named(returned, 'QueueBacklog')[0]?.activeAtMs).toBeGreaterThan(firstActive ?? 0);
    await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueBacklog') === 'orders:firing',
      'orders firing again',
    );
    await set('queue_depth', ORDERS, 5);
  });

  it('agree on keep_firing_for: firing on after the condition ended, then gone', async () => {
    await set('queue_stalled', ORDERS, 1);
    await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueStalled') === 'orders:firing',
      'stalled firing at once (no for)',
    );
    await set('queue_stalled', ORDERS, 0);
    const ended = Date.now();
    // An evaluation after the scrape both have seen the condition false; keep_firing_for (3s) leaves
    // them firing for about two more.
    await new Promise((r) => setTimeout(r, 1.3 * INTERVAL_MS));
    const kept = await both.untilAlertsAgree(
      (alerts) => states(alerts, 'QueueStalled') === 'orders:firing',
      'stalled still firing (keep_firing_for: 3s)',
      700,
    );
    expect(named(kept, 'QueueStalled')[0]?.keepFiringSinceMs).toBeGreaterThanOrEqual(ended - INTERVAL_MS);
    await both.untilAlertsAgree((alerts) => states(alerts, 'QueueStalled') === '', 'stalled gone');
    expect(Date.now() - ended).toBeGreaterThanOrEqual(3 * INTERVAL_MS - INTERVAL_MS);
  });

  it('agree on a group over its limit: the rule fails with the same error, and recovers', async () => {
    await set('worker_up', worker('a'), 0);
    await set('worker_up', worker('b'), 0);
    await both.untilAlertsAgree((alerts) => states(alerts, 'WorkerDown') === 'a:firing b:firing', 'two down');
    await both.untilRulesAgree(
      (rules) => rules.find((r) => r.rule === 'WorkerDown')?.health === 'ok',
      'two alerts within the limit',
    );

    await set('worker_up', worker('c'), 0);
    const failed = await both.untilRulesAgree(
      (rules) => rules.find((r) => r.rule === 'WorkerDown')?.health === 'err',
      'the rule over its limit',
    );
    expect(failed.find((r) => r.rule === 'WorkerDown')).toMatchObject({
      state: 'inactive',
      lastError: 'exceeded limit of 2 with 3 alerts',
    });
    await both.untilAlertsAgree((alerts) => states(alerts, 'WorkerDown') === '', 'no worker alerts');

    await set('worker_up', worker('c'), 1);
    await both.untilRulesAgree(
      (rules) => rules.find((r) => r.rule === 'WorkerDown')?.health === 'ok',
      'the rule healthy again',
    );
    await both.untilAlertsAgree(
      (alerts) => states(alerts, 'WorkerDown') === 'a:firing b:firing',
      'two down again',
    );
  });

  it('sent the same alerts to Alertmanager: each firing once, each resolve once, with the same link', async () => {
    const sent = await both.untilSentAgree(
      (sends) => sends.some((s) => s.labels.alertname === 'QueueStalled' && s.status === 'resolved'),
      'everything sent so far',
    );
    const episodes = (alertname: string, status: string) =>
      sent.filter((s) => s.labels.alertname === alertname && s.status === status).length;
    expect(episodes('QueueBacklog', 'firing')).toBe(2);
    expect(episodes('QueueBacklog', 'resolved')).toBe(2);
    expect(episodes('WorkerDown', 'firing')).toBe(4);
    expect(sent.find((s) => s.labels.alertname === 'QueueBacklog')).toMatchObject({
      labels: { cluster: 'eu-1', replica: 'a' },
      generatorURL:
        'http://prometheus.example:9090/graph?g0.expr=queue_depth%7Bjob%3D%22compare%22%7D+%3E+100&g0.tab=1',
    });
  });

  it('wrote the same series as Prometheus stored: recording rule results, ALERTS and ALERTS_FOR_STATE', async () => {
    // Both evaluate at the same slots, and nothing changes now, so the same recent seconds hold the same samples.
    const names = ['queue:depth:sum', 'ALERTS', 'ALERTS_FOR_STATE'];
    await both.untilWrittenAgree(
      names,
      (samples) => samples.length > 20 && names.every((name) => samples.some((s) => s.includes(`"${name}"`))),
      'two intervals of every series',
      15_000,
    );
  });

  it('agree after both reload a changed rule: its alerts keep state and time, with the new annotations', async () => {
    const before = named(
      await both.untilAlertsAgree(
        (alerts) => states(alerts, 'WorkerDown') === 'a:firing b:firing',
        'two down',
      ),
      'WorkerDown',
    );
    const summary = "summary: '{{ $labels.worker }} is down ({{ $value }})'";
    expect(RULES).toContain(summary);
    await writeFile(file, RULES.replace(summary, "summary: '{{ $labels.worker }} has been down'"));
    await both.reload();
    const after = await both.untilAlertsAgree(
      (alerts) =>
        states(alerts, 'WorkerDown') === 'a:firing b:firing' &&
        named(alerts, 'WorkerDown').every((a) => a.annotations.summary?.endsWith('has been down')),
      'the new annotations',
    );
    expect(named(after, 'WorkerDown').map((a) => a.activeAtMs)).toEqual(before.map((a) => a.activeAtMs));
    await both.untilRulesAgree(
      (rules) => rules.every((r) => r.rule !== 'WorkerDown' || r.health === 'ok'),
      'reloaded rules',
    );
  });
});
