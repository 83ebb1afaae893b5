/**
 * Lookout's probers side by side with the real blackbox_exporter (Debian's
 * 0.23): the same modules, read from one configuration file, probe the same
 * local targets; the series (names and labels) must be the same, every
 * value but the timings equal, and the timings present and of the same
 * order of magnitude.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsProber } from '../alert-rules/probes/dns-prober.ts';
import { type DnsServer, nameBytes, startDnsServer } from '../alert-rules/probes/fixtures/dns-server.ts';
import { http2Targets, probeTargets } from '../alert-rules/probes/fixtures/http-targets.ts';
import {
  type Certificate,
  listen,
  loopbackGuard,
  selfSignedCertificate,
} from '../alert-rules/probes/fixtures/probe-fixtures.ts';
import { createHttpProber } from '../alert-rules/probes/http-prober.ts';
import { blackboxConfigSchema, type LookoutProbeModule } from '../alert-rules/probes/module-config.ts';
import { createTcpProber } from '../alert-rules/probes/tcp-prober.ts';
import type { ProbeResult, Prober } from '../alert-rules/probes/types.ts';
import { parseConfig } from '../core/config.ts';
import { type HttpServer, startBlackboxExporter } from './infra/prometheus.ts';

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The sample lines of a text exposition (no timestamps: blackbox writes none). */
function parseExposition(text: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return series;
}

const key = (s: { name: string; labels?: Record<string, string> }) =>
  `${s.name}{${Object.entries(s.labels ?? {})
    .sort()
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

const TIMINGS = new Set([
  'probe_http_duration_seconds',
  'probe_dns_lookup_time_seconds',
  'probe_dns_duration_seconds',
]);

/** Local exchanges take micro- to milliseconds; a phase is the same order when both are small or within 10×. */
function sameMagnitude(ours: number, theirs: number): boolean {
  if (ours < 0.05 && theirs < 0.05) return true;
  return ours / theirs < 10 && theirs / ours < 10;
}

let dir: string;
let certificate: Certificate;
let blackbox: HttpServer;
let dns: DnsServer;
const closers: (() => Promise<void>)[] = [];
const ports: Record<string, number> = {};
let modules: Record<string, LookoutProbeModule>;

async function serve(name: string, server: Parameters<typeof listen>[0]): Promise<void> {
  const listening = await listen(server);
  ports[name] = listening.port;
  closers.push(listening.close);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lookout-probes-vs-blackbox-'));
  certificate = selfSignedCertificate(7);
  await serve('http', createServer(probeTargets));
  await serve('https', createHttpsServer({ key: certificate.key, cert: certificate.cert }, probeTargets));
  await serve('h2', http2Targets(certificate));
  await serve(
    'tcp',
    createNetServer((socket) => socket.end('220 ready\r\n')),
  );
  await serve(
    'tls',
    createTlsServer({ key: certificate.key, cert: certificate.cert }, (s) => s.end('220 ready\n')),
  );
  await serve('closed', createNetServer());
  await closers.pop()!();
  dns = await startDnsServer(
    new Map([
      ['example.com|1', [{ type: 1, ttl: 300, data: Buffer.from([192, 0, 2, 1]) }]],
      [
        'example.com|6',
        [
          {
            type: 6,
            ttl: 3600,
            data: Buffer.concat([
              nameBytes('ns.example.com'),
              nameBytes('noc.example.com'),
              Buffer.from([0, 0, 3, 232, 0, 0, 28, 32, 0, 0, 14, 16, 0, 18, 117, 0, 0, 0, 14, 16]),
            ]),
          },
        ],
      ],
    ]),
  );
  const ca = JSON.stringify(certificate.certFile);
  const config = `
