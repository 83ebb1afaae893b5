import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Certificate,
  listen,
  selfSignedCertificate,
} from '../alert-rules/probes/fixtures/probe-fixtures.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually } from './support/lookout-process.ts';
import { ProbesCase, type ProbesCaseOptions, QUICK_ROUTE, target } from './support/probes-case.ts';

/**
 * Site probes in `lookout alert-rules` under the faults an on-call engineer
 * meets and the input a hostile user sends: a flapping site, certificates
 * running out, a maintenance silence and a target's own receiver, targets
 * that hang, stream a gigabyte, redirect forever or never finish the TLS
 * handshake, ten thousand targets at once, a broken modules file, a target
 * deleted mid-probe, bad API requests and credentials that must never show.
 */

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One local site whose first path segment is the behaviour and whose second
 * is the test's own key: `/status/<key>` answers `statuses`, `/flap/<key>`
 * alternates 503 and 200 while the key is in `flapping`, `/hang/<key>` never
 * answers, `/big/<key>` streams 1 GiB, `/loop/<key>` redirects to itself.
 */
const statuses = new Map<string, number>();
const flapping = new Map<string, number>();
const hangs = new Map<string, { started: number; closed: number }>();
const bigBodies: number[] = [];
const GIB = 1024 ** 3;

function streamGigabyte(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  const index = bigBodies.push(0) - 1;
  const write = () => {
    while (sent < GIB && !res.destroyed) {
      sent += chunk.length;
      bigBodies[index] = sent;
      if (!res.write(chunk)) return void res.once('drain', write);
    }
    res.end();
  };
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(GIB) });
  write();
}

function site(req: IncomingMessage, res: ServerResponse): void {
  const [, kind, key = ''] = (req.url ?? '/').split('/');
  if (kind === 'hang') {
    const hang = hangs.get(key) ?? { started: 0, closed: 0 };
    hangs.set(key, hang);
    hang.started++;
    req.socket.once('close', () => hang.closed++);
    return;
  }
  if (kind === 'big') {
    streamGigabyte(res);
    return;
  }
  if (kind === 'loop') {
    res.writeHead(302, { location: req.url });
    res.end();
    return;
  }
  let status = statuses.get(key) ?? 200;
  const flaps = flapping.get(key);
  if (kind === 'flap' && flaps !== undefined) {
    flapping.set(key, flaps + 1);
    status = flaps % 2 === 0 ? 503 : 200;
  }
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(status === 200 ? 'welcome' : 'out of order');
}

let robots: RobotServer;
let siteUrl: string;
const closers: (() => Promise<void>)[] = [];
/** A TLS port that accepts TCP connections and never says a word. */
let silentTlsPort: number;
const certificates: Certificate[] = [];

const certificate = (days: number) => {
  const made = selfSignedCertificate(days);
  certificates.push(made);
  return made;
};

beforeAll(async () => {
  robots = await startRobotServer();
  const web = await listen(createServer(site));
  siteUrl = `http://127.0.0.1:${web.port}`;
  const silent = await listen(createTcpServer(() => undefined));
  silentTlsPort = silent.port;
  closers.push(web.close, silent.close);
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  for (const made of certificates) made.remove();
  await robots?.close();
});

const MODULES = `
modules:
  http_2xx:
    prober: http
    timeout: 2s
  https_any:
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      tls_config: { insecure_skip_verify: true }
`;

const BROKEN_MODULES = `${MODULES}
  broken:
    prober: http
    http:
      fail_if_body_matches_regexp: ["a(b"]
`;

/** What the log says when a SIGHUP brings files that are refused. */
const NOT_RELOADED = 'not reloaded; the ones in force keep running';

const start = (test: Parameters<typeof ProbesCase.start>[0], options: Omit<ProbesCaseOptions, 'modules'>) =>
  ProbesCase.start(test, robots, { modules: MODULES, ...options });

