import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertingRuleOptions } from '../alert-rules/rules/alerting-rule.ts';
import { LogAlertingRule } from '../alert-rules/rules/log-rule.ts';
import { LogSearchClient, logSearchSchema } from '../alert-rules/rules/log-search-client.ts';
import { formatRuleFileProblem, parseRuleFile } from '../alert-rules/rules/rule-file.ts';
import { expandTemplate } from '../alert-rules/rules/template/expand.ts';
import type { LogRuleSpec } from '../alert-rules/types.ts';
import { infraAddress } from './infra/control.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

/**
 * Log rules evaluated against a real collector, on its embedded store and on
 * Elasticsearch, over lines ingested through its API. The evaluation time is
 * the test's to choose (each evaluation is asked for at a time of its own), so
 * windows of minutes need no waiting.
 */

const INGEST = 'log-rules-ingest-token-0123';
const RULES = 'log-rules-viewer-token-0123';
const MINUTE = 60_000;
/** The end of the windows evaluated: an hour ago, on the minute, so every line is in the past. */
const T = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;

interface Line {
  at: number;
  namespace: string;
  pod: string;
  message: string;
  level?: string;
  container?: string;
  status?: number;
}

function lines(count: number, make: (i: number) => Omit<Line, 'at'>, from: number, to: number): Line[] {
  return Array.from({ length: count }, (_, i) => ({
    ...make(i),
    at: from + Math.floor(((to - from) * i) / count),
  }));
}

/** The data set: what each rule below is about, placed in its windows relative to T. */
const DATA: Line[] = [
  // count: 60 errors from pay-0 and 10 from pay-1 in the 5 minutes before T, 5 in the 5 before that.
  ...lines(
    60,
    () => ({
      namespace: 'payment',
      pod: 'pay-0',
      level: 'error',
      message: 'charge failed password=hunter2 card declined',
    }),
    T - 5 * MINUTE,
    T,
  ),
  ...lines(
    10,
    () => ({ namespace: 'payment', pod: 'pay-1', level: 'error', message: 'charge failed' }),
    T - 5 * MINUTE,
    T,
  ),
  ...lines(
    5,
    () => ({ namespace: 'payment', pod: 'pay-0', level: 'error', message: 'charge failed' }),
    T - 10 * MINUTE,
    T - 5 * MINUTE,
  ),
  // ratio: 100 access lines, 3 of them 500s.
  ...lines(
    100,
    (i) => ({
      namespace: 'web',
      pod: 'web-0',
      container: 'nginx',
      status: i % 33 === 1 ? 500 : 200,
      message: `GET /item/${i}`,
    }),
    T - 5 * MINUTE,
    T,
  ),
  // spike: 2 failed logins before, 10 now.
  ...lines(
    2,
    () => ({ namespace: 'web', pod: 'web-0', message: 'login failed for user' }),
    T - 10 * MINUTE,
    T - 5 * MINUTE,
  ),
  ...lines(
    10,
    () => ({ namespace: 'web', pod: 'web-0', message: 'login failed for user' }),
    T - 5 * MINUTE,
    T,
  ),
  // flatline: both order pods beat until T-10m, only order-0 after.
  ...lines(
    10,
    (i) => ({ namespace: 'order', pod: `order-${i % 2}`, message: 'heartbeat' }),
    T - 20 * MINUTE,
    T - 10 * MINUTE,
  ),
  ...lines(5, () => ({ namespace: 'order', pod: 'order-0', message: 'heartbeat' }), T - 10 * MINUTE, T),
  // any: two OutOfMemoryErrors in the last minute.
  ...lines(
    2,
    (i) => ({
      namespace: 'payment',
      pod: `pay-${i}`,
      message: 'OutOfMemoryError: Java heap space',
    }),
    T - MINUTE,
    T,
  ),
  // a namespace the rules' token may not read.
  ...lines(
    3,
    () => ({ namespace: 'secret', pod: 'vault-0', level: 'error', message: 'charge failed' }),
    T - 5 * MINUTE,
    T,
  ),
];

const RULE_FILE = `
groups:
  - name: logs
    kind: logs
    rules:
      - alert: PaymentErrors
        type: count
        query: 'level:error charge'
        namespaces: [payment]
        window: 5m
        above: 50
        group_by: [pod]
        labels: { severity: critical }
        annotations: { summary: '{{ $value }} errors on {{ $labels.pod }}' }
      - alert: FewPaymentErrors
        type: count
        query: 'level:error'
        namespaces: [payment]
        window: 5m
        below: 3
      - alert: ServerErrors
        type: ratio
        query: 'http.status:500'
        total: 'container:nginx'
        namespaces: [web]
        window: 5m
        above: 0.02
      - alert: LoginSpike
        type: spike
        query: '"login failed"'
        namespaces: [web]
        window: 5m
        above: 3
        min_count: 5
      - alert: OrderPodSilent
        type: flatline
        query: heartbeat
        namespaces: [order]
        window: 10m
        group_by: [pod]
      - alert: OrdersSilent
        type: flatline
        query: heartbeat
        namespaces: [order]
        window: 5m
      - alert: OutOfMemory
        type: any
        query: OutOfMemoryError
        namespaces: [payment]
        window: 1m
        group_by: [pod]
      - alert: OutOfMemoryFlood
        type: any
        query: OutOfMemoryError
        namespaces: [payment]
        window: 1m
        max_alerts: 1
      - alert: SecretErrors
        type: count
        query: 'level:error'
        namespaces: [secret]
        window: 5m
        above: 0
`;

