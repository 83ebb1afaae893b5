import { describe, expect, it } from 'vitest';
import { Metrics } from '../../core/metrics.ts';
import { decodePayload, type PayloadEntry, PayloadWriter } from '../record.ts';
import type { RawLine } from '../types.ts';
import { compilePipeline, FilePipeline, type PipelineConfig, pipelineSchema } from './pipeline.ts';

const READ_AT = Date.parse('2024-06-15T12:00:00Z');
const FILE = {
  source: { kubernetes: { namespace: 'shop', pod: { name: 'p', uid: 'u-1' } }, host: { name: 'node-1' } },
  identity: { dev: 1, ino: 2, fingerprint: 'abc', fingerprintLength: 1024, generation: 0 },
  path: '/var/log/containers/p_shop_app-0.log',
};

function lines(texts: string[]): RawLine[] {
  let offset = 0;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const raw = { text, offset, end, truncated: false, readAt: READ_AT, receivedAt: READ_AT };
    offset = end;
    return raw;
  });
}

function pipeline(config: unknown, metrics?: Metrics) {
  return new FilePipeline(compilePipeline(pipelineSchema.parse(config) as PipelineConfig, metrics), FILE);
}

interface Doc {
  message: string;
  log: { offset: number };
  lookout?: unknown;
}

/** The records of the entries, as a payload holds them. */
function records(entries: PayloadEntry[]): Doc[] {
  const payload = new PayloadWriter('{}', 64);
  for (const entry of entries) payload.add(entry);
  return decodePayload(payload.finish()).entries.map((e) => JSON.parse(e.doc.toString()) as Doc);
}

const cri = (stream: string, tag: string, message: string, time = '2024-01-02T03:04:05.123456789Z') =>
  `${time} ${stream} ${tag} ${message}`;