modules:
  http_2xx: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4}}
  http_body: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, fail_if_body_matches_regexp: [ERROR]}}
  http_no_redirect: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, follow_redirects: false}}
  http_gzip: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, compression: gzip}}
  http_limit: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, body_size_limit: 1KB}}
  http_post: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, method: POST, body: "{}"}}
  http_header:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      fail_if_header_not_matches: [{header: X-App, regexp: "^v2$"}]
  https_ca: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, tls_config: {ca_file: ${ca}}}}
  https_http1: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, enable_http2: false, tls_config: {ca_file: ${ca}}}}
  https_insecure: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, tls_config: {insecure_skip_verify: true}}}
  tcp_connect: {prober: tcp, timeout: 5s, tcp: {preferred_ip_protocol: ip4}}
  tcp_banner: {prober: tcp, timeout: 5s, tcp: {preferred_ip_protocol: ip4, query_response: [{expect: "^220"}, {send: QUIT}]}}
  tcp_tls: {prober: tcp, timeout: 5s, tcp: {preferred_ip_protocol: ip4, tls: true, tls_config: {ca_file: ${ca}}}}
  dns_a:
    prober: dns
    timeout: 5s
    dns:
      preferred_ip_protocol: ip4
      query_name: example.com
      query_type: A
      validate_answer_rrs: {fail_if_not_matches_regexp: ["^example\\\\.com\\\\.\\\\t300\\\\tIN\\\\tA\\\\t192\\\\.0\\\\.2\\\\.1$"]}
  dns_soa_tcp: {prober: dns, timeout: 5s, dns: {preferred_ip_protocol: ip4, query_name: example.com, query_type: SOA, transport_protocol: tcp}}
  dns_missing: {prober: dns, timeout: 5s, dns: {preferred_ip_protocol: ip4, query_name: nowhere.example.com}}
