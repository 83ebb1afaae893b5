import { appendFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraAddress } from './infra/control.ts';
import { elasticsearchDocs } from './support/log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';
import { metricValue } from './support/sidecar-run.ts';

interface Doc {
  message: string;
  log: { level?: string; file: { path: string; id: string }; offset: number };
  '@timestamp': string;
  lookout?: { truncated?: boolean; parse_error?: string; original_timestamp?: string };
  msg?: string;
}

const NOBODY = 65534;
const run = `input${Date.now().toString(36)}`;
let dir: string;
let sidecar: LookoutProcess;
let address: string;

/** Documents from one file, once `check` is satisfied. */
async function docsOf(file: string, check: (docs: Doc[]) => boolean, what: string): Promise<Doc[]> {
  return eventually(
    () =>
      elasticsearchDocs<Doc>(`it-${run}-*`, { term: { 'log.file.path': join(dir, file) } }).then((docs) =>
        docs.sort((a, b) => a.log.offset - b.log.offset),
      ),
    check,
    what,
    60_000,
  );
}

// The sidecar runs as an unprivileged user, as in a pod, so a file it may not read is really unreadable.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-input-'));
  for (const sub of ['plain', 'json', 'java', 'data']) await mkdir(join(dir, sub));
  await writeFile(join(dir, 'plain', 'secret.log'), 'kept from the sidecar for now\n', { mode: 0o600 });
  await writeFile(join(dir, 'plain', 'first.log'), 'hello\n');
  const file = await writeConfig(
    dir,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
sidecar:
  inputs:
    - paths: ["${join(dir, 'plain', '*.log')}"]
    - paths: ["${join(dir, 'json', '*.log')}"]
      parser: { type: json, messageKey: [msg] }
    - paths: ["${join(dir, 'java', '*.log')}"]
      multiline: { preset: java, timeout: 1s }
  scanInterval: 200ms
  releaseAfter: 1s
  partialLineTimeout: 1s
  batchBytes: 64KiB
  sinks:
    elasticsearch: { nodes: ["${infraAddress('elasticsearch')}"], index: "it-${run}-{yyyy.MM.dd}", replicas: 0 }
`,
  );
  await chmod(dir, 0o755);
  for (const sub of ['plain', 'json', 'java', 'data']) await chmod(join(dir, sub), 0o777);
  await chmod(join(dir, 'lookout.yaml'), 0o644);
  sidecar = new LookoutProcess('sidecar', file, {
    uid: NOBODY,
    env: { POD_NAMESPACE: run, POD_NAME: 'input-0' },
  });
  address = await sidecar.start();
});

afterAll(async () => {
  await sidecar?.kill();
});

describe('sidecar with bad input (real Elasticsearch)', () => {
  it('cuts a 10 MiB line at the limit, flags it, and keeps reading the file', async () => {
    await writeFile(join(dir, 'plain', 'big.log'), `${'a'.repeat(10 * 1024 * 1024)}\nafter the big line\n`);
    const docs = await docsOf('plain/big.log', (d) => d.length === 2, 'the big line and the next');
    expect(docs[0]!.message).toHaveLength(1024 * 1024);
    expect(docs[0]!.lookout?.truncated).toBe(true);
    expect(docs[1]!.message).toBe('after the big line');
    expect(await metricValue(address, 'lookout_sidecar_truncated_lines_total')).toBeGreaterThanOrEqual(1);
  });

  it('replaces invalid UTF-8 and survives binary garbage', async () => {
    const garbage = Buffer.alloc(64 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
    await writeFile(
      join(dir, 'plain', 'binary.log'),
      Buffer.concat([
        Buffer.from('caf\xc3 ', 'latin1'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(' end\n'),
        garbage,
        Buffer.from('\nafter garbage\n'),
      ]),
    );
    const docs = await docsOf(
      'plain/binary.log',
      (d) => d.some((x) => x.message === 'after garbage'),
      'the line after',
    );
    expect(docs[0]!.message).toContain('\ufffd');
    expect(docs[0]!.message).toMatch(/ end$/);
    expect(docs.every((d) => typeof d.message === 'string')).toBe(true);
  });

  it('keeps a malformed JSON line raw, flagged, next to the good ones', async () => {
    await writeFile(
      join(dir, 'json', 'app.log'),
      '{"level":"warn","msg":"fine"}\n{"level": "error", "msg": broken\n{"msg":"also fine"}\n',
    );
    const docs = await docsOf('json/app.log', (d) => d.length === 3, 'three json lines');
    expect(docs[0]).toMatchObject({ message: 'fine', log: { level: 'warn' } });
    expect(docs[1]!.message).toBe('{"level": "error", "msg": broken');
    expect(docs[1]!.lookout?.parse_error).toBeTruthy();
    expect(docs[2]!.message).toBe('also fine');
  });

  it('keeps a JSON line nested 100,000 deep as a flagged message, and the tailer keeps reading', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    for (const sub of ['plain', 'json'])
      await writeFile(join(dir, sub, 'deep.log'), `${deep}\n{"msg":"after"}\n`);
    for (const sub of ['plain', 'json']) {
      const docs = await docsOf(`${sub}/deep.log`, (d) => d.length === 2, 'the deep line and the next');
      expect(docs[0]!.message).toBe(deep);
      expect(docs[0]!.lookout?.parse_error).toBe('json: nested deeper than 20 levels');
    }
    expect(await metricValue(address, 'lookout_sidecar_tailer_restarts_total')).toBe(0);
    expect((await fetch(`${address}/readyz`)).status).toBe(200);
  });

  it('stamps a line dated centuries ahead with its read time, keeping the date it carried', async () => {
    await writeFile(join(dir, 'plain', 'future.log'), '2248-01-01 00:00:00.000 ERROR from a wrong clock\n');
    const [doc] = await docsOf('plain/future.log', (d) => d.length === 1, 'the line from the future');
    expect(doc!.lookout?.original_timestamp).toBe('2248-01-01T00:00:00.000Z');
    expect(Math.abs(Date.parse(doc!['@timestamp']) - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('keeps a Java stack trace in one event across reads', async () => {
    const frames = Array.from({ length: 400 }, (_, i) => `\tat com.shop.Cart.step${i}(Cart.java:${i + 1})`);
    const trace = [
      '2026-11-23 03:12:00.000 ERROR checkout failed',
      'java.lang.IllegalStateException: cart is empty',
      ...frames.slice(0, 200),
    ];
    await writeFile(join(dir, 'java', 'app.log'), `${trace.join('\n')}\n`);
    await new Promise((r) => setTimeout(r, 300));
    await appendFile(
      join(dir, 'java', 'app.log'),
      `${[...frames.slice(200), 'Caused by: java.io.IOException: disk', '\t... 12 more'].join('\n')}\n2026-11-23 03:12:01.000 INFO next\n`,
    );
    const docs = await docsOf('java/app.log', (d) => d.length === 2, 'the trace and the next line');
    expect(docs[0]!.message.split('\n')).toHaveLength(2 + 400 + 2);
    expect(docs[0]!.log.level).toBe('error');
    expect(docs[1]!.message).toContain('INFO next');
  });

  it('reports a file it may not read, keeps reading the others, and reads it once allowed', async () => {
    await eventually(
      () => metricValue(address, 'lookout_sidecar_file_errors_total'),
      (v) => v >= 1,
      'the permission error counted',
    );
    expect(sidecar.output.join('')).toContain('cannot read file; will retry');
    expect(await docsOf('plain/first.log', (d) => d.length === 1, 'the readable file')).toHaveLength(1);
    await chmod(join(dir, 'plain', 'secret.log'), 0o644);
    const docs = await docsOf('plain/secret.log', (d) => d.length === 1, 'the file once readable');
    expect(docs[0]!.message).toBe('kept from the sidecar for now');
  });

  it('reads a file deleted while it is being read to its end', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i + 1} of a file about to go`).join('\n');
    await writeFile(join(dir, 'plain', 'gone.log'), `${lines}\n`);
    await docsOf('plain/gone.log', (d) => d.length > 0, 'the first lines');
    await rm(join(dir, 'plain', 'gone.log'));
    const docs = await docsOf('plain/gone.log', (d) => d.length >= 30_000, 'every line');
    expect(new Set(docs.map((d) => d.message)).size).toBe(30_000);
    expect([...new Set(docs.map((d) => d.log.file.id))]).toEqual([expect.stringMatching(/^[\w-]{20}$/)]);
  });

  it('keeps running after all of it', async () => {
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
  });
});
