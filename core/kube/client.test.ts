import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError } from './api-requests.ts';
import { KubeClient } from './client.ts';
import { StaticCredentials } from './credentials.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An API server of the test's own: each request goes to `handle`. */
async function apiServer(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  return listen(
    createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      handle(req, res, body);
    }),
  );
}

function client(server: string, proxy?: string): KubeClient {
  return new KubeClient({
    server,
    tls: { rejectUnauthorized: true },
    proxy: proxy ? new URL(proxy) : undefined,
    credentials: new StaticCredentials({ authorization: 'Bearer t0ken' }),
  });
}

const watchLine = (type: string, name: string) =>
  `${JSON.stringify({ type, object: { metadata: { name } } })}\n`;

describe('KubeClient', () => {
  it('sends JSON with the credentials and the query, and reads JSON', async () => {
    const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];
    const url = await apiServer((req, res, body) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"metadata":{"name":"x"}}');
    });
    const created = await client(url).post(
      '/api/v1/namespaces/a/configmaps',
      { data: { k: 'v' } },
      {
        query: { dryRun: 'All', skipped: undefined },
      },
    );
    expect(created).toEqual({ metadata: { name: 'x' } });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/namespaces/a/configmaps?dryRun=All',
        auth: 'Bearer t0ken',
        body: '{"data":{"k":"v"}}',
      },
    ]);
  });

  it('fails with the status and the Status message the server answered, without the token', async () => {
    const url = await apiServer((_req, res) => {
      res
        .writeHead(409)
        .end(JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'the object was modified' }));
    });
    const err = await client(url)
      .get('/x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({
      status: 409,
      reason: 'Conflict',
      message: 'HTTP 409: the object was modified',
    });
    const proxyPage = await apiServer((_req, res) => res.writeHead(502).end('<html>bad gateway</html>'));
    expect(
      await client(proxyPage)
        .get('/x')
        .catch((e: Error) => e.message),
    ).toBe('HTTP 502');
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    const url = await apiServer(() => {});
    const started = Date.now();
    const err = await client(url)
      .get('/x', { timeoutMs: 200 })
      .catch((e: Error) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('hands over each watch line, whole, however the chunks fall, until the server ends the watch', async () => {
    const url = await apiServer((req, res) => {
      expect(req.url).toBe('/api/v1/events?resourceVersion=7&watch=true');
      res.writeHead(200);
      const text = watchLine('ADDED', 'a') + watchLine('MODIFIED', 'b中');
      const cut = text.indexOf('中') + 1;
      res.write(Buffer.from(text).subarray(0, cut));
      setTimeout(() => res.end(Buffer.from(text).subarray(cut)), 50);
    });
    const events: string[] = [];
    let opened = false;
    await client(url).watch('/api/v1/events', {
      query: { resourceVersion: '7' },
      onOpened: () => {
        opened = true;
      },
      onEvent: (type, object) =>
        events.push(`${type} ${(object as { metadata: { name: string } }).metadata.name}`),
    });
    expect(opened).toBe(true);
    expect(events).toEqual(['ADDED a', 'MODIFIED b中']);
  });

  it('ends a quiet watch with a TimeoutError, and a stopped one without error', async () => {
    const url = await apiServer((_req, res) => {
      res.writeHead(200);
      res.write(watchLine('ADDED', 'a'));
    });
    const quiet = client(url).watch('/w', { onEvent: () => {}, idleTimeoutMs: 200 });
    await expect(quiet).rejects.toMatchObject({ name: 'TimeoutError' });
    const stop = new AbortController();
    const events: string[] = [];
    const stopped = client(url).watch('/w', { signal: stop.signal, onEvent: (type) => events.push(type) });
    setTimeout(() => stop.abort(), 100);
    await expect(stopped).resolves.toBeUndefined();
    expect(events).toEqual(['ADDED']);
  });

  it('fails a watch the server refuses, 410 Gone included', async () => {
    const url = await apiServer((_req, res) => {
      res
        .writeHead(410)
        .end(JSON.stringify({ kind: 'Status', code: 410, message: 'too old resource version' }));
    });
    await expect(client(url).watch('/w', { onEvent: () => {} })).rejects.toMatchObject({ status: 410 });
  });

  it('tunnels through the HTTP proxy a cluster names', async () => {
    const url = await apiServer((req, res) => res.end(JSON.stringify({ path: req.url })));
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on('connect', (req: IncomingMessage, socket: Socket) => {
      tunnels.push(`${req.url} ${req.headers['proxy-authorization']}`);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket).pipe(upstream);
      });
    });
    const proxyUrl = (await listen(proxy)).replace('http://', 'http://me:pass@');
    expect(await client(url, proxyUrl).get('/api')).toEqual({ path: '/api' });
    expect(tunnels).toEqual([`${new URL(url).host} Basic ${Buffer.from('me:pass').toString('base64')}`]);
  });
});
