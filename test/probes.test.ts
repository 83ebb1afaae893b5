import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import {
  type Certificate,
  listen,
  selfSignedCertificate,
} from '../alert-rules/probes/fixtures/probe-fixtures.ts';
import { startPrometheus } from './infra/prometheus.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually } from './support/lookout-process.ts';
import { ProbesCase, target } from './support/probes-case.ts';
import { untilQueried } from './support/prometheus-api.ts';

/**
 * Site probes in `lookout alert-rules`, as SREs run them: targets of the
 * configuration file and of the API probed on their intervals against local
 * sites, told to the DingTalk robot double through the Alertmanager-style
 * routing, blackbox_exporter's `/probe` and series scraped by a real
 * Prometheus, and the state kept across kill -9.
 */

let robots: RobotServer;
/** The status the shop answers with; tests that change it own their own site. */
const sites: { status: number; port: number; close: () => Promise<void> }[] = [];
let certificate: Certificate;
let tlsSite: { port: number; close: () => Promise<void> };

async function startSite(): Promise<{ status: number; port: number; url: string }> {
  const site = { status: 200, port: 0, close: async () => {} };
  const server = createServer((_req, res) => {
    res.writeHead(site.status, { 'content-type': 'text/plain' });
    res.end(site.status === 200 ? 'welcome to the shop' : 'ERROR: out of order');
  });
  Object.assign(site, await listen(server));
  sites.push(site);
  return Object.defineProperty(site, 'url', {
    get: () => `http://127.0.0.1:${site.port}/`,
  }) as typeof site & {
    url: string;
  };
}

beforeAll(async () => {
  robots = await startRobotServer();
  certificate = selfSignedCertificate(10);
  tlsSite = await listen(
    createTlsServer({ key: certificate.key, cert: certificate.cert }, (_req, res) => res.end('secure')),
  );
});

afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
  await tlsSite?.close();
  certificate?.remove();
  await robots?.close();
});

const MODULES = (caFile: string) => `
modules:
  http_2xx:
    prober: http
    timeout: 2s
  shop_page:
    prober: http
    timeout: 2s
    http:
      fail_if_body_matches_regexp: [ERROR]
  https_ca:
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      tls_config: { ca_file: ${caFile} }
`;

const start = (test: TestContext, targets: string[]) =>
  ProbesCase.start(test, robots, { modules: MODULES(certificate.certFile), targets });