interface ProbeListing {
  id: string;
  state: string;
  lastProbeAt: string | null;
  lastFailure: string | null;
}

interface ApiAlert {
  labels: Record<string, string>;
  status: { state: string; silencedBy: string[] };
}

const count = (texts: string[], ...parts: string[]) =>
  texts.filter((text) => parts.every((part) => text.includes(part))).length;

describe.concurrent('site probes under faults', () => {
  it('tells a flapping site once as ProbeFlapping, not as a stream of downs and ups, and resolves it once settled', async (test) => {
    const c = await start(test, {
      targets: [
        target(
          'flappy',
          `${siteUrl}/flap/flappy`,
          'http_2xx',
          ', failuresBeforeDown: 1, flapping: { stateChanges: 3, probes: 6 }',
        ),
      ],
    });
    await c.until('flappy', 'up');
    flapping.set('flappy', 0);
    await eventually(
      async () => c.texts(),
      (texts) => count(texts, '[FIRING:1] ProbeFlapping') === 1,
      'ProbeFlapping told',
      15_000,
    );
    expect(await c.state('flappy')).toBe('flapping');
    // It keeps alternating for a while: no down or up is told, at most the resolve of a down told before.
    const toldSoFar = c.texts().length;
    await pause(5_000);
    expect(flapping.get('flappy')).toBeGreaterThanOrEqual(8);
    for (const later of c.texts().slice(toldSoFar)) expect(later).toContain('[RESOLVED] ProbeDown');
    flapping.delete('flappy');
    await c.until('flappy', 'up', 20_000);
    const texts = await eventually(
      async () => c.texts(),
      (all) => count(all, 'RESOLVED', 'ProbeFlapping') === 1,
      'ProbeFlapping resolved',
      15_000,
    );
    await pause(3_000);
    const all = c.texts();
    expect(count(all, 'FIRING', 'ProbeFlapping')).toBe(1);
    expect(count(all, 'RESOLVED', 'ProbeFlapping')).toBe(1);
    // At most the one down before the flapping was seen, and its resolve.
    expect(count(all, '[FIRING:1] ProbeDown')).toBeLessThanOrEqual(1);
    expect(count(all, 'ProbeDown')).toBe(2 * count(all, '[FIRING:1] ProbeDown'));
    expect(all).toHaveLength(texts.length);
  });

  it('warns of a certificate once per threshold crossed, in days, and resolves the warnings on renewal', async (test) => {
    const first = certificate(10);
    const server: TlsServer = createTlsServer({ key: first.key, cert: first.cert }, (_req, res) =>
      res.end('ok'),
    );
    const tls = await listen(server);
    closers.push(tls.close);
    const c = await start(test, {
      targets: [
        target(
          'secure',
          `https://127.0.0.1:${tls.port}/`,
          'https_any',
          ', certificateExpiryDays: [21, 14, 7]',
        ),
      ],
    });
    const [crossed] = await c.told(1, 'the 21- and 14-day warnings');
    expect(crossed).toContain('CertificateExpiring');
    expect(crossed).toContain('expires in 9 days');
    expect(crossed).toMatch(/days="?21/);
    expect(crossed).toMatch(/days="?14/);
    expect(crossed).not.toMatch(/days="?7/);
    // Resent to the dispatcher every 2s, told once.
    await pause(4_000);
    expect(c.texts()).toHaveLength(1);

    const sooner = certificate(5);
    server.setSecureContext({ key: sooner.key, cert: sooner.cert });
    const [, seven] = await c.told(2, 'the 7-day warning');
    expect(seven).toMatch(/days="?7/);
    expect(seven).toContain('expires in 4 days');

    const renewed = certificate(90);
    server.setSecureContext({ key: renewed.key, cert: renewed.cert });
    const [, , resolved] = await c.told(3, 'the warnings resolved');
    expect(resolved).toContain('RESOLVED');
    await pause(3_000);
    expect(c.texts()).toHaveLength(3);
  });

  it('keeps a silenced target from chat and lists its alert as suppressed; a target with receivers is told only to them', async (test) => {
    const c = await start(test, {
      receivers: ['oncall', 'shop'],
      // The route docs/probes.md asks for, for each receiver a target may name.
      route: `${QUICK_ROUTE}  routes:\n    - { matchers: ['receiver="shop"'], receiver: shop }\n`,
      targets: [
        target(
          'maint',
          `${siteUrl}/status/maint`,
          'http_2xx',
          ', failuresBeforeDown: 1, labels: { team: shop }',
        ),
        target(
          'storefront',
          `${siteUrl}/status/storefront`,
          'http_2xx',
          ', failuresBeforeDown: 1, receivers: [shop]',
        ),
      ],
    });
    await c.until('maint', 'up');
    const created = await c.request('POST', '/api/silences', {
      matchers: [{ name: 'probe', value: 'maint', isRegex: false }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'on-call',
      comment: 'maintenance of the maint site',
    });
    expect(created.status).toBe(200);
    const { silenceID } = (await created.json()) as { silenceID: string };
    statuses.set('maint', 503);
    statuses.set('storefront', 503);

    const [told] = await c.told(1, 'storefront down to the shop robot', 'shop');
    expect(told).toContain('ProbeDown');
    expect(told).toContain('storefront');
    const alerts = await eventually(
      () => c.get<{ data: { alerts: ApiAlert[] } }>('/api/alerts').then((a) => a.data.alerts),
      (list) => list.length === 2,
      'both ProbeDown alerts listed',
      10_000,
    );
    const byProbe = (probe: string) => alerts.find((a) => a.labels.probe === probe);
    expect(byProbe('maint')).toMatchObject({
      labels: { alertname: 'ProbeDown', team: 'shop' },
      status: { state: 'suppressed', silencedBy: [silenceID] },
    });
    expect(byProbe('storefront')).toMatchObject({
      labels: { alertname: 'ProbeDown', receiver: 'shop' },
      status: { state: 'active', silencedBy: [] },
    });
    await pause(3_000);
    expect(c.texts('oncall')).toEqual([]);
    expect(c.texts('shop')).toHaveLength(1);

    // The maintenance ends: the target, still down, is told to the default receiver.
    expect((await c.request('DELETE', `/api/silences/${silenceID}`)).status).toBe(200);
    const [maint] = await c.told(1, 'maint down once the silence expired');
    expect(maint).toContain('ProbeDown');
    expect(maint).toContain('maint');
    expect(c.texts('oncall').join('\n')).not.toContain('storefront');
  });

  it('fails hanging, gigabyte, looping and silent-TLS targets with the reason in words, and probes the others on time', async (test) => {
    const c = await start(test, {
      targets: [
        target('fine', `${siteUrl}/status/fine`, 'http_2xx'),
        target('hangs', `${siteUrl}/hang/hangs`, 'http_2xx'),
        // Every 5s, so the module's 2s and not the 1s interval bounds it: reading 10 MiB can take a
        // busy machine more than a second, and the limit, not the clock, is what is tested here.
        `      - { name: gigabyte, target: "${siteUrl}/big/gigabyte", module: http_2xx, interval: 5s }`,
        target('loops', `${siteUrl}/loop/loops`, 'http_2xx'),
        target('handshake', `https://127.0.0.1:${silentTlsPort}/`, 'https_any'),
      ],
    });
    const failures = await eventually(
      () => c.get<{ probes: ProbeListing[] }>('/api/probes'),
      ({ probes }) => probes.filter((p) => p.lastFailure !== null).length === 4,
      'every faulty target probed',
      15_000,
    );
    const failure = (id: string) => failures.probes.find((p) => p.id === id)?.lastFailure;
    // The module's timeout is 2s; the 1s interval bounds it, and the reason says so.
    expect(failure('hangs')).toBe('timeout after 1s (waiting for the response)');
    expect(failure('gigabyte')).toBe(
      "body larger than 10485760 bytes (Lookout's limit for modules without body_size_limit)",
    );
    expect(failure('loops')).toBe('status 302 (stopped after 10 redirects)');
    expect(failure('handshake')).toBe('timeout after 1s (tls handshake)');

    const before = (await c.get<{ results: unknown[] }>('/api/probes/fine/results')).results.length;
    await pause(5_000);
    const fine = await c.get<{ state: string; results: unknown[]; lastProbeAt: string }>(
      '/api/probes/fine/results',
    );
    expect(fine.state).toBe('up');
    expect(fine.results.length - before).toBeGreaterThanOrEqual(4);
    expect(Date.now() - Date.parse(fine.lastProbeAt)).toBeLessThan(2_500);
    // Each gigabyte was read to the limit and dropped: what the site wrote is the limit plus socket buffers.
    expect(bigBodies.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...bigBodies)).toBeLessThan(64 * 1024 * 1024);
    const metrics = await (await c.request('GET', '/metrics')).text();
    const started = Number(/^lookout_probes_start_delay_seconds_count (\S+)$/m.exec(metrics)?.[1]);
    const onTime = Number(
      /^lookout_probes_start_delay_seconds_bucket\{le="0\.1"\} (\S+)$/m.exec(metrics)?.[1],
    );
    expect(onTime / started).toBeGreaterThan(0.95);
    expect(await c.state('hangs')).toBe('down');
  });

  it('takes 10,000 targets posted at once, refuses one more with 403, and lists them quickly', async (test) => {
    const c = await start(test, {
      settings: '    maxTargets: 10001',
      targets: [target('fine', `${siteUrl}/status/bulk-fine`, 'http_2xx')],
    });
    const total = 10_000;
    const statusCounts = new Map<number, number>();
    let next = 0;
    const startedAt = Date.now();
    const post = async () => {
      for (let i = next++; i < total; i = next++) {
        const response = await c.request('POST', '/api/probes', {
          name: `bulk-${i}`,
          target: `${siteUrl}/status/bulk-${i}`,
          module: 'http_2xx',
          interval: '1h',
        });
        await response.arrayBuffer();
        statusCounts.set(response.status, (statusCounts.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 50 }, post));
    const postedMs = Date.now() - startedAt;
    expect(Object.fromEntries(statusCounts)).toEqual({ 201: total });
    expect(postedMs).toBeLessThan(60_000);

    const over = await c.request('POST', '/api/probes', { target: `${siteUrl}/`, module: 'http_2xx' });
    expect(over.status).toBe(403);
    expect(((await over.json()) as { error: string }).error).toBe(
      'at most 10001 probe targets are allowed (maxTargets); delete some first',
    );

    const listedAt = Date.now();
    const { probes } = await c.get<{ probes: ProbeListing[] }>('/api/probes');
    expect(probes).toHaveLength(total + 1);
    expect(Date.now() - listedAt).toBeLessThan(3_000);
    const fine = probes.find((p) => p.id === 'fine')!;
    expect(fine.state).toBe('up');
    expect(Date.now() - Date.parse(fine.lastProbeAt!)).toBeLessThan(3_000);

    // Kept in the data directory: all of them come back after kill -9.
    await c.process.kill();
    await c.start();
    expect((await c.get<{ probes: unknown[] }>('/api/probes')).probes).toHaveLength(total + 1);
  });

  it('refuses a modules file with a broken regular expression at start, and keeps the running modules on SIGHUP', async (test) => {
    const c = await ProbesCase.prepare(test, robots, {
      modules: BROKEN_MODULES,
      targets: [target('fine', `${siteUrl}/status/regexp-fine`, 'http_2xx')],
    });
    await expect(c.start()).rejects.toThrow(/did not start \(exit 1\)/);
    const refusal = c.process.output.join('');
    expect(refusal).toContain(`${c.dir}/blackbox.yml`);
    expect(refusal).toContain(
      'modules.broken.http.fail_if_body_matches_regexp[0]: error parsing regexp: missing closing ): `a(b`',
    );

    await c.writeModules(MODULES);
    await c.start();
    await c.until('fine', 'up');
    await c.writeModules(BROKEN_MODULES);
    const refused = await c.hangup(NOT_RELOADED);
    expect(refused).toContain('error parsing regexp: missing closing )');
    const probedAt = Date.now();
    await eventually(
      () => c.get<ProbeListing>('/api/probes/fine'),
      (fine) => Date.parse(fine.lastProbeAt!) > probedAt && fine.state === 'up',
      'fine probed after the refused reload',
      5_000,
    );
    const module = await c.request('GET', `/probe?module=broken&target=${encodeURIComponent(siteUrl)}`);
    expect(module.status).toBe(400);

    // A valid file without the module a target of the configuration uses is refused too.
    await c.writeModules(MODULES.replace('http_2xx:', 'renamed_2xx:'));
    // The log line is JSON: the module's name is in escaped quotes.
    expect(await c.hangup(NOT_RELOADED)).toContain(
      'alertRules.probes.targets[0].module: unknown probe module \\"http_2xx\\" (known: https_any, renamed_2xx)',
    );
    const stillAt = Date.now();
    await eventually(
      () => c.get<ProbeListing>('/api/probes/fine'),
      (fine) => Date.parse(fine.lastProbeAt!) > stillAt && fine.state === 'up',
      'fine still probed',
      5_000,
    );
  });

  it('drops the result of a target deleted while its probe hangs, and tells nothing', async (test) => {
    const c = await start(test, {});
    const created = await c.request('POST', '/api/probes', {
      name: 'doomed',
      target: `${siteUrl}/hang/doomed`,
      module: 'http_2xx',
      interval: '5s',
      timeout: '5s',
      failuresBeforeDown: 1,
    });
    expect(created.status).toBe(201);
    await eventually(
      async () => hangs.get('doomed')?.started ?? 0,
      (started) => started === 1,
      'the probe under way',
      10_000,
      50,
    );
    expect((await c.request('DELETE', '/api/probes/doomed')).status).toBe(204);
    // Abandoned at once: the site sees its connection closed well before the 5s timeout.
    await eventually(
      async () => hangs.get('doomed')!.closed,
      (closed) => closed === 1,
      'the probe aborted',
      2_000,
      50,
    );
    await pause(6_000);
    expect(hangs.get('doomed')!.started).toBe(1);
    expect((await c.request('GET', '/api/probes/doomed')).status).toBe(404);
    expect(c.texts()).toEqual([]);
  });

  it('answers bad requests with a clear 4xx and never shows credentials of a target', async (test) => {
    const c = await start(test, { targets: [target('fine', `${siteUrl}/status/api-fine`, 'http_2xx')] });
    const error = async (response: Response) => ({
      status: response.status,
      error: ((await response.json()) as { error: string }).error,
    });
    const post = (body: unknown) => c.request('POST', '/api/probes', body);

    expect((await error(await post('{"target": "http://example.com/",'))).status).toBe(400);
    expect(await error(await post({ target: 5, module: ['http_2xx'], interval: true }))).toEqual({
      status: 400,
      error:
        'target: expected string, got 5\nmodule: expected string, got a list\ninterval: expected number, got true',
    });
    expect(await error(await post([]))).toEqual({
      status: 400,
      error: '(root): expected object, got a list',
    });
    expect((await post({ name: 'mine', target: `${siteUrl}/status/mine`, module: 'http_2xx' })).status).toBe(
      201,
    );
    expect(
      await error(
        await c.request('PUT', '/api/probes/mine', { target: 'x', module: 'http_2xx', labels: [] }),
      ),
    ).toEqual({
      status: 400,
      error: 'labels: expected record, got a list',
    });
    expect((await error(await c.request('PUT', '/api/probes/mine', '{"target":'))).status).toBe(400);
    const huge = { target: `${siteUrl}/`, module: 'http_2xx', labels: { note: 'x'.repeat(100_000) } };
    expect((await post(huge)).status).toBe(413);
    expect((await c.request('PUT', '/api/probes/fine', huge)).status).toBe(413);
    for (const [method, path] of [
      ['GET', '/api/probes/nobody'],
      ['GET', '/api/probes/nobody/results'],
      ['DELETE', '/api/probes/nobody'],
    ] as const) {
      expect(await error(await c.request(method, path))).toEqual({
        status: 404,
        error: 'probe nobody not found',
      });
    }
    expect(
      await error(
        await c.request('PUT', '/api/probes/nobody', { target: `${siteUrl}/`, module: 'http_2xx' }),
      ),
    ).toEqual({ status: 404, error: 'probe nobody not found' });

    expect(await error(await post({ target: 'file:///etc/passwd', module: 'http_2xx' }))).toEqual({
      status: 400,
      error: 'target refused: the http prober takes http:// and https:// URLs, not file:',
    });
    expect(await error(await post({ target: 'gopher://127.0.0.1:70/_stats', module: 'http_2xx' }))).toEqual({
      status: 400,
      error: 'target refused: the http prober takes http:// and https:// URLs, not gopher:',
    });

    const secret = 's3cret-Pa55word';
    const withCredentials = [
      `http://admin:${secret}@127.0.0.1${siteUrl.slice(16)}/status/x`,
      `https://${secret}@shop.example.com/`,
      `admin:${secret}@shop.example.com/`,
      `http://admin:${secret}@[::1/`,
    ];
    for (const url of withCredentials) {
      const refused = await error(await post({ target: url, module: 'http_2xx' }));
      expect(refused.status).toBe(400);
      expect(refused.error).toContain('credentials in the target are not accepted');
      expect(refused.error).not.toContain(secret);
    }
    const probe = await c.request('GET', `/probe?target=${encodeURIComponent(withCredentials[0]!)}`);
    expect(await probe.text()).toMatch(/^probe_success 0$/m);

    const listing = await (await c.request('GET', '/api/probes')).text();
    const metrics = await (await c.request('GET', '/metrics')).text();
    for (const text of [listing, metrics, c.process.output.join('')]) expect(text).not.toContain(secret);

    // The same target in the configuration file is refused at start, naming the setting, not the secret.
    const configured = await ProbesCase.prepare(test, robots, {
      modules: MODULES,
      targets: [target('private', withCredentials[0]!, 'http_2xx')],
    });
    await expect(configured.start()).rejects.toThrow(/did not start/);
    const output = configured.process.output.join('');
    expect(output).toContain(
      'alertRules.probes.targets[0].target: credentials in the target are not accepted',
    );
    expect(output).not.toContain(secret);
  });

  it('answers /probe with hostile targets: cloud metadata refused, a missing or very long target a 4xx', async (test) => {
    const c = await start(test, {});
    const probe = (query: string) => c.request('GET', `/probe?${query}`);
    for (const metadata of ['http://2852039166/', 'http://[::ffff:169.254.169.254]/latest/meta-data/']) {
      const answer = await probe(`target=${encodeURIComponent(metadata)}`);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toMatch(/^probe_success 0$/m);
    }
    const missing = await probe('module=http_2xx');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'Target parameter is missing' });
    const long = await probe(`target=${encodeURIComponent(`http://example.com/${'a'.repeat(3_000)}`)}`);
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: string }).error).toBe(
      'the target is longer than 2048 characters (targetLimits.maxTargetLength)',
    );
    const huge = await probe(`target=http://example.com/${'a'.repeat(20_000)}`);
    expect(huge.status).toBe(431);
    // The process is unharmed.
    expect((await c.request('GET', '/api/probes')).status).toBe(200);
  });
});
