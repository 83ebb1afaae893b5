import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload, RecordBuilder } from './record.ts';
import type { FileIdentity, LogEvent, SourceFields } from './types.ts';

const SOURCE: SourceFields = {
  kubernetes: {
    namespace: 'shop',
    pod: { name: 'checkout-7d9f8b6c5-x2x9z', uid: '0b5e2d36-8f7b-4a8e-9c53-2f0f3c1d7a11' },
    container: { name: 'app' },
    node: { name: 'node-1' },
    labels: { app: 'checkout' },
  },
  host: { name: 'node-1' },
  service: { name: 'checkout' },
};
const IDENTITY: FileIdentity = {
  dev: 2049,
  ino: 131_077,
  fingerprint: 'f1e2d3',
  fingerprintLength: 1024,
  generation: 0,
};
const PATH = '/var/log/app/app.log';
const READ_AT = Date.parse('2024-06-15T12:00:00.250Z');

function event(message: string, extra: Partial<LogEvent> = {}): LogEvent {
  return {
    message,
    offset: 4096,
    end: 4096 + Buffer.byteLength(message) + 1,
    truncated: false,
    readAt: READ_AT,
    receivedAt: READ_AT,
    ...extra,
  };
}

/** The entry the builder makes of the event, as a payload holds it. */
function entryOf(builder: RecordBuilder, e: LogEvent) {
  const payload = builder.payload(64, Number.POSITIVE_INFINITY);
  payload.add(builder.build(e));
  const [entry] = decodePayload(payload.finish()).entries;
  return { id: entry!.id, time: entry!.time, json: entry!.doc.toString() };
}

function build(e: LogEvent, source = SOURCE, identity = IDENTITY) {
  const entry = entryOf(new RecordBuilder(source, identity, PATH), e);
  return { entry, record: JSON.parse(entry.json) as Record<string, unknown> };
}

describe('record', () => {
  it('is the ECS document with source fields, offset, level and id', () => {
    const { entry, record } = build(
      event('hello', { level: 'info', time: Date.parse('2024-01-02T03:04:05.123Z') }),
    );
    expect(record).toEqual({
      '@timestamp': '2024-01-02T03:04:05.123Z',
      message: 'hello',
      log: { level: 'info', file: { path: PATH, id: entry.id.slice(0, 20) }, offset: 4096 },
      ...SOURCE,
      event: { id: entry.id },
    });
    expect(entry.time).toBe(Date.parse('2024-01-02T03:04:05.123Z'));
  });

  it('uses the read time when the line has none, and names the stream', () => {
    const { entry, record } = build(event('x', { stream: 'stderr' }));
    expect(record['@timestamp']).toBe('2024-06-15T12:00:00.250Z');
    expect(entry.time).toBe(READ_AT);
    expect(record.log).toEqual({
      iostream: 'stderr',
      file: { path: PATH, id: entry.id.slice(0, 20) },
      offset: 4096,
    });
  });

  it("carries the file's identity in log.file.id, the same whatever the file's name", () => {
    const fileId = (identity: FileIdentity, path: string) =>
      (
        JSON.parse(entryOf(new RecordBuilder(SOURCE, identity, path), event('x')).json) as {
          log: { file: { id: string } };
        }
      ).log.file.id;
    expect(fileId(IDENTITY, PATH)).toBe(fileId(IDENTITY, `${PATH}.1`));
    expect(fileId(IDENTITY, PATH)).not.toBe(fileId({ ...IDENTITY, generation: 1 }, PATH));
    expect(fileId(IDENTITY, PATH)).not.toBe(fileId({ ...IDENTITY, ino: 1 }, PATH));
  });

  it('flags truncated and unparsed events', () => {
    const { record } = build(event('{"a":', { truncated: true, parseError: 'json: not a JSON object' }));
    expect(record.lookout).toEqual({ truncated: true, parse_error: 'json: not a JSON object' });
    expect(build(event('fine')).record.lookout).toBeUndefined();
  });

  it('adds parsed fields at the root without letting them overwrite what the sidecar sets', () => {
    const free = { user: { id: 7 }, tags: ['a', 'b'], 'http.status': 200 };
    const owned = {
      message: 'from the app',
      '@timestamp': 'bogus',
      host: '10.0.0.1',
      'log.logger': 'com.example.App',
      kubernetes: { pod: 'fake' },
      service: 'other',
      _id: 'x',
    };
    const { record } = build(event('line', { fields: { ...free, ...owned, consumed: undefined } }));
    expect(record).toMatchObject({
      ...free,
      message: 'line',
      host: { name: 'node-1' },
      service: { name: 'checkout' },
    });
    expect(record.kubernetes).toEqual(SOURCE.kubernetes);
    expect(record['@timestamp']).toBe('2024-06-15T12:00:00.250Z');
    expect(record).not.toHaveProperty('_id');
    expect(record).not.toHaveProperty('consumed');
    expect(record.lookout).toEqual({ conflicts: owned });
  });

  it('treats static source fields as owned too', () => {
    const source = { ...SOURCE, orchestrator: { cluster: { name: 'prod' } } };
    const { record } = build(event('x', { fields: { orchestrator: 'mine', ok: 1 } }), source);
    expect(record.orchestrator).toEqual({ cluster: { name: 'prod' } });
    expect(record.ok).toBe(1);
    expect(record.lookout).toEqual({ conflicts: { orchestrator: 'mine' } });
  });

  it('keeps fields under a target key whole', () => {
    const { record } = build(event('x', { fields: { app: { message: 'm', host: 'h' } } }));
    expect(record.app).toEqual({ message: 'm', host: 'h' });
    expect(record.lookout).toBeUndefined();
  });
});

