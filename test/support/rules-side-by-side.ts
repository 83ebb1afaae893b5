import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { ApiAlert, ApiRuleGroup } from '../../alert-rules/rules/api-shapes.ts';
import { MemoryRemoteWriter } from '../../alert-rules/rules/fixtures/fakes.ts';
import { settings } from '../../alert-rules/rules/fixtures/settings.ts';
import { sortedLabels } from '../../alert-rules/rules/labels.ts';
import { loadRuleFiles } from '../../alert-rules/rules/load.ts';
import { PrometheusQueryClient, prometheusQuerySchema } from '../../alert-rules/rules/prometheus-client.ts';
import { RuleManager } from '../../alert-rules/rules/rule-manager.ts';
import { checkTemplate, expandTemplate } from '../../alert-rules/rules/template/expand.ts';
import type { AlertNotifier, Labels, PostableAlert } from '../../alert-rules/types.ts';
import { systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { type HttpServer, type ScrapeJob, startPrometheus } from '../infra/prometheus.ts';
import { type AlertReceiver, type ReceivedAlert, startAlertReceiver } from './alert-receiver.ts';
import { POLL_MS, prometheusApi } from './prometheus-api.ts';

/** What both are told: templates see the same `$externalLabels` and `$externalURL`. */
export const EXTERNAL_LABELS: Labels = { cluster: 'eu-1', replica: 'a' };
/** Without a path, so that Prometheus serves its API at the root as usual. */
export const EXTERNAL_URL = 'http://prometheus.example:9090';
/** Scrapes and evaluations, on both sides. */
export const INTERVAL_MS = 1000;

export interface SideBySideOptions {
  /** Absolute paths: Prometheus and Lookout must see the same file name, which sets the evaluation slots. */
  prometheusRuleFiles: string[];
  lookoutRuleFiles: string[];
  scrapeTargets: ScrapeJob[];
}

/** What Lookout's rule manager sends, as an Alertmanager would receive it. */
class ReceivingNotifier implements AlertNotifier {
  readonly received: ReceivedAlert[] = [];

  send(alerts: readonly PostableAlert[]): void {
    const receivedAtMs = Date.now();
    this.received.push(...alerts.map((alert) => ({ ...alert, receivedAtMs })));
  }
}

/**
 * A Prometheus evaluating rule files, and Lookout's rule manager evaluating the
 * same rules with its queries going to that Prometheus, with the same
 * interval, external labels and URL, so that what each says about its
 * alerts and rules, what each sends to Alertmanager and what each writes
 * can be compared. Lookout's series are kept in memory, not written.
 */
export class SideBySide {
  readonly prometheus: HttpServer;
  readonly lookout: RuleManager;
  /** What Lookout wrote: recording rules' results, ALERTS and ALERTS_FOR_STATE. */
  readonly written: MemoryRemoteWriter;
  private readonly notifier: ReceivingNotifier;
  private readonly alertmanager: AlertReceiver;
  private readonly client: PrometheusQueryClient;
  private readonly dataDir: string;
  private readonly ruleFiles: string[];

  private constructor(parts: {
    prometheus: HttpServer;
    lookout: RuleManager;
    written: MemoryRemoteWriter;
    notifier: ReceivingNotifier;
    alertmanager: AlertReceiver;
    client: PrometheusQueryClient;
    dataDir: string;
    ruleFiles: string[];
  }) {
    this.prometheus = parts.prometheus;
    this.lookout = parts.lookout;
    this.written = parts.written;
    this.notifier = parts.notifier;
    this.alertmanager = parts.alertmanager;
    this.client = parts.client;
    this.dataDir = parts.dataDir;
    this.ruleFiles = parts.ruleFiles;
  }

  static async start(options: SideBySideOptions): Promise<SideBySide> {
    const specs = await loadRules(options.lookoutRuleFiles);
    const alertmanager = await startAlertReceiver();
    const prometheus = await startPrometheus({
      ruleFiles: options.prometheusRuleFiles,
      alertmanagerUrls: [alertmanager.url],
      scrapeTargets: options.scrapeTargets,
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      externalLabels: EXTERNAL_LABELS,
      extraFlags: [`--web.external-url=${EXTERNAL_URL}`],
    });
    const client = new PrometheusQueryClient(settings(prometheusQuerySchema, { url: prometheus.url }));
    const notifier = new ReceivingNotifier();
    const written = new MemoryRemoteWriter();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'lookout-side-by-side-'));
    const lookout = new RuleManager({
      queryApi: client,
      remoteWriter: written,
      notifier,
      render: expandTemplate,
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
      metrics: new Metrics({ defaults: false }),
      dataDir,
      settings: {
        evaluationIntervalMs: INTERVAL_MS,
        externalLabels: EXTERNAL_LABELS,
        externalURL: EXTERNAL_URL,
        generatorURLBase: `${EXTERNAL_URL}/`,
        queryTimeoutMs: 5_000,
      },
    });
    await lookout.start(specs);
    return new SideBySide({
      prometheus,
      lookout,
      written,
      notifier,
      alertmanager,
      client,
      dataDir,
      ruleFiles: options.lookoutRuleFiles,
    });
  }

  /** Both read their rule files again: Prometheus on `POST /-/reload`, Lookout as its own reload does. */
  async reload(): Promise<void> {
    const response = await fetch(new URL('/-/reload', this.prometheus.url), { method: 'POST' });
    if (!response.ok) throw new Error(`Prometheus refused the reload: HTTP ${response.status}`);
    await this.lookout.update(await loadRules(this.ruleFiles));
  }

  /** Both sides' `/api/v1/alerts`, read one right after the other. */
  async alerts(): Promise<Both<ApiAlert[]>> {
    const prometheus = (await prometheusApi<{ alerts: ApiAlert[] }>(this.prometheus.url, '/api/v1/alerts'))
      .alerts;
    return { prometheus, lookout: this.lookout.alerts().alerts };
  }

  async rules(): Promise<Both<ApiRuleGroup[]>> {
    const prometheus = (await prometheusApi<{ groups: ApiRuleGroup[] }>(this.prometheus.url, '/api/v1/rules'))
      .groups;
    return { prometheus, lookout: this.lookout.rules().groups };
  }

  /**
   * Polls until both list the same alerts (activeAt within one interval:
   * one may have seen a scrape one evaluation before the other) and
   * Prometheus's satisfy `expected`; then returns Prometheus's.
   */
  untilAlertsAgree(
    expected: (alerts: ComparableAlert[]) => boolean,
    what: string,
    timeoutMs = 8_000,
  ): Promise<ComparableAlert[]> {
    const read = async () => {
      const both = await this.alerts();
      const prometheus = comparableAlerts(both.prometheus);
      const lookout = withinOneInterval(comparableAlerts(both.lookout), prometheus, ALERT_TIMES);
      return { prometheus, lookout };
    };
    return untilAgree(read, expected, `alerts: ${what}`, timeoutMs);
  }

  /**
   * Polls until both have sent the same alerts to Alertmanager, each firing
   * and each resolve once (times within one interval), and Prometheus's
   * satisfy `expected`.
   */
  untilSentAgree(
    expected: (sent: ComparableSend[]) => boolean,
    what: string,
    timeoutMs = 8_000,
  ): Promise<ComparableSend[]> {
    const read = async () => {
      const prometheus = comparableSends(this.alertmanager.received);
      const lookout = withinOneInterval(comparableSends(this.notifier.received), prometheus, SEND_TIMES);
      return { prometheus, lookout };
    };
    return untilAgree(read, expected, `sent alerts: ${what}`, timeoutMs);
  }

  /** Polls until both say the same of each rule's health, state and last error, and Prometheus's satisfy `expected`. */
  untilRulesAgree(
    expected: (rules: RuleStatus[]) => boolean,
    what: string,
    timeoutMs = 8_000,
  ): Promise<RuleStatus[]> {
    const read = async () => {
      const both = await this.rules();
      return { prometheus: ruleStatuses(both.prometheus), lookout: ruleStatuses(both.lookout) };
    };
    return untilAgree(read, expected, `rules: ${what}`, timeoutMs);
  }

  /**
   * Polls until the samples of the `names` series that Lookout wrote and that
   * Prometheus stored are the same over a window of two intervals, and
   * Prometheus's satisfy `expected`. The window ends two intervals back, for an
   * evaluation started late on a busy machine; it moves on with each poll, as
   * either may skip an evaluation that could not start in its slot.
   */
  untilWrittenAgree(
    names: readonly string[],
    expected: (samples: string[]) => boolean,
    what: string,
    timeoutMs = 8_000,
  ): Promise<string[]> {
    const sample = (labels: Labels, timeMs: number, value: number) =>
      JSON.stringify([sortedLabels(labels), timeMs, value]);
    const read = async () => {
      const until = Date.now() - 2 * INTERVAL_MS;
      const since = until - 2 * INTERVAL_MS;
      const inWindow = (timeMs: number) => timeMs >= since && timeMs <= until;
      const range = await prometheusApi<{ result: { metric: Labels; values: [number, string][] }[] }>(
        this.prometheus.url,
        `/api/v1/query?${new URLSearchParams({ query: `{__name__=~"${names.join('|')}"}[10s]` })}`,
      );
      const prometheus = range.result.flatMap(({ metric, values }) =>
        values
          .map(([t, v]) => ({ timeMs: Math.round(t * 1000), value: Number(v) }))
          .filter(({ timeMs }) => inWindow(timeMs))
          .map(({ timeMs, value }) => sample(metric, timeMs, value)),
      );
      const lookout = this.written.samples
        .filter((s) => !s.stale && names.includes(s.labels.__name__ ?? '') && inWindow(s.timeMs))
        .map((s) => sample(s.labels, s.timeMs, s.value));
      return { prometheus: prometheus.sort(), lookout: lookout.sort() };
    };
    return untilAgree(read, expected, `written series: ${what}`, timeoutMs);
  }

  async close(): Promise<void> {
    await this.lookout.stop();
    await this.client.close();
    await this.prometheus.close();
    await this.alertmanager.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function loadRules(files: string[]) {
  return loadRuleFiles(files, { baseDir: '/', remoteWrite: true, checkTemplate });
}

/** Fails with the difference between the two when they do not come to agree in time. */
async function untilAgree<T>(
  read: () => Promise<Both<T>>,
  expected: (prometheus: T) => boolean,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { prometheus, lookout } = await read();
    if (JSON.stringify(lookout) === JSON.stringify(prometheus) && expected(prometheus)) return prometheus;
    if (Date.now() > deadline) {
      expect(lookout, `Lookout and Prometheus while waiting for ${what}`).toEqual(prometheus);
      throw new Error(`timed out waiting for ${what}; Prometheus: ${JSON.stringify(prometheus)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export interface Both<T> {
  prometheus: T;
  lookout: T;
}

/** An alert of the API with its activation time in milliseconds, for a comparison with a tolerance. */
export interface ComparableAlert {
  labels: Labels;
  annotations: Labels;
  state: string;
  value: string;
  activeAtMs: number;
  keepFiringSinceMs?: number;
}

export function comparableAlerts(alerts: readonly ApiAlert[]): ComparableAlert[] {
  return (
    alerts
      .map(({ labels, annotations, state, value, activeAt, keepFiringSince }) => ({
        labels,
        annotations,
        state,
        value,
        activeAtMs: Date.parse(activeAt),
        ...(keepFiringSince && { keepFiringSinceMs: Date.parse(keepFiringSince) }),
      }))
      // Two rules may raise alerts with the same labels; Prometheus lists its groups in no fixed order.
      .sort((a, b) =>
        compareText(JSON.stringify([a.labels, a.annotations]), JSON.stringify([b.labels, b.annotations])),
      )
  );
}

const ALERT_TIMES = ['activeAtMs', 'keepFiringSinceMs'] as const;

/** An alert as sent: firing (with when it fired) or resolved (with when). */
export interface ComparableSend {
  labels: Labels;
  annotations: Labels;
  generatorURL: string;
  status: 'firing' | 'resolved';
  startsAtMs: number;
  endsAtMs?: number;
}

const SEND_TIMES = ['startsAtMs', 'endsAtMs'] as const;

/**
 * Each alert as first sent firing and as sent resolved; the later
 * repetitions of a firing alert differ only in their validity (endsAt).
 */
function comparableSends(received: readonly ReceivedAlert[]): ComparableSend[] {
  const sends = new Map<string, ComparableSend>();
  for (const alert of received) {
    const endsAtMs = Date.parse(alert.endsAt);
    const status = endsAtMs <= alert.receivedAtMs ? 'resolved' : 'firing';
    const send: ComparableSend = {
      labels: alert.labels,
      annotations: alert.annotations,
      generatorURL: alert.generatorURL,
      status,
      startsAtMs: Date.parse(alert.startsAt),
      ...(status === 'resolved' && { endsAtMs }),
    };
    const key = JSON.stringify([alert.labels, alert.startsAt, status]);
    if (!sends.has(key)) sends.set(key, send);
  }
  return [...sends.values()].sort((a, b) =>
    compareText(
      JSON.stringify([a.labels, a.startsAtMs, a.status]),
      JSON.stringify([b.labels, b.startsAtMs, b.status]),
    ),
  );
}

/**
 * One interval (one may have seen a scrape one evaluation before the other),
 * plus how late a busy machine may start an evaluation after its slot.
 */
const TIME_TOLERANCE_MS = INTERVAL_MS + 250;

/** Lookout's items with Prometheus's times where theirs differ by at most one interval. */
function withinOneInterval<T extends object>(
  lookout: T[],
  prometheus: T[],
  times: readonly (keyof T)[],
): T[] {
  return lookout.map((item, i) => {
    const other = prometheus[i];
    if (!other) return item;
    const aligned = { ...item };
    for (const time of times) {
      const ours = item[time];
      const theirs = other[time];
      if (
        typeof ours === 'number' &&
        typeof theirs === 'number' &&
        Math.abs(ours - theirs) <= TIME_TOLERANCE_MS
      )
        aligned[time] = theirs;
    }
    return aligned;
  });
}

export interface RuleStatus {
  group: string;
  rule: string;
  health: string;
  state?: string;
  lastError?: string;
}

/** Sorted: a rule file given to Prometheus in another form sorts elsewhere. */
function ruleStatuses(groups: readonly ApiRuleGroup[]): RuleStatus[] {
  return groups
    .flatMap((group) =>
      group.rules.map((rule) => ({
        group: group.name,
        rule: rule.name,
        health: rule.health,
        ...('state' in rule && { state: rule.state }),
        ...(rule.lastError && { lastError: rule.lastError }),
      })),
    )
    .sort((a, b) => compareText(JSON.stringify(a), JSON.stringify(b)));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
