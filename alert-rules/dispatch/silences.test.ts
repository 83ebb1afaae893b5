import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { Metrics } from '../../core/metrics.ts';
import { captureLog } from '../../test/robots/harness.ts';
import { FileSilenceStore, type Silence, type SilenceStore } from './silence-store.ts';
import { type SilenceInput, Silences, type SilencesSettings, silencesSchema } from './silences.ts';

const HOUR = 3_600_000;
const START = Date.parse('2026-12-02T10:00:00Z');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'silences-'));
  dirs.push(dir);
  return dir;
}

async function open(dir: string, clock: ManualClock, settings: Partial<SilencesSettings> = {}) {
  const { log, records } = captureLog();
  const metrics = new Metrics({ defaults: false });
  const silences = await Silences.open({
    store: new FileSilenceStore(dir),
    settings: { ...silencesSchema.parse({}), ...settings },
    log,
    metrics,
    clock,
  });
  return { silences, records, metrics };
}

const input = (overrides: Partial<SilenceInput> = {}): SilenceInput => ({
  matchers: [{ name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true }],
  startsAt: START,
  endsAt: START + 2 * HOUR,
  createdBy: 'alice',
  comment: 'disk replaced tonight',
  ...overrides,
});

describe('Silences', () => {
  it('goes from pending to active to expired, muting only while active', async () => {
    const clock = new ManualClock(START - HOUR);
    const { silences } = await open(tempDir(), clock);
    const id = await silences.set(input());
    const labels = { alertname: 'DiskFull', instance: 'db-1' };
    expect(silences.get(id)?.state).toBe('pending');
    expect(silences.mutedBy(labels)).toEqual([]);
    await clock.advance(HOUR);
    expect(silences.get(id)?.state).toBe('active');
    expect(silences.mutedBy(labels)).toEqual([id]);
    expect(silences.mutedBy({ alertname: 'Other' })).toEqual([]);
    await clock.advance(2 * HOUR);
    expect(silences.get(id)?.state).toBe('expired');
    expect(silences.mutedBy(labels)).toEqual([]);
    expect(silences.mutedBy(labels, START + HOUR)).toEqual([id]);
  });

  it('matches with regexes, negations and missing labels', async () => {
    const { silences } = await open(tempDir(), new ManualClock(START));
    const id = await silences.set(
      input({
        matchers: [
          { name: 'service', value: 'api-.*', isRegex: true, isEqual: true },
          { name: 'env', value: 'prod', isRegex: false, isEqual: false },
        ],
      }),
    );
    expect(silences.mutedBy({ service: 'api-gw', env: 'dev' })).toEqual([id]);
    expect(silences.mutedBy({ service: 'api-gw' })).toEqual([id]);
    expect(silences.mutedBy({ service: 'api-gw', env: 'prod' })).toEqual([]);
    expect(silences.mutedBy({ service: 'web' })).toEqual([]);
  });

  it('starts a new silence no earlier than now', async () => {
    const { silences } = await open(tempDir(), new ManualClock(START));
    const id = await silences.set(input({ startsAt: START - HOUR }));
    expect(silences.get(id)?.startsAt).toBe(START);
  });

  it('changes a silence in place when only its end or comment changes', async () => {
    const clock = new ManualClock(START);
    const { silences } = await open(tempDir(), clock);
    const id = await silences.set(input());
    await clock.advance(HOUR);
    const same = await silences.set(input({ id, endsAt: START + 5 * HOUR, comment: 'longer' }));
    expect(same).toBe(id);
    expect(silences.get(id)).toMatchObject({
      endsAt: START + 5 * HOUR,
      comment: 'longer',
      updatedAt: START + HOUR,
    });
  });

  it('replaces a silence whose matchers change, expiring the old one', async () => {
    const clock = new ManualClock(START);
    const { silences } = await open(tempDir(), clock);
    const id = await silences.set(input());
    await clock.advance(HOUR);
    const other = await silences.set(
      input({ id, matchers: [{ name: 'alertname', value: 'DiskSlow', isRegex: false, isEqual: true }] }),
    );
    expect(other).not.toBe(id);
    expect(silences.get(id)).toMatchObject({ state: 'expired', endsAt: START + HOUR });
    expect(silences.get(other)).toMatchObject({ state: 'active', startsAt: START + HOUR });
    await expect(silences.set(input({ id: 'nope' }))).rejects.toThrow('silence nope not found');
  });

  it('expires active and pending silences', async () => {
    const clock = new ManualClock(START);
    const { silences } = await open(tempDir(), clock);
    const active = await silences.set(input());
    const pending = await silences.set(input({ startsAt: START + HOUR }));
    await silences.expire(active);
    await silences.expire(pending);
    expect(silences.get(active)).toMatchObject({ state: 'expired', endsAt: START });
    expect(silences.get(pending)).toMatchObject({ state: 'expired', startsAt: START, endsAt: START });
    await expect(silences.expire(active)).rejects.toThrow('already expired');
    await expect(silences.expire('nope')).rejects.toMatchObject({ kind: 'not-found' });
  });

  it.each([
    [{ matchers: [] }, 'at least one matcher required'],
    [
      { matchers: [{ name: 'job', value: '(api', isRegex: true, isEqual: true }] },
      'matcher 0: matcher job=~"(api": invalid regular expression "(api": missing closing )',
    ],
    [
      {
        matchers: [
          { name: 'a', value: '', isRegex: false, isEqual: true },
          { name: 'b', value: '.*', isRegex: true, isEqual: true },
        ],
      },
      'at least one matcher must not match the empty string',
    ],
    [{ matchers: [{ name: '', value: 'x', isRegex: false, isEqual: true }] }, 'matcher 0: empty label name'],
    [{ endsAt: START - HOUR }, 'end time must not be before start time'],
    [{ comment: 'x'.repeat(2_000) }, 'more than the maximum of 1024 bytes'],
  ])('refuses an invalid silence %#', async (overrides, message) => {
    const { silences } = await open(tempDir(), new ManualClock(START), { maxSilenceBytes: 1024 });
    await expect(silences.set(input(overrides))).rejects.toThrow(message);
    expect(silences.list()).toEqual([]);
  });

  it('accepts a negative matcher alone, as Alertmanager does', async () => {
    const { silences } = await open(tempDir(), new ManualClock(START));
    const id = await silences.set(
      input({ matchers: [{ name: 'env', value: 'prod', isRegex: false, isEqual: false }] }),
    );
    expect(silences.mutedBy({ alertname: 'x' })).toEqual([id]);
  });

  it('bounds active and pending silences, not expired ones', async () => {
    const clock = new ManualClock(START);
    const { silences } = await open(tempDir(), clock, { maxSilences: 2 });
    const first = await silences.set(input());
    await silences.set(input());
    await expect(silences.set(input())).rejects.toMatchObject({ kind: 'limit' });
    await silences.expire(first);
    await silences.set(input());
    expect(silences.list().map((s) => s.state)).toEqual(['expired', 'active', 'active']);
  });

  it('keeps expired silences for the retention, then removes them', async () => {
    const clock = new ManualClock(START);
    const { silences, metrics } = await open(tempDir(), clock, { retention: 5 * 24 * HOUR });
    const id = await silences.set(input());
    await clock.advance(2 * HOUR + 5 * 24 * HOUR - 1);
    expect(await silences.gc()).toBe(0);
    expect(silences.get(id)?.state).toBe('expired');
    expect(await metrics.registry.getSingleMetricAsString('lookout_alert_rules_silences')).toContain(
      'lookout_alert_rules_silences{state="expired"} 1',
    );
    await clock.advance(1);
    expect(await silences.gc()).toBe(1);
    expect(silences.list()).toEqual([]);
  });

  it('keeps at most maxExpired expired silences, the newest', async () => {
    const clock = new ManualClock(START);
    const { silences } = await open(tempDir(), clock, { maxExpired: 1 });
    const older = await silences.set(input());
    await silences.expire(older);
    await clock.advance(1);
    const newer = await silences.set(input());
    await silences.expire(newer);
    expect(silences.list().map((s) => s.id)).toEqual([newer]);
  });

  it('restores silences after a restart', async () => {
    const dir = tempDir();
    const clock = new ManualClock(START);
    const first = await open(dir, clock);
    const active = await first.silences.set(input());
    const expired = await first.silences.set(input({ comment: 'short' }));
    await first.silences.expire(expired);
    await clock.advance(HOUR);
    const second = await open(dir, clock);
    expect(second.silences.list()).toEqual(first.silences.list());
    expect(second.silences.mutedBy({ alertname: 'DiskFull' })).toEqual([active]);
    expect(JSON.parse(readFileSync(join(dir, 'silences.json'), 'utf8')).silences[0].startsAt).toBe(
      '2026-12-02T10:00:00.000Z',
    );
  });

  it('starts empty from a corrupt file, keeps it aside and counts it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'silences.json'), '{"version":1,"silences":[{"id":');
    const { silences, records, metrics } = await open(dir, new ManualClock(START));
    expect(silences.list()).toEqual([]);
    expect(
      records().some((r) => r.msg === 'stored silences could not be read; starting without silences'),
    ).toBe(true);
    expect(readdirSync(dir).some((f) => f.startsWith('silences.json.corrupt-'))).toBe(true);
    expect(
      await metrics.registry.getSingleMetricAsString('lookout_alert_rules_silence_store_corrupt_total'),
    ).toMatch(/ 1$/m);
    await silences.set(input());
    expect(silences.list()).toHaveLength(1);
  });

  it('keeps silences in force when a write fails', async () => {
    const failing: SilenceStore = {
      describe: () => 'broken store',
      load: async () => ({ silences: [] }),
      save: async (_silences: readonly Silence[]) => {
        throw new Error('disk full');
      },
    };
    const { log, records } = captureLog();
    const metrics = new Metrics({ defaults: false });
    const silences = await Silences.open({
      store: failing,
      settings: silencesSchema.parse({}),
      log,
      metrics,
      clock: new ManualClock(START),
    });
    const id = await silences.set(input());
    expect(silences.mutedBy({ alertname: 'DiskFull' })).toEqual([id]);
    expect(records().at(-1)).toMatchObject({
      store: 'broken store',
      err: expect.stringContaining('disk full'),
    });
    expect(
      await metrics.registry.getSingleMetricAsString(
        'lookout_alert_rules_silence_store_write_failures_total',
      ),
    ).toMatch(/ 1$/m);
  });
});
