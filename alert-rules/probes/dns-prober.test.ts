import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsProber } from './dns-prober.ts';
import { decodeMessage, encodeQuery, ipv6Text } from './dns-wire.ts';
import { type DnsServer, nameBytes, startDnsServer, type Zone } from './fixtures/dns-server.ts';
import { loopbackGuard, probeRequest, sampleValue } from './fixtures/probe-fixtures.ts';

const soa = Buffer.concat([
  nameBytes('ns.example.com'),
  nameBytes('noc.example.com'),
  Buffer.from([0, 0, 3, 232, 0, 0, 28, 32, 0, 0, 14, 16, 0, 18, 117, 0, 0, 0, 14, 16]),
]);
const zone: Zone = new Map([
  [
    'example.com|1',
    [
      { type: 1, ttl: 300, data: Buffer.from([192, 0, 2, 1]) },
      { type: 1, ttl: 300, data: Buffer.from([192, 0, 2, 2]) },
    ],
  ],
  ['example.com|6', [{ type: 6, ttl: 3600, data: soa }]],
  ['example.com|16', [{ type: 16, ttl: 60, data: Buffer.from('\x05hello\x0ashe said "') }]],
  ['example.com|28', [{ type: 28, ttl: 60, data: Buffer.from('20010db8000000000000000000000001', 'hex') }]],
]);

const prober = createDnsProber({ guard: loopbackGuard });
let server: DnsServer;
beforeAll(async () => {
  server = await startDnsServer(zone);
});
afterAll(() => server.close());

const dns = (extra: Record<string, unknown>) => ({
  prober: 'dns',
  timeout: '1s',
  dns: { preferred_ip_protocol: 'ip4', query_name: 'example.com', ...extra },
});

describe('dns prober', () => {
  it('queries over UDP and counts the records', async () => {
    const result = await prober(probeRequest(`127.0.0.1:${server.port}`, dns({ query_type: 'A' })));
    expect(result.failure).toBeUndefined();
    expect(sampleValue(result, 'probe_dns_answer_rrs')).toBe(2);
    expect(sampleValue(result, 'probe_dns_authority_rrs')).toBe(0);
    expect(sampleValue(result, 'probe_dns_query_succeeded')).toBe(1);
    expect(
      result.samples.filter((s) => s.name === 'probe_dns_duration_seconds').map((s) => s.labels?.phase),
    ).toEqual(['resolve', 'connect', 'request']);
    const sent = decodeMessage(server.queries.at(-1)!);
    expect(sent.rcode).toBe(0);
  });

  it('checks records as miekg/dns prints them', async () => {
    const matching = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({
          query_type: 'A',
          validate_answer_rrs: {
            fail_if_not_matches_regexp: ['^example\\.com\\.\\t300\\tIN\\tA\\t192\\.0\\.2\\.\\d$'],
          },
        }),
      ),
    );
    expect(matching.failure).toBeUndefined();
    const forbidden = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({ query_type: 'A', validate_answer_rrs: { fail_if_matches_regexp: ['192\\.0\\.2\\.2'] } }),
      ),
    );
    expect(forbidden.failure).toBe(
      'answer record matched /192\\.0\\.2\\.2/: example.com.\t300\tIN\tA\t192.0.2.2',
    );
    const none = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({ query_type: 'A', validate_authority_rrs: { fail_if_none_matches_regexp: ['SOA'] } }),
      ),
    );
    expect(none.failure).toBe('no authority records to match /SOA/');
    const all = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({ query_type: 'A', validate_answer_rrs: { fail_if_all_match_regexp: ['192\\.0\\.2'] } }),
      ),
    );
    expect(all.failure).toBe('every answer record matched /192\\.0\\.2/');
  });

  it('prints TXT, AAAA and SOA records, and reports the SOA serial, over TCP', async () => {
    const txt = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({
          query_type: 'TXT',
          transport_protocol: 'tcp',
          validate_answer_rrs: { fail_if_not_matches_regexp: ['\\tTXT\\t"hello" "she said \\\\""$'] },
        }),
      ),
    );
    expect(txt.failure).toBeUndefined();
    const aaaa = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({
          query_type: 'AAAA',
          validate_answer_rrs: { fail_if_not_matches_regexp: ['\\tAAAA\\t2001:db8::1$'] },
        }),
      ),
    );
    expect(aaaa.failure).toBeUndefined();
    const serial = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({
          query_type: 'SOA',
          validate_answer_rrs: {
            fail_if_not_matches_regexp: [
              'SOA\\tns\\.example\\.com\\. noc\\.example\\.com\\. 1000 7200 3600 1209600 3600$',
            ],
          },
        }),
      ),
    );
    expect(serial.failure).toBeUndefined();
    expect(sampleValue(serial, 'probe_dns_serial')).toBe(1000);
  });

  it('fails on an rcode that is not valid', async () => {
    const result = await prober(
      probeRequest(`127.0.0.1:${server.port}`, dns({ query_name: 'nowhere.example.com' })),
    );
    expect(result.failure).toBe('rcode NXDOMAIN, expected NOERROR');
    expect(sampleValue(result, 'probe_dns_query_succeeded')).toBe(1);
    const accepted = await prober(
      probeRequest(
        `127.0.0.1:${server.port}`,
        dns({ query_name: 'nowhere.example.com', valid_rcodes: ['NXDOMAIN'] }),
      ),
    );
    expect(accepted.success).toBe(true);
  });

  it('times out when no server answers, and refuses a server the guard refuses', async () => {
    const mute = createSocket('udp4');
    await new Promise<void>((resolve) => mute.bind(0, '127.0.0.1', resolve));
    const mutePort = mute.address().port;
    const silent = await prober(
      probeRequest(`127.0.0.1:${mutePort}`, { ...dns({ query_type: 'A' }), timeout: '300ms' }),
    );
    mute.close();
    expect(silent.failure).toBe('timeout after 300ms (query)');
    expect(sampleValue(silent, 'probe_dns_query_succeeded')).toBe(0);
    expect(sampleValue(silent, 'probe_dns_duration_seconds', { phase: 'connect' })).toBeGreaterThan(0.25);
    const refused = await prober(probeRequest(`127.0.0.1:${mutePort}`, dns({ query_type: 'A' })));
    expect(refused.failure).toBe('query: connection refused');
    const unknown = await prober(probeRequest('dns.invalid', dns({ query_type: 'A' })));
    expect(unknown.failure).toBe('resolve: lookup dns.invalid: no such host');
  });
});

describe('dns wire format', () => {
  it('refuses compression pointers that loop', () => {
    const query = encodeQuery({ id: 1, name: 'a.example', type: 1, class: 1, recursionDesired: true });
    const looping = Buffer.concat([query, Buffer.from([0xc0, query.length, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0])]);
    looping.writeUInt16BE(1, 6);
    expect(() => decodeMessage(looping)).toThrow(/pointer/);
  });

  it('prints IPv6 as Go does', () => {
    expect(ipv6Text(Buffer.from('00000000000000000000000000000001', 'hex'))).toBe('::1');
    expect(ipv6Text(Buffer.from('20010db8000000010000000000000000', 'hex'))).toBe('2001:db8:0:1::');
    expect(ipv6Text(Buffer.from('00000000000000000000ffff0a000001', 'hex'))).toBe('::ffff:10.0.0.1');
  });
});
