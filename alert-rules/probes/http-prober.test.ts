import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http2Targets, probeTargets } from './fixtures/http-targets.ts';
import {
  type Certificate,
  listen,
  loopbackGuard,
  probeRequest,
  sampleValue,
  selfSignedCertificate,
} from './fixtures/probe-fixtures.ts';
import { createHttpProber } from './http-prober.ts';

const prober = createHttpProber({ guard: loopbackGuard });
const http = (extra: Record<string, unknown> = {}, module: Record<string, unknown> = {}) => ({
  prober: 'http',
  timeout: '2s',
  ...module,
  http: { preferred_ip_protocol: 'ip4', ...extra },
});

let base: string;
let close: () => Promise<void>;
beforeAll(async () => {
  const server = await listen(createServer(probeTargets));
  base = `http://127.0.0.1:${server.port}`;
  close = server.close;
});
afterAll(() => close());

describe('http prober', () => {
  it('succeeds on 200 with blackbox series', async () => {
    const result = await prober(probeRequest(`${base}/ok`, http()));
    expect(result).toMatchObject({ success: true });
    expect(result.failure).toBeUndefined();
    const names = result.samples.map((s) => `${s.name}${s.labels ? JSON.stringify(s.labels) : ''}`).sort();
    expect(names).toEqual([
      'probe_dns_lookup_time_seconds',
      'probe_failed_due_to_regex',
      'probe_http_content_length',
      'probe_http_duration_seconds{"phase":"connect"}',
      'probe_http_duration_seconds{"phase":"processing"}',
      'probe_http_duration_seconds{"phase":"resolve"}',
      'probe_http_duration_seconds{"phase":"tls"}',
      'probe_http_duration_seconds{"phase":"transfer"}',
      'probe_http_redirects',
      'probe_http_ssl',
      'probe_http_status_code',
      'probe_http_uncompressed_body_length',
      'probe_http_version',
      'probe_ip_addr_hash',
      'probe_ip_protocol',
    ]);
    expect(sampleValue(result, 'probe_http_status_code')).toBe(200);
    expect(sampleValue(result, 'probe_http_content_length')).toBe(5);
    expect(sampleValue(result, 'probe_http_uncompressed_body_length')).toBe(5);
    expect(sampleValue(result, 'probe_http_version')).toBe(1.1);
    expect(sampleValue(result, 'probe_ip_protocol')).toBe(4);
    expect(sampleValue(result, 'probe_ip_addr_hash')).toBe(3668918509);
  });

  it('fails on 503 and 404 with the status in words', async () => {
    const busy = await prober(probeRequest(`${base}/503`, http()));
    expect(busy).toMatchObject({ success: false, failure: 'status 503' });
    expect(sampleValue(busy, 'probe_http_status_code')).toBe(503);
    const missing = await prober(probeRequest(`${base}/404`, http({ valid_status_codes: [200, 204] })));
    expect(missing.failure).toBe('status 404, expected 200 or 204');
    const accepted = await prober(probeRequest(`${base}/404`, http({ valid_status_codes: [404] })));
    expect(accepted.success).toBe(true);
  });

  it('fails when the body matches /ERROR/, or does not match what it must', async () => {
    const matched = await prober(
      probeRequest(`${base}/error`, http({ fail_if_body_matches_regexp: ['ERROR'] })),
    );
    expect(matched).toMatchObject({ success: false, failure: 'body matched /ERROR/' });
    expect(sampleValue(matched, 'probe_failed_due_to_regex')).toBe(1);
    const unmatched = await prober(
      probeRequest(`${base}/ok`, http({ fail_if_body_not_matches_regexp: ['^hel+o$'] })),
    );
    expect(unmatched.success).toBe(true);
    expect(sampleValue(unmatched, 'probe_failed_due_to_regex')).toBe(0);
    const missing = await prober(
      probeRequest(`${base}/ok`, http({ fail_if_body_not_matches_regexp: ['bye'] })),
    );
    expect(missing.failure).toBe('body did not match /bye/');
  });

  it('runs a pattern that could backtrack for long under a time limit', async () => {
    const slowProber = createHttpProber({ guard: loopbackGuard, regexpTimeoutMs: 200 });
    const result = await slowProber(
      probeRequest(`${base}/aaa`, http({ fail_if_body_matches_regexp: ['^(a+)+$'] })),
    );
    expect(result.failure).toBe('regular expression "^(a+)+$" ran longer than 200 ms');
    expect(sampleValue(result, 'probe_failed_due_to_regex')).toBe(1);
  });

  it('checks headers and reports Last-Modified', async () => {
    const result = await prober(
      probeRequest(
        `${base}/modified`,
        http({
          fail_if_header_matches: [{ header: 'X-App', regexp: 'v0' }],
          fail_if_header_not_matches: [{ header: 'x-app', regexp: '^v\\d$' }],
        }),
      ),
    );
    expect(result.success).toBe(true);
    expect(sampleValue(result, 'probe_http_last_modified_timestamp_seconds')).toBe(1445412480);
    const failing = await prober(
      probeRequest(`${base}/ok`, http({ fail_if_header_not_matches: [{ header: 'X-App', regexp: 'v1' }] })),
    );
    expect(failing.failure).toBe('header X-App is missing');
  });

  it('follows redirects and counts them', async () => {
    const result = await prober(probeRequest(`${base}/redirect`, http()));
    expect(result.success).toBe(true);
    expect(sampleValue(result, 'probe_http_redirects')).toBe(1);
    expect(sampleValue(result, 'probe_http_status_code')).toBe(200);
    const notFollowed = await prober(probeRequest(`${base}/redirect`, http({ follow_redirects: false })));
    expect(notFollowed.failure).toBe('status 302 (redirect not followed: follow_redirects is false)');
    expect(sampleValue(notFollowed, 'probe_http_redirects')).toBe(1);
  });

  it('keeps cookies across redirects', async () => {
    const result = await prober(probeRequest(`${base}/login`, http()));
    expect(result.failure).toBeUndefined();
  });

  it('stops a redirect loop after 10 redirects, as Go does', async () => {
    const result = await prober(probeRequest(`${base}/loop`, http()));
    expect(result.failure).toBe('status 302 (stopped after 10 redirects)');
    expect(sampleValue(result, 'probe_http_redirects')).toBe(11);
    expect(sampleValue(result, 'probe_http_uncompressed_body_length')).toBe(0);
  });

  it('sends the method, body and credentials', async () => {
    const post = await prober(probeRequest(`${base}/post-only`, http({ method: 'POST', body: '{}' })));
    expect(post.success).toBe(true);
    const auth = await prober(
      probeRequest(
        `${base}/echo-auth`,
        http({
          basic_auth: { username: 'u', password: 'p' },
          fail_if_body_not_matches_regexp: ['^Basic dTpw$'],
        }),
      ),
    );
    expect(auth.success).toBe(true);
    const bearer = await prober(
      probeRequest(
        `${base}/echo-auth`,
        http({ bearer_token: 't', fail_if_body_not_matches_regexp: ['^Bearer t$'] }),
      ),
    );
    expect(bearer.success).toBe(true);
  });

  it('decompresses with the compression option and measures both lengths', async () => {
    const result = await prober(probeRequest(`${base}/gzip`, http({ compression: 'gzip' })));
    expect(result.success).toBe(true);
    expect(sampleValue(result, 'probe_http_content_length')).toBeGreaterThan(17);
    expect(sampleValue(result, 'probe_http_uncompressed_body_length')).toBe(17);
    const wrong = await prober(probeRequest(`${base}/ok`, http({ compression: 'gzip' })));
    expect(wrong.failure).toMatch(/^reading the body: /);
    expect(sampleValue(wrong, 'probe_http_uncompressed_body_length')).toBe(0);
  });

  it('reads a 1 GB body only up to the limit', async () => {
    const started = Date.now();
    const result = await prober(probeRequest(`${base}/huge`, http({ body_size_limit: '1MB' })));
    expect(result.failure).toBe('body larger than 1048576 bytes (body_size_limit)');
    expect(sampleValue(result, 'probe_http_uncompressed_body_length')).toBe(1048576);
    expect(sampleValue(result, 'probe_http_content_length')).toBe(1024 ** 3);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('fails a slow response past the latency threshold, and a hanging one at the timeout', async () => {
    const slow = await prober(probeRequest(`${base}/slow`, http({}, { fail_if_slower_than: '100ms' })));
    expect(slow.failure).toMatch(/^took \d+ms, slower than 100ms$/);
    const hanging = await prober(probeRequest(`${base}/hang`, http({}, { timeout: '300ms' })));
    expect(hanging.failure).toBe('timeout after 300ms (waiting for the response)');
    expect(hanging.durationMs).toBeLessThan(1_000);
  });

  it('says connect: connection refused', async () => {
    const server = await listen(createServer());
    await server.close();
    const result = await prober(probeRequest(`http://127.0.0.1:${server.port}/`, http()));
    expect(result.failure).toBe('connect: connection refused');
    expect(sampleValue(result, 'probe_http_duration_seconds', { phase: 'connect' })).toBe(0);
  });

  it('reports a name the guard cannot resolve, with only the resolve phase', async () => {
    const result = await prober(probeRequest('http://nowhere.invalid/', http()));
    expect(result.failure).toBe('resolve: lookup nowhere.invalid: no such host');
    expect(result.samples.filter((s) => s.name === 'probe_http_duration_seconds')).toHaveLength(1);
    expect(sampleValue(result, 'probe_ip_protocol')).toBe(0);
    expect(sampleValue(result, 'probe_http_status_code')).toBe(0);
  });

  it('refuses other schemes and credentials in the URL, without quoting the credentials', async () => {
    const file = await prober(probeRequest('file:///etc/passwd', http()));
    expect(file.failure).toBe('invalid target: the http prober takes http:// and https:// URLs, not file:');
    const credentials = await prober(probeRequest(`http://admin:s3cret@${base.slice(7)}/ok`, http()));
    expect(credentials.success).toBe(false);
    expect(credentials.failure).toContain('credentials in the target are not accepted');
    expect(credentials.failure).not.toContain('s3cret');
  });

  it('fails with the reason when a module built by hand is not valid', async () => {
    const module = { prober: 'http' as const, timeoutMs: 1_000, http: { method: 'NO SPACES' } };
    const result = await prober({ target: `${base}/ok`, module, signal: AbortSignal.timeout(1_000) });
    expect(result.failure).toBe('module configuration: method: expected an HTTP method such as GET or POST');
  });

  it('resolves every redirect hop through the guard', async () => {
    const asked: string[] = [];
    const guarded = createHttpProber({
      guard: {
        resolve: (host, options) => {
          asked.push(host);
          return loopbackGuard.resolve(host, options);
        },
      },
    });
    const result = await guarded(probeRequest(`${base}/redirect`, http()));
    expect(result.success).toBe(true);
    expect(asked).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});

describe('http prober over TLS', () => {
  let certificate: Certificate;
  let tlsBase: string;
  let closeTls: () => Promise<void>;
  beforeAll(async () => {
    certificate = selfSignedCertificate(7);
    const server = await listen(
      createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_req, res) => res.end('secure')),
    );
    tlsBase = `https://localhost:${server.port}`;
    closeTls = server.close;
  });
  afterAll(async () => {
    await closeTls();
    certificate.remove();
  });

  it('verifies with the custom CA and reports the certificate', async () => {
    const result = await prober(
      probeRequest(`${tlsBase}/`, http({ tls_config: { ca_file: certificate.certFile } })),
    );
    expect(result.success).toBe(true);
    expect(sampleValue(result, 'probe_http_ssl')).toBe(1);
    expect(sampleValue(result, 'probe_tls_version_info', { version: 'TLS 1.3' })).toBe(1);
    const expiry = sampleValue(result, 'probe_ssl_earliest_cert_expiry')!;
    expect(expiry * 1000).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(sampleValue(result, 'probe_ssl_last_chain_expiry_timestamp_seconds')).toBe(expiry);
    expect(result.certificateExpiresAtMs).toBe(expiry * 1000);
    const info = result.samples.find((s) => s.name === 'probe_ssl_last_chain_info');
    expect(info?.labels).toMatchObject({
      subject: 'CN=localhost',
      issuer: 'CN=localhost',
      subjectalternative: 'localhost',
    });
    expect(info?.labels?.fingerprint_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails without the CA, and skips verification only when told to', async () => {
    const untrusted = await prober(probeRequest(`${tlsBase}/`, http()));
    expect(untrusted.failure).toBe('tls handshake: certificate signed by unknown authority (self-signed)');
    const insecure = await prober(
      probeRequest(`${tlsBase}/`, http({ tls_config: { insecure_skip_verify: true } })),
    );
    expect(insecure.success).toBe(true);
    expect(sampleValue(insecure, 'probe_ssl_last_chain_expiry_timestamp_seconds')).toBe(-62135596800);
  });

  it('fails when the certificate expires within the configured time', async () => {
    const result = await prober(
      probeRequest(
        `${tlsBase}/`,
        http(
          { tls_config: { ca_file: certificate.certFile } },
          { fail_if_certificate_expires_within: '240h' },
        ),
      ),
    );
    expect(result.failure).toBe('certificate expires in 6 days');
  });

  it('fails_if_not_ssl on plain http and fail_if_ssl on https', async () => {
    const plain = await prober(probeRequest(`${base}/ok`, http({ fail_if_not_ssl: true })));
    expect(plain.failure).toBe('the final response did not come over TLS (fail_if_not_ssl)');
    const secure = await prober(
      probeRequest(`${tlsBase}/`, http({ fail_if_ssl: true, tls_config: { insecure_skip_verify: true } })),
    );
    expect(secure.failure).toBe('the final response came over TLS (fail_if_ssl)');
  });

  it('speaks HTTP/2 when TLS negotiates it, and HTTP/1.1 when enable_http2 is false', async () => {
    const server = await listen(http2Targets(certificate));
    const target = `https://localhost:${server.port}`;
    const tls = { tls_config: { ca_file: certificate.certFile } };
    const h2 = await prober(
      probeRequest(`${target}/redirect`, http({ ...tls, valid_http_versions: ['HTTP/2.0'] })),
    );
    expect(h2.failure).toBeUndefined();
    expect(sampleValue(h2, 'probe_http_version')).toBe(2);
    expect(sampleValue(h2, 'probe_http_redirects')).toBe(1);
    expect(sampleValue(h2, 'probe_http_content_length')).toBe(5);
    const h1 = await prober(probeRequest(`${target}/ok`, http({ ...tls, enable_http2: false })));
    expect(sampleValue(h1, 'probe_http_version')).toBe(1.1);
    const posted = await prober(
      probeRequest(`${target}/post-only`, http({ ...tls, method: 'POST', body: '{}' })),
    );
    expect(posted.failure).toBeUndefined();
    await server.close();
  });

  it('gives up on a TLS handshake that never completes', async () => {
    const silent = await listen(createNetServer(() => undefined));
    const result = await prober(
      probeRequest(`https://127.0.0.1:${silent.port}/`, http({}, { timeout: '300ms' })),
    );
    await silent.close();
    expect(result.failure).toBe('timeout after 300ms (tls handshake)');
  });
});
