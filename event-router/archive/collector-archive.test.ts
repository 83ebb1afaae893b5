import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObservedEvent } from '../event.ts';
import { CollectorArchive } from './collector-archive.ts';
import { eventDocument } from './document.ts';

interface Received {
  path: string | undefined;
  headers: IncomingMessage['headers'];
  lines: { event: { id: string } }[];
}

let server: Server;
let url: string;
const received: Received[] = [];
/** What the fake collector answers next. */
let answer: { status: number; body: unknown } = { status: 200, body: { accepted: 0, errors: [] } };

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = gunzipSync(Buffer.concat(chunks)).toString('utf8');
    received.push({
      path: request.url,
      headers: request.headers,
      lines: text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    });
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lookout`;
});

afterAll(() => server.close());

const documents = [1, 2, 3].map((n) =>
  eventDocument({
    namespace: 'shop',
    kind: 'Pod',
    name: `order-${n}`,
    reason: 'BackOff',
    type: 'Warning',
    message: `event ${n}`,
    source: 'kubelet',
    labels: {},
    uid: `uid-${n}`,
    eventName: `order-${n}.1`,
    objectUid: undefined,
    count: 1,
    firstTime: 1_700_000_000_000,
    lastTime: 1_700_000_000_000,
    host: undefined,
  } satisfies ObservedEvent),
);

describe('CollectorArchive', () => {
  const signal = new AbortController().signal;

  it('posts gzip NDJSON with the token to /api/ingest and reads the per-line verdicts', async () => {
    answer = {
      status: 200,
      body: {
        accepted: 1,
        errors: [
          { line: 0, status: 503, reason: 'store busy' },
          { line: 2, status: 400, reason: 'event.id is missing' },
        ],
      },
    };
    const archive = new CollectorArchive({ url, token: 'secret-token', timeout: 5_000 });
    const result = await archive.write(documents, signal);
    expect(result.retry).toEqual([documents[0]]);
    expect(result.rejected).toEqual([{ document: documents[2], status: 400, reason: 'event.id is missing' }]);
    const last = received.at(-1)!;
    expect(last.path).toBe('/lookout/api/ingest');
    expect(last.headers).toMatchObject({
      authorization: 'Bearer secret-token',
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    expect(last.lines.map((l) => l.event.id)).toEqual(['uid-1-1', 'uid-2-1', 'uid-3-1']);
    expect(archive.description).not.toContain('secret-token');
  });

  it('throws on 5xx and 429, so the whole batch is sent again', async () => {
    const archive = new CollectorArchive({ url, timeout: 5_000 });
    for (const status of [503, 429]) {
      answer = { status, body: { error: 'the log store is unavailable' } };
      await expect(archive.write(documents, signal)).rejects.toThrow(`collector answered ${status}`);
    }
  });

  it('refuses every line of a request the collector refuses with a 4xx', async () => {
    answer = { status: 401, body: { error: 'unknown token' } };
    const archive = new CollectorArchive({ url, token: 'wrong', timeout: 5_000 });
    const result = await archive.write(documents, signal);
    expect(result.retry).toEqual([]);
    expect(result.rejected.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(result.rejected[0]!.reason).toMatch(/collector refused the request \(401\)/);
  });
});
