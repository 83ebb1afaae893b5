import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMapSilenceStore } from '../alert-rules/dispatch/config-map-silence-store.ts';
import { type SilenceInput, Silences, silencesSchema } from '../alert-rules/dispatch/silences.ts';
import { ManualClock } from '../core/fixtures/manual-clock.ts';
import { Metrics } from '../core/metrics.ts';
import { captureLog } from './robots/harness.ts';
import { createNamespace, deleteNamespace, kubeClient } from './support/kube-events.ts';

let namespace = '';
const HOUR = 3_600_000;
const START = Date.parse('2026-12-02T10:00:00Z');

const core = () => kubeClient().core;

async function replica(name: string, clock: ManualClock) {
  const { log, records } = captureLog();
  const metrics = new Metrics({ defaults: false });
  const settings = silencesSchema.parse({});
  const store = new ConfigMapSilenceStore({
    kube: kubeClient().kube,
    namespace,
    name,
    retentionMs: settings.retention,
    maxBytes: 900_000,
    now: () => clock.now(),
  });
  const silences = await Silences.open({ store, settings, log, metrics, clock });
  return { silences, records, metrics };
}

const input = (value: string): SilenceInput => ({
  matchers: [{ name: 'alertname', value, isRegex: false, isEqual: true }],
  startsAt: START,
  endsAt: START + 2 * HOUR,
  createdBy: 'alice',
  comment: `silence ${value}`,
});

describe('silences in a ConfigMap (kube-apiserver)', () => {
  beforeAll(async () => {
    namespace = await createNamespace('silences');
  });

  afterAll(() => deleteNamespace(namespace));

  it('shares silences between two replicas, each change merged with what the other wrote', async () => {
    const clock = new ManualClock(START);
    const a = await replica('shared', clock);
    const b = await replica('shared', clock);
    const first = await a.silences.set(input('DiskFull'));
    // B has not synced yet: its write must not drop A's silence.
    const second = await b.silences.set(input('NodeDown'));
    await a.silences.sync();
    await b.silences.sync();
    for (const { silences } of [a, b]) {
      expect(silences.mutedBy({ alertname: 'DiskFull' })).toEqual([first]);
      expect(silences.mutedBy({ alertname: 'NodeDown' })).toEqual([second]);
    }
    // An expiry on B wins over A's older version of the same silence.
    await clock.advance(HOUR);
    await b.silences.expire(first);
    await a.silences.sync();
    expect(a.silences.get(first)?.state).toBe('expired');
    // A restarted replica finds everything.
    const c = await replica('shared', clock);
    expect(
      c.silences
        .list()
        .map((s) => `${s.id}:${s.state}`)
        .sort(),
    ).toEqual([`${first}:expired`, `${second}:active`].sort());
  });

  it('drops what is past the retention when merging', async () => {
    const clock = new ManualClock(START);
    const a = await replica('retention', clock);
    const b = await replica('retention', clock);
    const old = await a.silences.set(input('Old'));
    await a.silences.expire(old);
    await clock.advance(6 * 24 * HOUR);
    await b.silences.set({ ...input('New'), startsAt: clock.now(), endsAt: clock.now() + HOUR });
    await a.silences.sync();
    expect(a.silences.get(old)).toBeUndefined();
    const stored = await core().readNamespacedConfigMap({ namespace, name: 'retention' });
    expect(stored.data?.['silences.json']).not.toContain(old);
  });

  it('starts empty from unreadable content, counts it and keeps the text under another key', async () => {
    await core().createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'corrupt' }, data: { 'silences.json': '{"version":1,"silences":[{' } },
    });
    const clock = new ManualClock(START);
    const { silences, records, metrics } = await replica('corrupt', clock);
    expect(silences.list()).toEqual([]);
    expect(
      records().some((r) => r.msg === 'stored silences could not be read; starting without silences'),
    ).toBe(true);
    expect(
      await metrics.registry.getSingleMetricAsString('lookout_alert_rules_silence_store_corrupt_total'),
    ).toMatch(/ 1$/m);
    await silences.set(input('After'));
    const stored = await core().readNamespacedConfigMap({ namespace, name: 'corrupt' });
    expect(stored.data?.['silences.corrupt.json']).toBe('{"version":1,"silences":[{');
    expect(stored.data?.['silences.json']).toContain('After');
  });
});
