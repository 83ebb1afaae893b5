import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { BatchReceipt, ReportedResult, ResultBatch } from '../probes/agent-protocol.ts';
import { RefusedError } from './centre-client.ts';
import { probeAgentSchema } from './config.ts';
import { Reporter } from './reporter.ts';
import { ResultsBuffer } from './results-buffer.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let dir: string;
let buffer: ResultsBuffer;
let stopping: AbortController;
let running: Promise<void> | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reporter-'));
  buffer = await ResultsBuffer.open({
    dir,
    maxBytes: 1024 * 1024,
    fsyncIntervalMs: 10,
    log: silent,
    now: Date.now,
  });
  stopping = new AbortController();
});

afterEach(async () => {
  stopping.abort();
  await running;
  buffer.close();
  await rm(dir, { recursive: true, force: true });
});

/** A centre that records what it was sent and answers as the test says. */
class FakeCentre {
  readonly batches: ResultBatch[] = [];
  answer: (batch: ResultBatch) => BatchReceipt = (batch) => ({
    accepted: batch.results.length,
    late: 0,
    duplicates: 0,
    ignored: 0,
  });

  readonly post = async (batch: ResultBatch): Promise<BatchReceipt> => {
    this.batches.push(structuredClone(batch));
    return this.answer(batch);
  };

  seqs(): number[][] {
    return this.batches.map((b) => b.results.map((r) => r.seq));
  }
}

function start(centre: FakeCentre, settings: Record<string, unknown> = {}) {
  const config = probeAgentSchema.parse({
    location: 'east',
    centre: { url: 'http://centre.invalid/' },
    reportInterval: '100ms',
    retry: { initial: '10ms', max: '20ms' },
    ...settings,
  });
  const metrics = new Metrics({ defaults: false });
  const reporter = new Reporter({ config, buffer, client: centre, clock: systemClock, log: silent, metrics });
  running = reporter.run(stopping.signal);
  return { reporter, metrics };
}

const result = (seq: number): ReportedResult => ({
  seq,
  probe: 'shop',
  target: 'https://shop.example/',
  module: 'http_2xx',
  startedAtMs: Date.now(),
  durationMs: 5,
  success: true,
  samples: [],
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Reporter', () => {
  it('sends what is buffered, forgets what the centre took, and says it is alive when it has nothing', async () => {
    const centre = new FakeCentre();
    const { reporter } = start(centre);
    for (let i = 0; i < 3; i++) buffer.append(result);
    reporter.notify();
    await until(() => buffer.pending === 0, 'the results delivered');
    expect(centre.seqs().flat()).toEqual([1, 2, 3]);
    const sent = centre.batches.length;
    await until(() => centre.batches.length > sent, 'a heartbeat');
    expect(centre.batches.at(-1)).toMatchObject({ agent: buffer.agent, location: 'east', results: [] });
  });

  it('keeps the results while the centre fails and sends the same numbers again', async () => {
    const centre = new FakeCentre();
    let failures = 3;
    centre.answer = (batch) => {
      if (failures-- > 0) throw new Error('connect ECONNREFUSED');
      return { accepted: batch.results.length, late: 0, duplicates: 0, ignored: 0 };
    };
    buffer.append(result);
    buffer.append(result);
    const { metrics } = start(centre);
    await until(() => buffer.pending === 0, 'the results delivered after the failures');
    expect(centre.seqs().filter((s) => s.length > 0)).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(await metrics.text()).toContain('lookout_probe_agent_deliveries_total{outcome="failed"} 3');
  });

  it('halves its batches when the centre says they are too large, and drops a batch it refuses', async () => {
    const centre = new FakeCentre();
    centre.answer = (batch) => {
      if (batch.results.length > 2) throw new RefusedError(413, 'HTTP 413');
      if (batch.results.some((r) => r.seq === 5)) throw new RefusedError(400, 'HTTP 400: malformed');
      return { accepted: batch.results.length, late: 0, duplicates: 0, ignored: 0 };
    };
    for (let i = 0; i < 6; i++) buffer.append(result);
    const { metrics } = start(centre, { maxBatchResults: 8 });
    await until(() => buffer.pending === 0, 'every result delivered or dropped');
    expect(centre.seqs().filter((s) => s.length > 0)).toEqual([
      [1, 2, 3, 4, 5, 6],
      [1, 2, 3],
      [1, 2],
      [3, 4, 5, 6],
      [3, 4],
      [5, 6],
    ]);
    expect(await metrics.text()).toContain('lookout_probe_agent_dropped_results_total 2');
  });
});