const SECRET_LINE = RULE_FILE.split('\n').findIndex((line) => line.includes('[secret]')) + 1;

function doc(line: Line, index: number) {
  return {
    '@timestamp': new Date(line.at).toISOString(),
    message: line.message,
    log: { offset: index, ...(line.level ? { level: line.level } : {}) },
    kubernetes: {
      namespace: line.namespace,
      pod: { name: line.pod },
      container: { name: line.container ?? 'app' },
    },
    ...(line.status ? { http: { status: line.status } } : {}),
    event: { id: `log-rules-${index}` },
  };
}

/** A collector with the data set ingested and searchable, and log rules reading it with the rules' token. */
async function storeCase(name: string, storeConfig: string) {
  const dir = await mkdtemp(join(tmpdir(), `lookout-log-rules-${name}-`));
  const file = await writeConfig(
    dir,
    `
http:
  listen: "127.0.0.1:0"
  auth:
    tokens:
      - { name: ingest, token: ${INGEST}, role: editor }
      - { name: log-rules, token: ${RULES}, role: viewer, namespaces: [payment, web, order] }
dataDir: ${join(dir, 'data')}
collector:
${storeConfig}
`,
  );
  const collector = new LookoutProcess('collector', file);
  const api = await collector.start(60_000);
  const body = DATA.map((line, i) => `${JSON.stringify(doc(line, i))}\n`).join('');
  const response = await fetch(`${api}/api/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  expect(response.status).toBe(200);
  const search = new LogSearchClient(
    logSearchSchema.parse({
      url: api,
      auth: { bearerToken: RULES },
      consoleUrl: 'https://lookout.example.com',
    }),
  );
  const readable = DATA.filter((line) => line.namespace !== 'secret').length;
  await eventually(
    () => search.count({ query: '', namespaces: [], fromMs: T - 60 * MINUTE, toMs: T + MINUTE }, []),
    (count) => count.total === readable,
    'the ingested lines to be searchable',
  );
  return {
    search,
    async close() {
      await search.close();
      await collector.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const OPTIONS: AlertingRuleOptions = {
  render: expandTemplate,
  externalLabels: {},
  externalURL: '',
  resolvedRetentionMs: 15 * MINUTE,
  queryApi: {
    query: () => Promise.reject(new Error('log rules ask no Prometheus')),
  },
};

const SPECS = (() => {
  const parsed = parseRuleFile('rules/logs.yaml', RULE_FILE, { remoteWrite: false, logs: {} });
  expect(parsed.problems.map(formatRuleFileProblem)).toEqual([]);
  return new Map(parsed.groups[0]!.rules.map((rule) => [(rule as LogRuleSpec).alert, rule as LogRuleSpec]));
})();

for (const store of ['embedded', 'elasticsearch'] as const) {
  describe(`log rules on the ${store} store`, () => {
    let subject: Awaited<ReturnType<typeof storeCase>>;

    beforeAll(async () => {
      const config =
        store === 'embedded'
          ? '  search: {}'
          : `  elasticsearch: { nodes: ["${infraAddress('elasticsearch')}"], index: "log-rules-${Date.now()}-{yyyy.MM.dd}", replicas: 0 }`;
      subject = await storeCase(store, config);
    }, 120_000);

    afterAll(async () => {
      await subject?.close();
    });

    /** A fresh rule (of the file, by name), evaluated at each of the times given; its alerts after the last. */
    async function evaluate(named: string | LogRuleSpec, ...times: number[]) {
      const spec = typeof named === 'string' ? SPECS.get(named)! : named;
      const rule = new LogAlertingRule(spec, {}, OPTIONS, {
        search: subject.search,
        consoleUrl: 'https://lookout.example.com',
        sampleLines: 2,
        sampleLineBytes: 30,
        alertsWithLines: 10,
      });
      for (const timeMs of times) {
        await rule.evaluate({
          timeMs,
          queryOffsetMs: 0,
          limit: 0,
          query: OPTIONS.queryApi.query,
          signal: AbortSignal.timeout(30_000),
        });
      }
      return {
        rule,
        alerts: rule.currentAlerts().sort((a, b) => (a.labels.pod ?? '').localeCompare(b.labels.pod ?? '')),
      };
    }

    it('count: one alert per group above the threshold, quoting bounded, redacted lines and linking to the search', async () => {
      const { alerts } = await evaluate('PaymentErrors', T);
      expect(alerts).toHaveLength(1);
      const [alert] = alerts;
      expect(alert).toMatchObject({
        state: 'firing',
        value: 60,
        labels: { alertname: 'PaymentErrors', pod: 'pay-0', severity: 'critical' },
      });
      expect(alert!.annotations.summary).toBe('60 errors on pay-0');
      const quoted = `${'charge failed password=[redacted] card declined'.slice(0, 30)}…`;
      expect(alert!.annotations.log_lines).toBe(`${quoted}\n${quoted}`);
      const link = new URL(alert!.annotations.logs_url!);
      expect(link.origin + link.pathname).toBe('https://lookout.example.com/logs');
      expect(Object.fromEntries(link.searchParams)).toEqual({
        q: 'level:error charge',
        namespace: 'payment',
        pod: 'pay-0',
        from: new Date(T - 5 * MINUTE).toISOString(),
        to: new Date(T).toISOString(),
      });
    });

    it('count: below a threshold, and resolved when the condition clears', async () => {
      const quiet = await evaluate('FewPaymentErrors', T - 20 * MINUTE, T);
      expect(quiet.alerts).toMatchObject([{ state: 'inactive', value: 0 }]);
      expect(quiet.alerts[0]!.resolvedAtMs).toBe(T);
      const errors = await evaluate('PaymentErrors', T, T + 10 * MINUTE);
      expect(errors.alerts).toMatchObject([{ state: 'inactive', resolvedAtMs: T + 10 * MINUTE }]);
    });

    it('goes pending, then firing once the condition held for its for', async () => {
      const slow = { ...SPECS.get('FewPaymentErrors')!, forMs: 2 * MINUTE };
      expect((await evaluate(slow, T - 40 * MINUTE)).alerts).toMatchObject([{ state: 'pending' }]);
      expect((await evaluate(slow, T - 40 * MINUTE, T - 39 * MINUTE)).alerts).toMatchObject([
        { state: 'pending' },
      ]);
      expect((await evaluate(slow, T - 40 * MINUTE, T - 38 * MINUTE)).alerts).toMatchObject([
        { state: 'firing', activeAtMs: T - 40 * MINUTE, firedAtMs: T - 38 * MINUTE },
      ]);
    });

    it('ratio: the share of matching lines among the total', async () => {
      const { alerts } = await evaluate('ServerErrors', T);
      expect(alerts).toMatchObject([{ state: 'firing', value: 0.03, labels: { alertname: 'ServerErrors' } }]);
      expect(alerts[0]!.annotations.log_lines).toMatch(/^GET \/item\/1\nGET \/item\/34$/);
    });

    it('spike: against the window before, and not before the lines come', async () => {
      expect((await evaluate('LoginSpike', T)).alerts).toMatchObject([{ state: 'firing', value: 5 }]);
      expect((await evaluate('LoginSpike', T - 5 * MINUTE)).alerts).toEqual([]);
    });

    it('flatline: a group that logged before and not now, and a query with no lines at all', async () => {
      const pods = await evaluate('OrderPodSilent', T);
      expect(pods.alerts).toMatchObject([{ state: 'firing', value: 0, labels: { pod: 'order-1' } }]);
      expect(pods.alerts[0]!.annotations.log_lines).toBeUndefined();
      expect((await evaluate('OrdersSilent', T)).alerts).toEqual([]);
      expect((await evaluate('OrdersSilent', T + 10 * MINUTE)).alerts).toMatchObject([{ state: 'firing' }]);
    });

    it('any: each matching line is an alert, and more than max_alerts one digest', async () => {
      const each = await evaluate('OutOfMemory', T);
      expect(each.alerts.map((a) => a.labels.pod)).toEqual(['pay-0', 'pay-1']);
      expect(new Set(each.alerts.map((a) => a.labels.event_id)).size).toBe(2);
      for (const alert of each.alerts) {
        expect(alert.annotations.log_lines).toBe(`${'OutOfMemoryError: Java heap space'.slice(0, 30)}…`);
        expect(new URL(alert.annotations.logs_url!).searchParams.get('f.event.id')).toBe(
          alert.labels.event_id,
        );
      }
      const flood = await evaluate('OutOfMemoryFlood', T);
      expect(flood.alerts).toMatchObject([{ state: 'firing', value: 2, labels: { digest: 'true' } }]);
      expect(flood.alerts[0]!.annotations.log_lines?.split('\n')).toHaveLength(2);
      expect((await evaluate('OutOfMemory', T + 2 * MINUTE)).alerts).toEqual([]);
    });

    it('refuses a rule over a namespace its token may not read: at load, and at evaluation', async () => {
      const namespaces = await subject.search.namespaces();
      const parsed = parseRuleFile('rules/logs.yaml', RULE_FILE, {
        remoteWrite: false,
        logs: { namespaces },
      });
      expect(parsed.problems.map(formatRuleFileProblem)).toEqual([
        `rules/logs.yaml:${SECRET_LINE}: group "logs", rule 9 ("SecretErrors"): the log search's token may not read namespace(s): secret`,
      ]);
      await expect(evaluate('SecretErrors', T)).rejects.toThrow(
        'the log search refused the query (HTTP 403): token "log-rules" may not read namespace(s): secret',
      );
    });
  });
}