`;
  const configFile = path.join(dir, 'blackbox.yml');
  writeFileSync(configFile, config);
  const parsed = parseConfig(blackboxConfigSchema, config, {});
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  modules = parsed.value.modules;
  blackbox = await startBlackboxExporter({ configFile });
});

afterAll(async () => {
  await blackbox?.close();
  await dns?.close();
  for (const close of closers) await close();
  certificate?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const probers: Record<string, Prober> = {
  http: createHttpProber({ guard: loopbackGuard }),
  tcp: createTcpProber({ guard: loopbackGuard }),
  dns: createDnsProber({ guard: loopbackGuard }),
};

async function sideBySide(module: string, target: string): Promise<{ theirs: Series[]; ours: ProbeResult }> {
  const url = `${blackbox.url}/probe?module=${module}&target=${encodeURIComponent(target)}`;
  const [response, ours] = await Promise.all([
    fetch(url),
    probers[modules[module]!.prober]!({
      target,
      module: modules[module]!,
      signal: AbortSignal.timeout(5_000),
    }),
  ]);
  return { theirs: parseExposition(await response.text()), ours };
}

/** Checks ours against theirs and returns our failure, for the test to look at the words. */
function expectAgreement({ theirs, ours }: { theirs: Series[]; ours: ProbeResult }): string | undefined {
  const own = theirs.filter((s) => s.name !== 'probe_success' && s.name !== 'probe_duration_seconds');
  expect(ours.samples.map(key).sort()).toEqual(own.map(key).sort());
  expect(ours.success).toBe(theirs.find((s) => s.name === 'probe_success')?.value === 1);
  for (const series of own) {
    const mine = ours.samples.find((s) => key(s) === key(series))!.value;
    if (TIMINGS.has(series.name)) {
      expect(
        sameMagnitude(mine, series.value),
        `${key(series)}: ours ${mine}, blackbox ${series.value}`,
      ).toBe(true);
    } else {
      expect(mine, key(series)).toBe(series.value);
    }
  }
  return ours.failure;
}

describe('probes side by side with blackbox_exporter', () => {
  const http = (p: string) => `http://127.0.0.1:${ports.http}${p}`;

  it.each([
    ['http_2xx', '/ok', undefined],
    ['http_2xx', '/chunked', undefined],
    ['http_2xx', '/503', 'status 503'],
    ['http_2xx', '/404', 'status 404'],
    ['http_2xx', '/redirect', undefined],
    ['http_2xx', '/login', undefined],
    ['http_2xx', '/loop', 'status 302 (stopped after 10 redirects)'],
    ['http_2xx', '/modified', undefined],
    ['http_no_redirect', '/redirect', 'status 302 (redirect not followed: follow_redirects is false)'],
    ['http_body', '/error', 'body matched /ERROR/'],
    ['http_body', '/ok', undefined],
    ['http_gzip', '/gzip', undefined],
    ['http_limit', '/huge', 'body larger than 1024 bytes (body_size_limit)'],
    ['http_post', '/post-only', undefined],
    ['http_header', '/modified', 'header X-App did not match /^v2$/'],
  ])('%s %s', async (module, target, failure) => {
    expect(expectAgreement(await sideBySide(module, http(target)))).toBe(failure);
  });

  it('agrees on a slow response: the wait is processing time', async () => {
    const both = await sideBySide('http_2xx', http('/slow'));
    expectAgreement(both);
    const processing = both.ours.samples.find(
      (s) => key(s) === 'probe_http_duration_seconds{phase="processing"}',
    );
    expect(processing!.value).toBeGreaterThan(0.25);
  });

  it('agrees when nothing listens and when the name does not resolve', async () => {
    const refused = await sideBySide('http_2xx', `http://127.0.0.1:${ports.closed}/`);
    expect(expectAgreement(refused)).toBe('connect: connection refused');
    const unknown = await sideBySide('http_2xx', 'http://nowhere.invalid/');
    expect(expectAgreement(unknown)).toBe('resolve: lookup nowhere.invalid: no such host');
  });

  it('agrees over TLS: verified with the CA, skipped, and untrusted', async () => {
    expect(
      expectAgreement(await sideBySide('https_ca', `https://localhost:${ports.https}/ok`)),
    ).toBeUndefined();
    expect(
      expectAgreement(await sideBySide('https_insecure', `https://127.0.0.1:${ports.https}/ok`)),
    ).toBeUndefined();
    expect(expectAgreement(await sideBySide('http_2xx', `https://localhost:${ports.https}/ok`))).toBe(
      'tls handshake: certificate signed by unknown authority (self-signed)',
    );
  });

  it('agrees over HTTP/2, which TLS negotiates unless enable_http2 is false', async () => {
    const h2 = (p: string) => `https://localhost:${ports.h2}${p}`;
    expect(expectAgreement(await sideBySide('https_ca', h2('/ok')))).toBeUndefined();
    expect(expectAgreement(await sideBySide('https_ca', h2('/redirect')))).toBeUndefined();
    expect(expectAgreement(await sideBySide('https_ca', h2('/503')))).toBe('status 503');
    expect(expectAgreement(await sideBySide('https_http1', h2('/chunked')))).toBeUndefined();
  });

  it('agrees on tcp: connect, a banner dialogue, TLS, and a closed port', async () => {
    expect(expectAgreement(await sideBySide('tcp_connect', `127.0.0.1:${ports.tcp}`))).toBeUndefined();
    expect(expectAgreement(await sideBySide('tcp_banner', `127.0.0.1:${ports.tcp}`))).toBeUndefined();
    expect(expectAgreement(await sideBySide('tcp_tls', `localhost:${ports.tls}`))).toBeUndefined();
    expect(expectAgreement(await sideBySide('tcp_connect', `127.0.0.1:${ports.closed}`))).toBe(
      'connect: connection refused',
    );
  });

  it('agrees on dns: records checked as text, SOA over tcp, an invalid rcode', async () => {
    const server = `127.0.0.1:${dns.port}`;
    expect(expectAgreement(await sideBySide('dns_a', server))).toBeUndefined();
    expect(expectAgreement(await sideBySide('dns_soa_tcp', server))).toBeUndefined();
    expect(expectAgreement(await sideBySide('dns_missing', server))).toBe('rcode NXDOMAIN, expected NOERROR');
  });
});
