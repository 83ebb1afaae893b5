import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { RecordingNotifier } from '../rules/fixtures/fakes.ts';
import { API_TARGETS_FILE } from './api-targets.ts';
import { FakeProber, MODULES } from './fixtures/fakes.ts';
import { loopbackGuard } from './fixtures/probe-fixtures.ts';
import { Probes } from './probes.ts';
import { probesSchema } from './probes-config.ts';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'probes-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function probes(config: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createLogger({
    destination: new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const running = new Probes({
    config: probesSchema.parse(config),
    modules: MODULES,
    guard: loopbackGuard,
    prober: new FakeProber(clock).probe,
    clock,
    notifier: new RecordingNotifier(),
    dataDir,
    alerts: { resendDelay: 60_000, resolvedRetention: 900_000, externalLabels: {}, externalURL: '' },
    metrics: new Metrics({ defaults: false }),
    log,
  });
  return { running, lines };
}

const shop = (id: string) => ({ target: `https://${id}.example/`, module: 'http_2xx' });

describe('Probes', () => {
  it('starts with the saved targets that fit under a lowered maxTargets, and says how many it left out', async () => {
    const saved = ['a', 'b', 'c'].map((id) => ({ id, spec: shop(id) }));
    await writeFile(
      join(dataDir, API_TARGETS_FILE),
      JSON.stringify({ version: 1, savedAtMs: 0, targets: saved }),
    );
    const { running, lines } = probes({ maxTargets: 2, targets: [{ name: 'home', ...shop('home') }] });
    await running.start();
    expect(running.list().map((p) => [p.id, p.source])).toEqual([
      ['home', 'config'],
      ['a', 'api'],
    ]);
    expect(running.moduleNames()).toEqual([...MODULES.keys()].sort());
    expect(lines.join('')).toContain('"targets":2,"maxTargets":2');
    // Those left out can still be deleted.
    await running.remove('c');
    await running.stop();
  });

  it('refuses a configuration with more targets than maxTargets', () => {
    const parsed = probesSchema.safeParse({
      maxTargets: 1,
      targets: [
        { name: 'a', ...shop('a') },
        { name: 'b', ...shop('b') },
      ],
    });
    expect(parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['targets', 'more targets than maxTargets allows'],
    ]);
  });
});
