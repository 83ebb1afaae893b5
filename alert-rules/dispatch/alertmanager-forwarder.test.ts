import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog } from '../../test/robots/harness.ts';
import type { PostableAlert } from '../types.ts';
import { AlertmanagerForwarder, forwardingSchema } from './alertmanager-forwarder.ts';

interface Received {
  headers: IncomingHttpHeaders;
  url: string;
  alerts: PostableAlert[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** An Alertmanager stand-in answering `status` to every post, keeping what it was sent. */
async function alertmanager(status = 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, url: req.url ?? '', alerts: JSON.parse(body) });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const alert = (name: string, labels: Record<string, string> = {}): PostableAlert => ({
  labels: { alertname: name, ...labels },
  annotations: {},
  startsAt: '2026-03-01T08:00:00Z',
  endsAt: '2026-03-01T08:04:00Z',
  generatorURL: '',
});

function forwarder(config: Record<string, unknown>) {
  return new AlertmanagerForwarder({ config: forwardingSchema.parse(config), log: captureLog().log });
}

describe('AlertmanagerForwarder', () => {
  it('posts batches to /api/v2/alerts under the path prefix, with external labels and the token', async () => {
    const am = await alertmanager();
    const f = forwarder({
      alertmanagers: [{ url: `${am.url}/am/`, auth: { bearerToken: 'am-token-123' } }],
      externalLabels: { cluster: 'prod', region: 'sh' },
      maxBatchSize: 2,
    });
    f.send([alert('A'), alert('B', { cluster: 'staging' }), alert('C')]);
    await f.idle();
    expect(am.received.map((r) => [r.url, r.alerts.length])).toEqual([
      ['/am/api/v2/alerts', 2],
      ['/am/api/v2/alerts', 1],
    ]);
    expect(am.received[0]!.headers.authorization).toBe('Bearer am-token-123');
    expect(am.received[0]!.alerts.map((a) => a.labels)).toEqual([
      { alertname: 'A', cluster: 'prod', region: 'sh' },
      // The alert's own label wins over the external one.
      { alertname: 'B', cluster: 'staging', region: 'sh' },
    ]);
    await f.stop(AbortSignal.timeout(1_000));
  });

  it('drops the oldest alerts when the queue is full', async () => {
    const am = await alertmanager();
    const f = forwarder({ alertmanagers: [{ url: am.url }], queueCapacity: 3, maxBatchSize: 10 });
    f.send([alert('1'), alert('2'), alert('3'), alert('4'), alert('5')]);
    await f.idle();
    expect(am.received.flatMap((r) => r.alerts.map((a) => a.labels.alertname))).toEqual(['3', '4', '5']);
    await f.stop(AbortSignal.timeout(1_000));
  });

  it('counts a batch as sent when one Alertmanager took it, and sends basic auth', async () => {
    const down = await alertmanager(500);
    const up = await alertmanager();
    const f = forwarder({
      alertmanagers: [{ url: down.url }, { url: up.url, auth: { username: 'prom', password: 'secret' } }],
    });
    f.send([alert('A')]);
    await f.idle();
    expect(down.received).toHaveLength(1);
    expect(up.received).toHaveLength(1);
    expect(up.received[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('prom:secret').toString('base64')}`,
    );
    await f.stop(AbortSignal.timeout(1_000));
  });

  it('refuses two kinds of auth at once', () => {
    const result = forwardingSchema.safeParse({
      alertmanagers: [{ url: 'http://am:9093', auth: { bearerToken: 't', username: 'u', password: 'p' } }],
    });
    expect(result.success).toBe(false);
  });
});