describe('file pipeline', () => {
  it('runs container format → multiline → parser → record, holding back the checkpoint', () => {
    const p = pipeline({ container: { format: 'cri' }, multiline: { preset: 'java' } });
    const raws = lines([
      cri('stdout', 'F', '{"level":"info","msg":"order placed","order":42}'),
      cri('stderr', 'P', '2024-01-02 03:04:05.200 ERROR [main] c.e.Shop - pay'),
      cri('stderr', 'F', 'ment failed'),
      cri('stderr', 'F', 'java.lang.IllegalStateException: declined'),
      cri('stderr', 'F', '\tat com.example.Shop.pay(Shop.java:10)'),
      cri('stderr', 'F', '2024-01-02 03:04:06.000 INFO [main] c.e.Shop - next'),
    ]);
    const out: PayloadEntry[] = [];
    const pending: (number | undefined)[] = [];
    for (const raw of raws) {
      out.push(...p.push(raw));
      pending.push(p.pendingOffset());
    }
    // Every event waits for the line after it in its own stream (multiline), a P part for its F.
    expect(pending).toEqual([0, 0, 0, 0, 0, 0]);
    expect(out).toHaveLength(1);
    out.push(...p.flush(READ_AT, true));
    expect(p.pendingOffset()).toBeUndefined();

    const [json, trace, next] = records(out).sort((a, b) => a.log.offset - b.log.offset);
    expect(json).toMatchObject({
      '@timestamp': '2024-01-02T03:04:05.123Z',
      message: '{"level":"info","msg":"order placed","order":42}',
      log: { level: 'info', iostream: 'stdout', offset: 0, file: { path: FILE.path } },
      kubernetes: { namespace: 'shop' },
      msg: 'order placed',
      order: 42,
    });
    expect(trace).toMatchObject({
      '@timestamp': '2024-01-02T03:04:05.200Z',
      message:
        '2024-01-02 03:04:05.200 ERROR [main] c.e.Shop - payment failed\njava.lang.IllegalStateException: declined\n\tat com.example.Shop.pay(Shop.java:10)',
      log: { level: 'error', iostream: 'stderr', offset: raws[1]!.offset },
    });
    expect(next!.log.offset).toBe(raws[5]!.offset);
    expect(p.counts).toEqual({ events: 3, parseErrors: 0, truncated: 0 });
  });

  it('reports the smaller of the container and multiline held offsets', () => {
    const p = pipeline({ container: { format: 'cri' }, multiline: { preset: 'java' } });
    const raws = lines([
      cri('stdout', 'F', 'INFO held by multiline'),
      cri('stderr', 'P', 'held by the container stage'),
    ]);
    p.push(raws[0]!);
    expect(p.pendingOffset()).toBe(0);
    p.push(raws[1]!);
    expect(p.pendingOffset()).toBe(0);
    const flushed = p.flush(READ_AT + 3_000);
    expect(records(flushed).map((r) => r.message)).toEqual(['INFO held by multiline']);
    expect(p.pendingOffset()).toBe(raws[1]!.offset);
    expect(records(p.flush(READ_AT + 5_000)).map((r) => r.message)).toEqual(['held by the container stage']);
    expect(p.pendingOffset()).toBeUndefined();
  });

  it('without multiline, emits each line at once and holds nothing', () => {
    const p = pipeline({ container: { format: 'none' } });
    const out = p.push(lines(['2024-01-02 03:04:05 WARN disk'])[0]!);
    expect(records(out)).toMatchObject([
      { '@timestamp': '2024-01-02T03:04:05.000Z', log: { level: 'warn' } },
    ]);
    expect(p.pendingOffset()).toBeUndefined();
    expect(p.flush(READ_AT, true)).toEqual([]);
  });

  it('keeps bad lines, counts parse errors and truncation, and exports the counters', async () => {
    const metrics = new Metrics({ defaults: false });
    const p = pipeline({ container: { format: 'cri' }, parser: { type: 'json' } }, metrics);
    const raws = lines(['not a cri line', cri('stdout', 'F', 'not json'), cri('stdout', 'F', '{"ok":true}')]);
    const out = raws.flatMap((raw) => p.push(raw));
    out.push(...p.push({ ...lines([cri('stdout', 'F', '{"cut":')])[0]!, offset: 999, truncated: true }));
    expect(records(out).map((r) => [r.message, r.lookout])).toEqual([
      ['not a cri line', { parse_error: 'cri: malformed line' }],
      ['not json', { parse_error: 'json: not a JSON object' }],
      ['{"ok":true}', undefined],
      ['{"cut":', { truncated: true, parse_error: 'json: not a JSON object' }],
    ]);
    expect(p.counts).toEqual({ events: 4, parseErrors: 3, truncated: 1 });
    const text = await metrics.text();
    expect(text).toContain('lookout_sidecar_parse_errors_total 3');
    expect(text).toContain('lookout_sidecar_truncated_events_total 1');
  });

  it('keeps a line nested 100,000 deep as a flagged plain message instead of throwing', () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    for (const parser of ['auto', 'json']) {
      const p = pipeline({ container: { format: 'none' }, parser: { type: parser } });
      const [doc] = records(p.push(lines([deep])[0]!));
      expect(doc!.message).toBe(deep);
      expect(doc!.lookout).toEqual({ parse_error: 'json: nested deeper than 20 levels' });
      expect(p.counts.parseErrors).toBe(1);
    }
  });

  it('keeps an event whose fields cannot be recorded as a flagged plain message', () => {
    const p = pipeline({ container: { format: 'none' } });
    const original = JSON.stringify;
    // A failure no limit foresaw: whatever it is, the line is kept and reading goes on.
    let failures = 0;
    JSON.stringify = ((value: unknown, ...rest: []) => {
      if (typeof value === 'object' && value !== null && 'boom' in value && failures++ === 0)
        throw new RangeError('Maximum call stack size exceeded');
      return original(value, ...rest);
    }) as typeof JSON.stringify;
    try {
      const [doc] = records(p.push(lines(['{"boom":1}'])[0]!));
      expect(doc).toMatchObject({
        message: '{"boom":1}',
        lookout: { parse_error: 'unprocessable: Maximum call stack size exceeded' },
      });
      expect(doc).not.toHaveProperty('boom');
    } finally {
      JSON.stringify = original;
    }
  });

  it('replaces a time further ahead than the skew by the read time and keeps the original', () => {
    const p = pipeline({ container: { format: 'none' } });
    const texts = [
      '2248-06-15 12:00:00.000 ERROR from a wrong clock',
      '{"time":"2024-06-15T13:00:01Z","msg":"an hour and a second ahead"}',
      '2024-06-15 12:59:59.000 INFO within the hour',
    ];
    const docs = records(lines(texts).flatMap((raw) => p.push(raw))) as unknown as {
      '@timestamp': string;
      lookout?: unknown;
    }[];
    expect(docs.map((d) => [d['@timestamp'], d.lookout])).toEqual([
      ['2024-06-15T12:00:00.000Z', { original_timestamp: '2248-06-15T12:00:00.000Z' }],
      ['2024-06-15T12:00:00.000Z', { original_timestamp: '2024-06-15T13:00:01.000Z' }],
      ['2024-06-15T12:59:59.000Z', undefined],
    ]);
    const lenient = pipeline({ container: { format: 'none' }, timestamp: { maxFutureSkew: '100000d' } });
    expect(records(lenient.push(lines(texts)[0]!))[0]).toMatchObject({
      '@timestamp': '2248-06-15T12:00:00.000Z',
    });
  });

  it('encodes its entries into one payload with the file header', () => {
    const p = pipeline({ container: { format: 'none' } });
    const entries = lines(['a', 'b']).flatMap((raw) => p.push(raw));
    const payload = p.payload(64, 1024);
    for (const entry of entries) payload.add(entry);
    const decoded = decodePayload(payload.finish());
    expect(decoded.header).toEqual({ ...FILE.source, log: { file: { path: FILE.path } } });
    expect(decoded.entries.map(({ doc }) => JSON.parse(doc.toString()))).toEqual(records(entries));
    expect(decoded.entries.map(({ time }) => time)).toEqual([READ_AT, READ_AT]);
    expect(p.header).toEqual(decoded.header);
  });

  it('has a default config that detects the format and parses JSON', () => {
    expect(pipelineSchema.parse({})).toMatchObject({
      container: { format: 'auto' },
      parser: [{ type: 'auto' }],
      timestamp: { timezone: 'UTC' },
    });
    expect(pipelineSchema.parse({}).multiline).toBeUndefined();
  });
});
