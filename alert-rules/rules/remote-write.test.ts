import { afterEach, describe, expect, it } from 'vitest';
import type { TimedSample } from '../types.ts';
import { startTestServer, type TestServer } from './fixtures/http-server.ts';
import { settings } from './fixtures/settings.ts';
import { RemoteWriteClient, RemoteWriteError, remoteWriteSchema } from './remote-write.ts';
import { snappyCompress } from './snappy.ts';
import { encodeWriteRequest, type SeriesSamples } from './write-request.ts';

const writers: RemoteWriteClient[] = [];
let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A receiver answering with the given statuses in turn, then 204. */
async function receiver(statuses: [number, string][] = []): Promise<TestServer> {
  const server = await startTestServer((_req, res) => {
    const [status, body] = statuses.shift() ?? [204, ''];
    res.writeHead(status).end(body);
  });
  servers.push(server);
  return server;
}

function writer(values: Record<string, unknown>, dropped: [number, string][] = []): RemoteWriteClient {
  const config = settings(remoteWriteSchema, {
    retry: { initialBackoff: '1ms', maxBackoff: '5ms', maxAttempts: 3 },
    ...values,
  });
  const created = new RemoteWriteClient(config, {
    onDropped: (n, reason) => dropped.push([n, reason]),
  });
  writers.push(created);
  return created;
}

const body = (series: SeriesSamples[]) => snappyCompress(encodeWriteRequest(series));
const sample = (labels: Record<string, string>, value: number, timeMs: number): TimedSample => ({
  labels,
  value,
  timeMs,
});

describe('RemoteWriteClient', () => {
  it('posts snappy protobuf with the remote-write headers, one series per label set, labels sorted', async () => {
    const server = await receiver();
    const rw = writer({ url: `${server.url}/prom/`, auth: { bearerToken: 'writer-token-123456' } });
    await rw.write([
      sample({ job: 'api', __name__: 'job:up:sum', empty: '' }, 2, 2_000),
      sample({ __name__: 'job:up:sum', job: 'db' }, 1, 1_000),
      sample({ __name__: 'job:up:sum', job: 'api' }, 1, 1_000),
    ]);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/prom/api/v1/write' });
    expect(request!.headers).toMatchObject({
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'x-prometheus-remote-write-version': '0.1.0',
      authorization: 'Bearer writer-token-123456',
    });
    expect(request!.body).toEqual(
      body([
        {
          labels: [
            ['__name__', 'job:up:sum'],
            ['job', 'api'],
          ],
          samples: [
            { value: 1, timeMs: 1_000 },
            { value: 2, timeMs: 2_000 },
          ],
        },
        {
          labels: [
            ['__name__', 'job:up:sum'],
            ['job', 'db'],
          ],
          samples: [{ value: 1, timeMs: 1_000 }],
        },
      ]),
    );
    expect(rw.writtenSamples).toBe(3);
  });

  it('sends at most maxSamplesPerRequest samples a request', async () => {
    const server = await receiver();
    const rw = writer({ url: server.url, maxSamplesPerRequest: 2 });
    await rw.write([1, 2, 3, 4, 5].map((i) => sample({ __name__: 'x', i: String(i) }, i, 1_000)));
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2]!.body).toEqual(
      body([
        {
          labels: [
            ['__name__', 'x'],
            ['i', '5'],
          ],
          samples: [{ value: 5, timeMs: 1_000 }],
        },
      ]),
    );
    await rw.write([]);
    expect(server.requests).toHaveLength(3);
  });

  it('retries 5xx and 429, and drops with the reason when the attempts run out', async () => {
    const server = await receiver([
      [503, 'overloaded'],
      [429, 'slow down'],
    ]);
    const dropped: [number, string][] = [];
    const rw = writer({ url: server.url }, dropped);
    await rw.write([sample({ __name__: 'x' }, 1, 1_000)]);
    expect(server.requests).toHaveLength(3);
    expect(rw.writtenSamples).toBe(1);

    const failing = await receiver([
      [500, 'a'],
      [502, 'b'],
      [503, 'still down'],
    ]);
    const rw2 = writer({ url: failing.url }, dropped);
    const error = await rw2.write([sample({ __name__: 'x' }, 1, 1_000)]).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteWriteError);
    expect(error.message).toBe('remote write failed: HTTP 503: still down (after 3 attempts)');
    expect(failing.requests).toHaveLength(3);
    expect(dropped).toEqual([[1, 'HTTP 503: still down (after 3 attempts)']]);
    expect(rw2.droppedSamples).toBe(1);
  });

  it("waits as long as the receiver's Retry-After asks, up to maxBackoff", async () => {
    const server = await startTestServer((_req, res) => {
      if (server.requests.length === 1) res.writeHead(429, { 'retry-after': '5' }).end('later');
      else res.writeHead(204).end();
    });
    servers.push(server);
    const rw = writer({ url: server.url, retry: { initialBackoff: '1ms', maxBackoff: '300ms' } });
    const started = Date.now();
    await rw.write([sample({ __name__: 'x' }, 1, 1_000)]);
    const waited = Date.now() - started;
    expect(server.requests).toHaveLength(2);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3_000);
  });

  it('drops what the receiver refuses (4xx) at once, with its message, and goes on', async () => {
    const server = await receiver([[400, 'out of order sample\n']]);
    const dropped: [number, string][] = [];
    const rw = writer({ url: server.url, maxSamplesPerRequest: 1 }, dropped);
    await rw.write([sample({ __name__: 'x' }, 1, 1_000), sample({ __name__: 'y' }, 1, 1_000)]);
    expect(server.requests).toHaveLength(2);
    expect(dropped).toEqual([[1, 'HTTP 400: out of order sample']]);
    expect([rw.writtenSamples, rw.droppedSamples]).toEqual([1, 1]);
  });

  it('retries an unreachable receiver, and stops waiting when closed', async () => {
    const server = await receiver();
    const url = server.url;
    await server.close();
    servers = [];
    const rw = writer({ url, retry: { maxAttempts: 100, initialBackoff: '10s', maxBackoff: '10s' } });
    const pending = rw.write([sample({ __name__: 'x' }, 1, 1_000)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await rw.close();
    await expect(pending).rejects.toThrow('the remote writer is closed');
  });
});
