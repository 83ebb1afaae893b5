import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertmanagerConfig } from '../alert-rules/dispatch/alertmanager-config.ts';
import { Inhibitor } from '../alert-rules/dispatch/inhibit.ts';
import type { Labels } from '../alert-rules/types.ts';
import { type HttpServer, startAlertmanager } from './infra/prometheus.ts';

/**
 * One Alertmanager file, read by Alertmanager and by Lookout: the same
 * firing alerts must come out inhibited (or not) the same way. Alertmanager
 * names one inhibiting alert; Lookout names them all, so its list holds
 * Alertmanager's.
 */

const CONFIG = `
route:
  receiver: hook
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs: [{url: 'http://127.0.0.1:9/unused'}]
inhibit_rules:
  - source_matchers: [severity=~"critical|major"]
    target_matchers: [severity=~"major|minor"]
    equal: [service, cluster]
  - source_match: {alertname: ClusterDown}
    target_match_re: {alertname: "Disk.*"}
    equal: [cluster]
`;

const ALERTS: Labels[] = [
  { alertname: 'Major', service: 'api', severity: 'major' },
  { alertname: 'Minor', service: 'api', severity: 'minor' },
  { alertname: 'Critical', service: 'api', severity: 'critical' },
  { alertname: 'OtherCluster', service: 'web', severity: 'major', cluster: 'x' },
  { alertname: 'NoCluster', service: 'web', severity: 'minor' },
  { alertname: 'ClusterDown', cluster: 'x' },
  { alertname: 'DiskFull', cluster: 'x' },
  { alertname: 'DiskSlow', cluster: 'y' },
];

interface GettableAlert {
  labels: Labels;
  fingerprint: string;
  status: { inhibitedBy: string[] };
}

let alertmanager: HttpServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inhibit-compare-'));
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, CONFIG);
  alertmanager = await startAlertmanager({ configFile });
});

afterAll(async () => {
  await alertmanager?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function readVerdicts(): Promise<Record<string, string[]>> {
  const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as GettableAlert[];
  const names = new Map(alerts.map((a) => [a.fingerprint, a.labels.alertname!]));
  return Object.fromEntries(
    alerts.map((a) => [a.labels.alertname!, a.status.inhibitedBy.map((fp) => names.get(fp) ?? fp)]),
  );
}

/** Alertmanager marks inhibition as groups are flushed: read until two reads a second apart agree. */
async function alertmanagerVerdicts(): Promise<Record<string, string[]>> {
  const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ALERTS.map((labels) => ({ labels }))),
  });
  expect(response.status).toBe(200);
  let previous = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    await delay(1_000);
    const verdicts = await readVerdicts();
    const text = JSON.stringify(verdicts);
    const anyInhibited = Object.values(verdicts).some((by) => by.length > 0);
    if (anyInhibited && text === previous) return verdicts;
    previous = text;
  }
  throw new Error(`Alertmanager's verdicts did not settle: ${previous}`);
}

describe('inhibition, Lookout against Alertmanager', () => {
  it('inhibits the same alerts', async () => {
    const theirs = await alertmanagerVerdicts();
    const inhibitor = new Inhibitor(parseAlertmanagerConfig(CONFIG, 'alertmanager.yml').inhibitRules);
    inhibitor.setAlerts(ALERTS.map((labels) => ({ labels, fingerprint: labels.alertname })));
    for (const labels of ALERTS) {
      const ours = inhibitor.inhibitedBy(labels);
      const name = labels.alertname!;
      expect({ name, inhibited: ours.length > 0 }).toEqual({ name, inhibited: theirs[name]!.length > 0 });
      expect(ours).toEqual(expect.arrayContaining(theirs[name]!));
    }
    expect(Object.entries(theirs).filter(([, by]) => by.length > 0).length).toBeGreaterThanOrEqual(3);
  });
});