describe.concurrent('site probes', () => {
  it('tells a target down once after its retries, with the reason, and resolved when it is back', async (test) => {
    const site = await startSite();
    const c = await start(test, [target('shop', site.url, 'shop_page', ', failuresBeforeDown: 2')]);
    await eventually(
      () => c.state('shop'),
      (s) => s === 'up',
      'shop up',
      15_000,
    );
    site.status = 503;
    const [down] = await c.told(1, 'shop down');
    expect(down).toContain('ProbeDown');
    expect(down).toContain('status 503');
    expect(await c.state('shop')).toBe('down');
    site.status = 200;
    const texts = await c.told(2, 'shop resolved');
    expect(texts[1]).toContain('RESOLVED');
    const results = await c.get<{ results: unknown[]; uptime: Record<string, number | null> }>(
      '/api/probes/shop/results',
    );
    expect(results.results.length).toBeGreaterThan(3);
    expect(Object.keys(results.uptime)).toEqual(expect.arrayContaining(['24h', '7d', '30d']));
  });

  it('keeps a down target down over kill -9 without telling it again, and tells its recovery once', async (test) => {
    const site = await startSite();
    site.status = 500;
    const c = await start(test, [target('cart', site.url, 'http_2xx', ', failuresBeforeDown: 1')]);
    await c.told(1, 'cart down');
    await new Promise((r) => setTimeout(r, 1_000));
    await c.process.kill();
    await c.start();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(c.texts()).toHaveLength(1);
    expect(await c.state('cart')).toBe('down');
    site.status = 200;
    const texts = await c.told(2, 'cart resolved');
    expect(texts[1]).toContain('RESOLVED');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(c.texts()).toHaveLength(2);
  });

  it('takes targets through the API, refuses internal addresses and file targets, and forgets deleted ones', async (test) => {
    const site = await startSite();
    const c = await start(test, [target('home', site.url, 'http_2xx')]);
    const created = await c.request('POST', '/api/probes', {
      target: site.url,
      module: 'http_2xx',
      interval: '1s',
    });
    expect(created.status).toBe(201);
    const { id, source } = (await created.json()) as { id: string; source: string };
    expect(source).toBe('api');
    await eventually(
      () => c.state(id),
      (s) => s === 'up',
      'API target up',
      15_000,
    );

    const metadata = await c.request('POST', '/api/probes', {
      target: 'http://169.254.169.254/latest/meta-data/',
      module: 'http_2xx',
    });
    expect(metadata.status).toBe(400);
    expect(((await metadata.json()) as { error: string }).error).toContain('169.254.169.254 is link-local');
    const decimal = await c.request('POST', '/api/probes', {
      target: 'http://2852039166/',
      module: 'http_2xx',
    });
    expect(decimal.status).toBe(400);
    const unknownModule = await c.request('POST', '/api/probes', { target: site.url, module: 'nope' });
    expect(unknownModule.status).toBe(400);
    expect(((await unknownModule.json()) as { error: string }).error).toContain('unknown probe module');

    expect(
      (await c.request('PUT', '/api/probes/home', { target: site.url, module: 'http_2xx' })).status,
    ).toBe(409);
    expect((await c.request('DELETE', '/api/probes/home')).status).toBe(409);
    const changed = await c.request('PUT', `/api/probes/${id}`, {
      target: site.url,
      module: 'http_2xx',
      interval: '2s',
      labels: { team: 'shop' },
    });
    expect(changed.status).toBe(200);

    // An API target outlives a restart; a deleted one does not come back.
    await c.process.kill();
    await c.start();
    const listed = await c.get<{ probes: { id: string; source: string; spec: { labels?: object } }[] }>(
      '/api/probes',
    );
    expect(listed.probes.map((p) => [p.id, p.source]).sort()).toEqual(
      [
        ['home', 'config'],
        [id, 'api'],
      ].sort(),
    );
    expect(listed.probes.find((p) => p.id === id)?.spec.labels).toEqual({ team: 'shop' });
    expect((await c.request('DELETE', `/api/probes/${id}`)).status).toBe(204);
    expect((await c.request('GET', `/api/probes/${id}`)).status).toBe(404);
    await c.process.kill();
    await c.start();
    expect((await c.get<{ probes: unknown[] }>('/api/probes')).probes).toHaveLength(1);
  });

  it('answers /probe as blackbox_exporter does and shows its series, which a real Prometheus scrapes', async (test) => {
    const site = await startSite();
    const tlsUrl = `https://localhost:${tlsSite.port}/`;
    const c = await start(test, [target('shop', site.url, 'http_2xx'), target('secure', tlsUrl, 'https_ca')]);
    const probe = await (
      await c.request('GET', `/probe?module=http_2xx&target=${encodeURIComponent(site.url)}`)
    ).text();
    expect(probe).toContain('# TYPE probe_success gauge');
    expect(probe).toMatch(/^probe_success 1$/m);
    expect(probe).toMatch(/^probe_http_status_code 200$/m);
    expect((await c.request('GET', '/probe?module=nope&target=x')).status).toBe(400);
    const refused = await (await c.request('GET', '/probe?target=http://169.254.169.254/')).text();
    expect(refused).toMatch(/^probe_success 0$/m);

    await eventually(
      () => c.state('secure'),
      (s) => s === 'up',
      'TLS target up',
      15_000,
    );
    const prometheus = await startPrometheus({ blackboxUrl: c.url });
    try {
      // Scraped from /metrics: the target is `exported_instance` unless the job honours labels.
      await untilQueried(
        prometheus.url,
        `probe_success{job="blackbox",exported_instance="${site.url}"}`,
        1,
        30_000,
      );
      await untilQueried(
        prometheus.url,
        `round((probe_ssl_earliest_cert_expiry{job="blackbox",probe="secure"} - time()) / 86400)`,
        10,
        30_000,
      );
      // Scraped from /probe by a job written for blackbox_exporter, unchanged.
      await untilQueried(prometheus.url, `probe_success{job="blackbox-probe"}`, 1, 30_000);
    } finally {
      await prometheus.close();
    }
  });
});
