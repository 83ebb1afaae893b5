import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Certificate,
  listen,
  loopbackGuard,
  probeRequest,
  sampleValue,
  selfSignedCertificate,
} from './fixtures/probe-fixtures.ts';
import { splitHostPort } from './resolve-target.ts';
import { createTcpProber } from './tcp-prober.ts';

const prober = createTcpProber({ guard: loopbackGuard });
const tcp = (extra: Record<string, unknown> = {}) => ({
  prober: 'tcp',
  timeout: '1s',
  tcp: { preferred_ip_protocol: 'ip4', ...extra },
});

let certificate: Certificate;
beforeAll(() => {
  certificate = selfSignedCertificate(7);
});
afterAll(() => certificate.remove());

/** A line server: greets, answers PING with PONG and upgrades to TLS on STARTTLS. */
function chat(socket: Socket): void {
  socket.write('220 hello there\r\n');
  socket.on('data', (data) => {
    const text = data.toString();
    if (text.startsWith('PING ')) socket.write(`PONG ${text.slice(5)}`);
    if (text.startsWith('STARTTLS')) {
      socket.removeAllListeners('data');
      socket.write('220 go ahead\n');
      const secure = new TLSSocket(socket, { isServer: true, key: certificate.key, cert: certificate.cert });
      secure.on('error', () => undefined);
      secure.on('data', () => secure.write('250 secure\n'));
    }
  });
}

describe('tcp prober', () => {
  it('connects, and says connection refused when nothing listens', async () => {
    const server = await listen(createServer((s) => s.end()));
    const ok = await prober(probeRequest(`127.0.0.1:${server.port}`, tcp()));
    expect(ok.success).toBe(true);
    expect(ok.samples.map((s) => s.name).sort()).toEqual([
      'probe_dns_lookup_time_seconds',
      'probe_failed_due_to_regex',
      'probe_ip_addr_hash',
      'probe_ip_protocol',
    ]);
    await server.close();
    const refused = await prober(probeRequest(`127.0.0.1:${server.port}`, tcp()));
    expect(refused.failure).toBe('connect: connection refused');
  });

  it('runs a query_response dialogue with groups expanded into what it sends', async () => {
    const server = await listen(createServer(chat));
    const result = await prober(
      probeRequest(
        `localhost:${server.port}`,
        tcp({
          query_response: [
            { expect: '^220 (\\w+)' },
            { send: 'PING 42' },
            { expect: '^PONG (\\d+)$', send: 'PING ${1}' },
          ],
        }),
      ),
    );
    expect(result.failure).toBeUndefined();
    const missing = await prober(
      probeRequest(`localhost:${server.port}`, tcp({ query_response: [{ expect: '^530' }] })),
    );
    expect(missing.failure).toBe('timeout after 1s (query_response 1: waiting for /^530/)');
    expect(sampleValue(missing, 'probe_failed_due_to_regex')).toBe(0);
    await server.close();
  });

  it('fails when the expected line never comes before the connection closes', async () => {
    const server = await listen(createServer((s) => s.end('500 go away\n')));
    const result = await prober(
      probeRequest(`localhost:${server.port}`, tcp({ query_response: [{ expect: '^220' }] })),
    );
    expect(result.failure).toBe('query_response 1: /^220/ not found before the connection closed');
    expect(sampleValue(result, 'probe_failed_due_to_regex')).toBe(1);
    await server.close();
  });

  it('upgrades with starttls and reports the certificate', async () => {
    const server = await listen(createServer(chat));
    const result = await prober(
      probeRequest(
        `localhost:${server.port}`,
        tcp({
          query_response: [
            { expect: '^220' },
            { send: 'STARTTLS' },
            { expect: '^220 go', starttls: true },
            { send: 'x' },
            { expect: '^250 secure' },
          ],
          tls_config: { ca_file: certificate.certFile },
        }),
      ),
    );
    expect(result.failure).toBeUndefined();
    expect(sampleValue(result, 'probe_tls_version_info', { version: 'TLS 1.3' })).toBe(1);
    expect(result.certificateExpiresAtMs).toBeGreaterThan(Date.now());
    await server.close();
  });

  it('connects with TLS, checks the certificate and its expiry', async () => {
    const server = await listen(
      createTlsServer({ key: certificate.key, cert: certificate.cert }, (s) => s.end()),
    );
    const result = await prober(
      probeRequest(`localhost:${server.port}`, {
        ...tcp({ tls: true, tls_config: { ca_file: certificate.certFile } }),
        fail_if_certificate_expires_within: '200h',
      }),
    );
    expect(result.failure).toBe('certificate expires in 6 days');
    expect(sampleValue(result, 'probe_ssl_earliest_cert_expiry')).toBeGreaterThan(Date.now() / 1000);
    const untrusted = await prober(probeRequest(`localhost:${server.port}`, tcp({ tls: true })));
    expect(untrusted.failure).toBe('tls handshake: certificate signed by unknown authority (self-signed)');
    await server.close();
  });

  it('refuses a target without a port', async () => {
    const result = await prober(probeRequest('localhost', tcp()));
    expect(result.failure).toBe('target must be host:port, got "localhost"');
    expect(splitHostPort('[::1]:53')).toEqual({ host: '::1', port: 53 });
  });
});
