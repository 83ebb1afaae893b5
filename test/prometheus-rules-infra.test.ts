import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpServer, startPrometheus } from './infra/prometheus.ts';
import { eventually } from './support/lookout-process.ts';
import { POLL_MS, prometheusApi, prometheusQueries, untilQueried } from './support/prometheus-api.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

// A Prometheus of this test's own, evaluating a rule file while a scripted exporter drives its input:
// the set-up a comparison of Lookout's evaluator with Prometheus needs. The phases' durations are
// printed, so that comparison can choose its waits.

const RULES = `
groups:
  - name: app
    rules:
      - alert: AppErrors
        expr: app_errors > 3
        for: 2s
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.service }} has {{ $value }} errors'
`;
const SERIES = { service: 'checkout' };

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

interface ApiRule {
  name: string;
  state?: 'inactive' | 'pending' | 'firing';
  health: string;
  alerts?: ApiAlert[];
}

let prometheus: HttpServer;
let exporter: ScriptedExporter;
let dir: string;
let readyAt: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-rules-'));
  await writeFile(join(dir, 'app.rules.yml'), RULES);
  exporter = await ScriptedExporter.start();
  prometheus = await startPrometheus({
    ruleFiles: [join(dir, 'app.rules.yml')],
    scrapeTargets: [{ job: 'app', urls: [exporter.url] }],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    extraFlags: ['--web.enable-remote-write-receiver'],
  });
  readyAt = Date.now();
});

afterAll(async () => {
  await prometheus?.close();
  await exporter?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const alerts = async () =>
  (await prometheusApi<{ alerts: ApiAlert[] }>(prometheus.url, '/api/v1/alerts')).alerts;

async function rule(): Promise<ApiRule | undefined> {
  const data = await prometheusApi<{ groups: { name: string; rules: ApiRule[] }[] }>(
    prometheus.url,
    '/api/v1/rules?type=alert',
  );
  return data.groups.find((g) => g.name === 'app')?.rules.find((r) => r.name === 'AppErrors');
}

/** Milliseconds until the alert is in `state` (undefined: gone from /api/v1/alerts). */
async function untilAlert(state: ApiAlert['state'] | undefined): Promise<{ ms: number; alert?: ApiAlert }> {
  const started = Date.now();
  const [alert] = await eventually(
    alerts,
    (a) => a[0]?.state === state,
    `the alert ${state ?? 'gone'}`,
    15_000,
    POLL_MS,
  );
  return { ms: Date.now() - started, alert };
}

describe('a Prometheus of its own with a rule file and a scripted exporter', () => {
  it('takes the flags, targets and rule file the test gives', async () => {
    exporter.set('app_errors', SERIES, 1);
    // Prometheus hands discovered targets to its scrapers at most every 5 s, so the first scrape of a new
    // target comes about 5 s after start (ready); a comparison should wait for it rather than sleep.
    await untilQueried(prometheus.url, 'app_errors{job="app"}', 1);
    console.log(`first scrape ${Date.now() - readyAt} ms after Prometheus was ready`);
    await eventually(rule, (r) => r?.health === 'ok', 'a first evaluation of the rule', 15_000, POLL_MS);
    const flags = await prometheusApi<Record<string, string>>(prometheus.url, '/api/v1/status/flags');
    expect(flags['web.enable-remote-write-receiver']).toBe('true');
    const config = await prometheusApi<{ yaml: string }>(prometheus.url, '/api/v1/status/config');
    expect(config.yaml).toMatch(/evaluation_interval: 1s/);
  });

  it('reads what the exporter serves: escaped label values, NaN and infinities', async () => {
    const odd = { service: 'say "hi"\\there\nnext line' };
    exporter.set('app_odd', odd, Number.NaN);
    exporter.set('app_odd', { service: 'inf' }, Number.NEGATIVE_INFINITY);
    await untilQueried(prometheus.url, 'app_odd{service="inf"}', Number.NEGATIVE_INFINITY);
    const [sample] = await prometheusQueries(prometheus.url).query('app_odd{service!="inf"}', Date.now());
    expect(sample?.labels.service).toBe(odd.service);
    expect(sample?.value).toBeNaN();
    exporter.remove('app_odd', odd);
    exporter.remove('app_odd', { service: 'inf' });
  });

  it('drives the alert pending, firing and resolved, and times each phase', async () => {
    const timings: Record<string, number> = {};
    exporter.set('app_errors', SERIES, 1);
    await untilQueried(prometheus.url, 'app_errors{job="app"}', 1);

    exporter.set('app_errors', SERIES, 5);
    const started = Date.now();
    timings.scraped = await untilQueried(prometheus.url, 'app_errors{job="app"}', 5);
    const pending = await untilAlert('pending');
    timings.setToPending = Date.now() - started;
    expect(pending.alert).toMatchObject({
      labels: { alertname: 'AppErrors', job: 'app', service: 'checkout', severity: 'page' },
      annotations: { summary: 'checkout has 5 errors' },
      value: '5e+00',
    });
    expect((await rule())?.state).toBe('pending');

    const firing = await untilAlert('firing');
    timings.pendingToFiring = firing.ms;
    expect(firing.alert?.activeAt).toBe(pending.alert?.activeAt);
    expect((await rule())?.state).toBe('firing');

    exporter.set('app_errors', SERIES, 0);
    timings.setToResolved = (await untilAlert(undefined)).ms;
    expect((await rule())?.state).toBe('inactive');

    // A series that disappears: Prometheus marks it stale at the next scrape, and the alert resolves.
    exporter.set('app_errors', SERIES, 7);
    await untilAlert('firing');
    exporter.remove('app_errors', SERIES);
    timings.removedToResolved = (await untilAlert(undefined)).ms;

    console.log(
      `Prometheus rule phases (scrape and evaluation every 1s, for: 2s), ms: ${JSON.stringify(timings)}`,
    );
    // Pending needs a scrape and an evaluation; firing two more evaluations (for: 2s); resolving one
    // scrape and one evaluation. The bounds leave room for a loaded machine.
    expect(timings.setToPending).toBeLessThan(4_000);
    expect(timings.pendingToFiring).toBeGreaterThanOrEqual(1_000);
    expect(timings.pendingToFiring).toBeLessThan(4_000);
    expect(timings.setToResolved).toBeLessThan(4_000);
    expect(timings.removedToResolved).toBeLessThan(4_000);
  });
});
