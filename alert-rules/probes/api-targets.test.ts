import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as atomicFile from '../../core/atomic-file.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { API_TARGETS_FILE, ApiTargets } from './api-targets.ts';

vi.mock('../../core/atomic-file.ts', async (importOriginal) => {
  const real = await importOriginal<typeof atomicFile>();
  return { ...real, writeFileAtomic: vi.fn(real.writeFileAtomic) };
});

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'api-targets-'));
  vi.mocked(atomicFile.writeFileAtomic).mockClear();
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const open = () =>
  new ApiTargets({ dataDir, maxBytes: 1 << 20, log: silent, metrics: new Metrics({ defaults: false }) });
const spec = (i: number) => ({ target: `https://shop-${i}.example/`, module: 'http_2xx' });

async function savedIds(): Promise<string[]> {
  const saved = JSON.parse(await readFile(join(dataDir, API_TARGETS_FILE), 'utf8')) as {
    targets: { id: string }[];
  };
  return saved.targets.map((t) => t.id);
}

describe('ApiTargets', () => {
  it('answers each change once a write holds it, and shares writes between changes made meanwhile', async () => {
    const targets = open();
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        targets.set(`t${i}`, spec(i)).then(async () => {
          // Whatever else is under way, this change is on disk when its promise settles.
          if (i % 100 === 0) expect(await savedIds()).toContain(`t${i}`);
        }),
      ),
    );
    expect(await savedIds()).toHaveLength(1_000);
    expect(vi.mocked(atomicFile.writeFileAtomic).mock.calls.length).toBeLessThan(20);

    await Promise.all([targets.delete('t1'), targets.set('t1000', spec(1000))]);
    const reopened = open();
    const loaded = await reopened.load();
    expect(loaded.size).toBe(1_000);
    expect(loaded.has('t1')).toBe(false);
    expect(loaded.get('t1000')).toEqual(spec(1000));
  });
});