describe('event.id', () => {
  const id = (offset: number, identity: Partial<FileIdentity> = {}, source = SOURCE) =>
    entryOf(new RecordBuilder(source, { ...IDENTITY, ...identity }, PATH), event('x', { offset })).id;

  it('can be scoped to an explicit source id instead of the pod uid', () => {
    const scoped = (source: SourceFields) =>
      entryOf(new RecordBuilder(source, IDENTITY, PATH, 'node-1'), event('x')).id;
    expect(scoped(SOURCE)).toBe(scoped({ host: { name: 'node-1' } }));
    expect(scoped(SOURCE)).toBe(id(4096, {}, { host: { name: 'node-1' } }));
  });

  it('is the same for the same line read twice, by another builder, under another path', () => {
    expect(id(4096)).toBe(id(4096));
    const elsewhere = entryOf(
      new RecordBuilder(SOURCE, IDENTITY, '/var/log/app/app.log.1'),
      event('other text'),
    );
    expect(elsewhere.id).toBe(id(4096));
  });

  it('differs with the offset, generation, inode, device, fingerprint and source', () => {
    const ids = new Set([
      id(4096),
      id(4097),
      id(0),
      id(4096, { generation: 1 }),
      id(4096, { ino: 131_078 }),
      id(4096, { dev: 2050 }),
      id(4096, { fingerprint: 'f1e2d4' }),
      id(4096, {}, { ...SOURCE, kubernetes: { pod: { uid: 'another-pod' } } }),
      id(4096, {}, { host: { name: 'vm-1' } }),
    ]);
    expect(ids.size).toBe(9);
  });

  it('is the documented hash of the file identity followed by the offset in base 36', () => {
    // Changing this breaks deduplication of events read before and after an upgrade.
    const identity = '0b5e2d36-8f7b-4a8e-9c53-2f0f3c1d7a11\n2049\n131077\nf1e2d3\n0';
    const prefix = createHash('sha256').update(identity).digest().subarray(0, 15).toString('base64url');
    expect(id(4096)).toBe(`${prefix}35s`);
    expect(id(4096)).toMatch(/^[A-Za-z0-9_-]{20}[0-9a-z]+$/);
  });
});

