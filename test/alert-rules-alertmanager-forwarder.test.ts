import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AlertmanagerForwarder, forwardingSchema } from '../alert-rules/dispatch/alertmanager-forwarder.ts';
import { infraAddress } from './infra/control.ts';
import { captureLog } from './robots/harness.ts';
import { eventually } from './support/lookout-process.ts';

/** Alerts forwarded to the real Alertmanager are there when read back through its API. */
describe('forwarding alerts to Alertmanager', () => {
  it('posts alerts with external labels that Alertmanager then lists', async () => {
    const url = infraAddress('alertmanager');
    const forwarder = new AlertmanagerForwarder({
      config: forwardingSchema.parse({
        alertmanagers: [{ url }],
        externalLabels: { cluster: 'lookout-test' },
      }),
      log: captureLog().log,
    });
    const run = randomUUID();
    const now = Date.now();
    const alerts = (endsAt: number) =>
      ['DiskFull', 'HighLatency'].map((alertname) => ({
        labels: { alertname, run },
        annotations: { summary: `${alertname} in the forwarding test` },
        startsAt: new Date(now - 60_000).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
        generatorURL: 'http://prometheus:9090/graph',
      }));
    forwarder.send(alerts(now + 4 * 60_000));
    await forwarder.idle();
    const listed = await eventually(
      async () => {
        const response = await fetch(`${url}/api/v2/alerts?filter=${encodeURIComponent(`run="${run}"`)}`);
        return (await response.json()) as { labels: Record<string, string>; status: { state: string } }[];
      },
      (alerts) => alerts.length === 2,
      'both alerts listed by Alertmanager',
    );
    expect(listed.map((a) => a.labels.alertname).sort()).toEqual(['DiskFull', 'HighLatency']);
    expect(listed.every((a) => a.labels.cluster === 'lookout-test' && a.status.state === 'active')).toBe(
      true,
    );
    // Resolved, so the shared Alertmanager does not keep them.
    forwarder.send(alerts(Date.now()));
    await forwarder.stop(AbortSignal.timeout(5_000));
  });
});
