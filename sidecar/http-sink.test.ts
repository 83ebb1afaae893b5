import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../core/http.ts';
import { httpSchema } from '../core/http-config.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import { type SidecarConfig, sidecarSchema } from './config.ts';
import { Sidecar } from './main.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/**
 * A collector's ingest endpoint as the sidecar's HTTP sink expects it: gzip
 * NDJSON in, a per-line verdict out. Lines saying REFUSE are refused for good;
 * lines saying FLAKY are refused with 503 the first time.
 */
async function startIngest() {
  const stored: string[] = [];
  const flakySeen = new Set<string>();
  let authorization: string | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      authorization = req.headers.authorization;
      const body = Buffer.concat(chunks);
      const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString() : body.toString();
      const errors: { line: number; status: number; reason: string }[] = [];
      text
        .trim()
        .split('\n')
        .forEach((line, i) => {
          const { message } = JSON.parse(line) as { message: string };
          if (message.includes('REFUSE'))
            errors.push({ line: i, status: 400, reason: 'mapper_parsing_exception' });
          else if (message.includes('FLAKY') && !flakySeen.has(message)) {
            flakySeen.add(message);
            errors.push({ line: i, status: 503, reason: 'busy' });
          } else stored.push(message);
        });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: stored.length, errors }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/api/ingest`, stored, server, authorization: () => authorization };
}

const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('sidecar with the collector HTTP sink', () => {
  it('ships gzip NDJSON with the token, retries 5xx lines, dead-letters refused ones, and reloads its inputs', async () => {
    const ingest = await startIngest();
    closing.push(() => new Promise((r) => ingest.server.close(r)));
    const dir = await mkdtemp(join(tmpdir(), 'lookout-http-sink-'));
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'app.log'), 'one\nREFUSE me\nFLAKY two\nthree\n');
    await writeFile(join(dir, 'b', 'other.log'), 'from b\n');
    const configFor = (input: string): SidecarConfig =>
      sidecarSchema.parse({
        inputs: [{ paths: [join(dir, input, '*.log')], parser: { type: 'none' } }],
        scanInterval: '100ms',
        retry: { initial: '10ms', max: '50ms' },
        sinks: { http: { url: ingest.url, token: 'ingest-token-0123456789' } },
      });
    const metrics = new Metrics({ defaults: false });
    const http = createHttpApp({ config: httpSchema.parse({ listen: '127.0.0.1:0' }), log: silent, metrics });
    const sidecar = new Sidecar(configFor('a'), {
      log: silent,
      metrics,
      http,
      dataDir: join(dir, 'data'),
    });
    await sidecar.start();
    closing.push(() => sidecar.stop(AbortSignal.timeout(5_000)));

    await until(() => ingest.stored.length === 3, 'three lines stored');
    // The refused-for-now line comes after the others: only it is sent again.
    expect(ingest.stored).toEqual(['one', 'three', 'FLAKY two']);
    expect(ingest.authorization()).toBe('Bearer ingest-token-0123456789');
    const dead = (await readFile(join(dir, 'data', 'sidecar', 'dead-letter', 'http.ndjson'), 'utf8')).trim();
    expect(JSON.parse(dead)).toMatchObject({
      status: 400,
      reason: 'mapper_parsing_exception',
      record: { message: 'REFUSE me' },
    });
    const text = await metrics.text();
    expect(text).toContain('lookout_sidecar_dead_lettered_total{sink="http"} 1');
    expect(text).toContain('lookout_sidecar_sink_retries_total{sink="http"} 1');

    await sidecar.reload(configFor('b'), AbortSignal.timeout(5_000));
    await until(() => ingest.stored.includes('from b'), 'the file of the new input');
    expect(ingest.stored.filter((m) => m === 'one')).toHaveLength(1);
  });
});
