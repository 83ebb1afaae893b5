import { afterEach, describe, expect, it } from 'vitest';
import type { LookoutProcess } from './support/lookout-process.ts';
import type { Rotation } from './support/numbered-writer.ts';
import { expectAllDelivered, pause, type SidecarRun, startSidecarRun } from './support/sidecar-run.ts';

const running: LookoutProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
});

async function setup(name: string, layout: 'file' | 'container'): Promise<SidecarRun> {
  const s = await startSidecarRun(name, { layout });
  running.push(s.sidecar);
  return s;
}

/**
 * Writes for about 15 s in steps, rotating every few seconds and killing the
 * sidecar with SIGKILL at random moments, restarting it after a short while.
 * Rotations wait until the sidecar has been up for a moment: a file created
 * and renamed away entirely while no sidecar runs is not matched by the
 * pattern, and no tailer that finds files by name can know of it.
 */
async function writeWithKills(s: SidecarRun, rotations: Rotation[]): Promise<string[]> {
  const random = mulberry32(Number(process.env.LOOKOUT_TEST_SEED ?? Date.now() % 1e9));
  const events: string[] = [];
  let upSince = Date.now();
  let lastRotation = Date.now();
  for (let step = 0; step < 120; step++) {
    await s.writer.write(150);
    const now = Date.now();
    if (now - lastRotation > 2_000 && now - upSince > 2_500 && random() < 0.3) {
      const kind = rotations[Math.floor(random() * rotations.length)]!;
      events.push(`${kind}@${s.writer.written}`);
      await s.writer.rotate(kind);
      lastRotation = now;
    }
    if (step % 30 === 15 + Math.floor(random() * 10)) {
      events.push(`kill@${s.writer.written}`);
      await s.sidecar.kill();
      await pause(200 + random() * 800);
      await s.writer.write(100);
      await s.sidecar.start();
      upSince = Date.now();
    }
    await pause(50 + random() * 100);
  }
  return events;
}

describe('sidecar delivery (real Kafka and Elasticsearch)', () => {
  it.each([
    { what: 'a rotated application log', layout: 'file', rotations: ['rename'] },
    {
      what: 'a container log through target rotation and restarts',
      layout: 'container',
      rotations: ['rename', 'restart'],
    },
  ] as const)(
    'delivers every line of $what through kill -9 at random moments',
    async ({ layout, rotations }) => {
      const s = await setup(layout === 'file' ? 'applog' : 'container', layout);
      await s.writer.write(1);
      await s.sidecar.start();
      const events = await writeWithKills(s, [...rotations]);
      await expectAllDelivered(s).catch((err: Error) => {
        throw new Error(`${err.message}\nevents: ${events.join(' ')}`);
      });
      expect(await s.sidecar.stop()).toBe(0);
    },
    240_000,
  );

  it('delivers every line through copytruncate rotations', async () => {
    const s = await setup('copytrunc', 'file');
    await s.writer.write(1);
    await s.sidecar.start();
    for (let step = 0; step < 6; step++) {
      await s.writer.write(2_000);
      // copytruncate loses what the tailer had not read when the file is emptied (true of every tailer);
      // an application logging steadily is read within milliseconds, so give it a moment as logrotate does.
      await pause(700);
      await s.writer.rotate('copytruncate');
    }
    await s.writer.write(500);
    await expectAllDelivered(s);
    expect(await s.sidecar.stop()).toBe(0);
  }, 180_000);
});

/** Small seeded generator, so a failing run can be repeated with LOOKOUT_TEST_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