describe('payload', () => {
  const NASTY = [
    'quotes " and \\ backslashes',
    'new\nline and\r\ncarriage return',
    'tab\there\tand\u0000nul',
    'emoji 🚀🔥 and 中文日志 and Ünïcödé',
    'replacement \uFFFD\uFFFD of invalid bytes',
    'line separator \u2028 paragraph \u2029',
    'lone surrogate \ud800 end',
    '',
  ];

  /** The NASTY messages as one payload of the builder's, and each entry as it was made alone. */
  function nastyPayload(extra: (i: number) => Partial<LogEvent>) {
    const builder = new RecordBuilder(SOURCE, IDENTITY, PATH);
    const events = NASTY.map((message, i) => event(message, extra(i)));
    const payload = builder.payload(64, Number.POSITIVE_INFINITY);
    for (const e of events) payload.add(builder.build(e));
    return { payload: payload.finish(), alone: events.map((e) => entryOf(builder, e)) };
  }

  it('round-trips entries and the header, and every message survives', () => {
    const { payload, alone } = nastyPayload((i) => ({
      offset: i * 100,
      time: READ_AT + i,
      fields: { 'k\tey': 'v\nal' },
    }));
    const decoded = decodePayload(payload);
    expect(decoded.header).toEqual({ ...SOURCE, log: { file: { path: PATH } } });
    const texts = decoded.entries.map(({ id, time, doc }) => ({ id, time, json: doc.toString('utf8') }));
    expect(texts).toEqual(alone);
    const records = texts.map((e) => JSON.parse(e.json) as { message: string; 'k\tey': string });
    expect(records.map((r) => r.message)).toEqual(NASTY);
    expect(records.map((r) => r['k\tey'])).toEqual(NASTY.map(() => 'v\nal'));
  });

  it('has exactly one line per entry, with no raw newline inside a record', () => {
    const { payload } = nastyPayload((i) => ({ offset: i }));
    const lines = payload.toString('utf8').split('\n');
    expect(lines).toHaveLength(NASTY.length + 2);
    expect(lines.at(-1)).toBe('');
    for (const line of lines.slice(1, -1)) {
      const [id, time, json, ...rest] = line.split('\t');
      expect(rest).toEqual([]);
      expect(id).toMatch(/^[\w-]+$/);
      expect(Number(time)).toBe(READ_AT);
      expect(() => JSON.parse(json!)).not.toThrow();
      expect(json).not.toMatch(/[\n\r\t]/);
    }
  });

  it('writes any time the way String() does, and the same record whether or not the time is whole', () => {
    const builder = new RecordBuilder(SOURCE, IDENTITY, PATH);
    for (const time of [0, READ_AT, READ_AT + 0.5, -1, 8.64e15]) {
      const entry = entryOf(builder, event('x', { time }));
      expect(entry.time).toBe(time);
      expect(JSON.parse(entry.json)['@timestamp']).toBe(new Date(time).toISOString());
    }
  });

  it('encodes from a plain header and decodes an empty batch', () => {
    const payload = encodePayload({ host: { name: 'h' }, log: { file: { path: '/x' } } }, []);
    expect(payload.toString()).toBe('{"host":{"name":"h"},"log":{"file":{"path":"/x"}}}\n');
    expect(decodePayload(payload)).toEqual({
      header: { host: { name: 'h' }, log: { file: { path: '/x' } } },
      entries: [],
    });
  });

  it('refuses corrupt payloads', () => {
    expect(() => decodePayload(Buffer.from('no header line'))).toThrow(/header/);
    expect(() => decodePayload(Buffer.from('{}\nid-only\n'))).toThrow(/not "id<TAB>time<TAB>json"/);
    expect(() => decodePayload(Buffer.from('{}\nid\tNaN\t{}\n'))).toThrow();
    expect(() => decodePayload(Buffer.from('{}\nid\t\t{}\n'))).toThrow();
    expect(() => decodePayload(Buffer.from('{}\nid\t12\n{}\t\n'))).toThrow(/not "id<TAB>time<TAB>json"/);
  });

  it('reads every time a producer may write: whole ms of any length, negative, fractional, exponent', () => {
    const times = [0, 1_790_000_000_123, 999_999_999_999_999, 1_234_567_890_123_456, -5, 1.5, 1e21];
    const entries = times.map((time, i) => ({ id: `id${i}`, time, json: '{}' }));
    const decoded = decodePayload(encodePayload({ log: { file: { path: '/x' } } }, entries));
    expect(decoded.entries.map((e) => e.time)).toEqual(times);
  });
});
