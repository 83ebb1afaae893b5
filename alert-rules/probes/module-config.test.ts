import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { parseGoByteSize, parseGoDuration } from './go-units.ts';
import { httpProbeSchema } from './http-config.ts';
import { blackboxConfigSchema, probeSection, withTargetChecks } from './module-config.ts';

const BLACKBOX_EXAMPLE = `
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      valid_status_codes: []
      method: GET
      headers:
        Accept-Language: en-US
      fail_if_body_matches_regexp: ["ERROR"]
      fail_if_header_matches:
        - header: Set-Cookie
          allow_missing: true
          regexp: '.*'
      tls_config:
        insecure_skip_verify: false
        min_version: TLS12
      basic_auth:
        username: probe
        password_file: /etc/probe/password
      body_size_limit: 10MB
      compression: GZIP
      no_follow_redirects: true
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  tcp_connect:
    prober: tcp
  irc_banner:
    prober: tcp
    tcp:
      query_response:
        - send: "NICK prober"
        - expect: "PING :([^ ]+)"
          send: "PONG \${1}"
      tls: true
  dns_soa:
    prober: dns
    dns:
      query_name: "example.com"
      query_type: "SOA"
      transport_protocol: tcp
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["example.com.\\t.*\\tIN\\tSOA"]
`;

function parse(text: string) {
  return parseConfig(blackboxConfigSchema, text, {});
}

describe('module configuration', () => {
  it('accepts blackbox modules unchanged, with blackbox defaults', () => {
    const result = parse(BLACKBOX_EXAMPLE);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const { http_2xx, tcp_connect, irc_banner, dns_soa } = result.value.modules;
    expect(http_2xx).toMatchObject({ prober: 'http', timeoutMs: 5_000 });
    expect(http_2xx!.http).toMatchObject({
      method: 'GET',
      body_size_limit: 10 * 1024 * 1024,
      compression: 'gzip',
      follow_redirects: false,
      preferred_ip_protocol: 'ip4',
      ip_protocol_fallback: false,
      enable_http2: true,
    });
    expect(tcp_connect).toMatchObject({
      timeoutMs: 10_000,
      tcp: { preferred_ip_protocol: 'ip6', tls: false },
    });
    expect(irc_banner!.tcp!.query_response[1]).toEqual({
      expect: 'PING :([^ ]+)',
      send: 'PONG ${1}',
      starttls: false,
    });
    expect(dns_soa!.dns).toMatchObject({ query_type: 'SOA', query_class: 'IN', valid_rcodes: ['NOERROR'] });
  });

  it('refuses unknown keys with their path, as blackbox does', () => {
    const result = parse('modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_matches: [x]\n');
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'modules.a.http.fail_if_body_matches', message: 'unknown key' }],
    });
  });

  it('refuses a broken regular expression with Go’s message', () => {
    const result = parse(
      'modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ["(a"]\n',
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        {
          path: 'modules.a.http.fail_if_body_matches_regexp[0]',
          message: 'error parsing regexp: missing closing ): `(a`',
        },
      ],
    });
  });

  it('names what it refuses: unsupported probers and options, conflicting credentials, bad values', () => {
    const errors = (text: string) => {
      const result = parse(text);
      return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
    };
    expect(errors('modules:\n  a:\n    prober: icmp\n')).toEqual([
      'modules.a.prober: expected one of "http", "tcp", "dns", got "icmp"',
    ]);
    expect(
      errors('modules:\n  a:\n    prober: http\n    http:\n      proxy_url: http://proxy:3128\n'),
    ).toEqual([
      "modules.a.http.proxy_url: proxy_url (a proxy would connect where the address guard cannot check) is not supported by Lookout's probes",
    ]);
    expect(
      errors(
        'modules:\n  a:\n    prober: http\n    http:\n      bearer_token: x\n      basic_auth: {username: u}\n',
      ),
    ).toEqual(['modules.a.http: at most one of basic_auth, bearer_token & bearer_token_file']);
    expect(errors('modules:\n  a:\n    prober: dns\n')).toEqual([
      'modules.a.dns: query name must be set for DNS module',
    ]);
    expect(errors('modules:\n  a:\n    prober: dns\n    dns: {query_name: x, query_type: FOO}\n')).toEqual([
      'modules.a.dns.query_type: query type "FOO" is not valid',
    ]);
    expect(errors('modules:\n  a:\n    prober: http\n    timeout: 5\n')).toHaveLength(1);
    expect(
      errors('modules:\n  a:\n    prober: http\n    http: {tls_config: {min_version: TLS14}}\n'),
    ).toEqual([
      'modules.a.http.tls_config.min_version: expected one of "TLS10", "TLS11", "TLS12", "TLS13", got "TLS14"',
    ]);
  });

  it('takes Lookout’s checks on the module, and a target’s in their place', () => {
    const result = parse(
      'modules:\n  a:\n    prober: http\n    fail_if_slower_than: 1500ms\n    fail_if_certificate_expires_within: 336h\n',
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const module = result.value.modules.a!;
    expect(module).toMatchObject({
      failIfSlowerThanMs: 1_500,
      failIfCertificateExpiresWithinMs: 336 * 3_600_000,
    });
    expect(withTargetChecks(module, { failIfSlowerThanMs: 500 })).toMatchObject({
      failIfSlowerThanMs: 500,
      failIfCertificateExpiresWithinMs: 336 * 3_600_000,
    });
  });

  it('validates a hand-made section once and keeps a parsed one as it is', () => {
    const result = parse(BLACKBOX_EXAMPLE);
    if (!result.ok) throw new Error('invalid');
    const parsed = result.value.modules.http_2xx!.http!;
    expect(probeSection(parsed, httpProbeSchema)).toBe(parsed);
    const raw = { method: 'HEAD' };
    expect(probeSection(raw, httpProbeSchema)).toBe(probeSection(raw, httpProbeSchema));
    expect(() => probeSection({ method: 'NO SPACES' }, httpProbeSchema)).toThrow(/HTTP method/);
  });
});

describe('Go units', () => {
  it('parses Go durations and Base2Bytes sizes', () => {
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5s')).toBe(1_500);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(() => parseGoDuration('5')).toThrow(/not a duration/);
    expect(() => parseGoDuration('5d')).toThrow(/not a duration/);
    expect(parseGoByteSize('1KB')).toBe(1024);
    expect(parseGoByteSize('10MiB')).toBe(10 * 1024 * 1024);
    expect(() => parseGoByteSize('1000')).toThrow(/not a size/);
  });
});
