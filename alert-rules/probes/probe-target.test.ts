import { describe, expect, it } from 'vitest';
import { createAddressGuard, type HostResolver } from './address-guard.ts';
import { addressGuardSchema } from './guard-config.ts';
import { checkTargetAtCreation, hasCredentials, targetAddress } from './probe-target.ts';

describe('targetAddress', () => {
  it.each([
    ['http', 'https://status.example.com/health', { host: 'status.example.com', port: 443 }],
    ['http', 'status.example.com:8080/health', { host: 'status.example.com', port: 8080 }],
    ['http', 'HTTP://0x7f.1/', { host: '127.0.0.1', port: 80 }],
    ['http', 'http://[::ffff:127.0.0.1]:81/', { host: '::ffff:7f00:1', port: 81 }],
    ['http', 'localhost:8080', { host: 'localhost', port: 8080 }],
    ['http', 'https://example.com/login?next=a@b', { host: 'example.com', port: 443 }],
    ['tcp', 'smtp.example.com:25', { host: 'smtp.example.com', port: 25 }],
    ['tcp', '[2001:db8::1]:443', { host: '2001:db8::1', port: 443 }],
    ['tcp', '0x7f.1:22', { host: '0x7f.1', port: 22 }],
    ['dns', '8.8.8.8:53', { host: '8.8.8.8', port: 53 }],
    ['dns', '8.8.8.8', { host: '8.8.8.8', port: undefined }],
    ['dns', '2001:4860:4860::8888', { host: '2001:4860:4860::8888', port: undefined }],
    ['dns', '[2001:4860:4860::8888]', { host: '2001:4860:4860::8888', port: undefined }],
  ] as const)('reads a %s target %s', (prober, target, expected) => {
    expect(targetAddress(target, prober)).toEqual(expected);
  });

  it.each([
    ['http', 'http://', '"http://" is not a valid URL'],
    ['http', 'file:///etc/passwd', 'the http prober takes http:// and https:// URLs, not file:'],
    ['http', 'gopher://127.0.0.1:70/_x', 'not gopher:'],
    ['http', 'FTP://example.com/', 'not ftp:'],
    ['http', 'javascript:alert(1)', 'not javascript:'],
    ['http', 'https://user:s3cret@example.com/', 'credentials in the target are not accepted'],
    ['http', 'user:s3cret@example.com/x', 'credentials in the target are not accepted'],
    ['http', 'http://user:s3cret@[::1/', 'credentials in the target are not accepted'],
    ['tcp', 'smtp.example.com', '"smtp.example.com" is not host:port: missing port'],
    ['tcp', '::1:25', 'too many colons (write IPv6 addresses in brackets: [::1]:53)'],
    ['tcp', '[::1:25', 'missing "]"'],
    ['tcp', 'host:smtp', 'the port "smtp" is not a number from 1 to 65535'],
    ['tcp', 'host:0', 'the port "0" is not a number from 1 to 65535'],
    ['tcp', ':25', 'missing host'],
  ] as const)('refuses a %s target %s', (prober, target, message) => {
    expect(() => targetAddress(target, prober)).toThrow(message);
    expect(() => targetAddress(target, prober)).not.toThrow(/s3cret/);
  });
});

describe('hasCredentials', () => {
  it.each([
    ['https://user:password@example.com/', true],
    ['https://token@example.com/', true],
    ['user:password@example.com:22', true],
    ['https://example.com/a@b', false],
    ['https://example.com?to=a@b', false],
    ['https://example.com#a@b', false],
    ['example.com:22', false],
  ])('%s: %s', (target, expected) => {
    expect(hasCredentials(target)).toBe(expected);
  });
});

describe('checkTargetAtCreation', () => {
  const answers: Record<string, string> = { 'public.example': '203.0.113.10', 'inside.example': '10.0.0.5' };
  const resolver: HostResolver = async (name) => {
    const address = answers[name];
    if (!address) throw new Error(`cannot resolve ${name}: no such host`);
    return [{ address, family: 4 }];
  };
  const guard = createAddressGuard(addressGuardSchema.parse({}), resolver);

  it('accepts a public target, and a name that does not resolve yet', async () => {
    expect(await checkTargetAtCreation(guard, 'https://public.example/health', 'http')).toBeUndefined();
    expect(await checkTargetAtCreation(guard, 'public.example:443', 'tcp')).toBeUndefined();
    expect(await checkTargetAtCreation(guard, 'not-yet.example:443', 'tcp')).toBeUndefined();
  });

  it('says why a target is refused', async () => {
    expect(await checkTargetAtCreation(guard, 'http://169.254.169.254/latest/meta-data/', 'http')).toBe(
      '169.254.169.254 is link-local (cloud metadata); add it to probes.allow to probe it',
    );
    expect(await checkTargetAtCreation(guard, 'inside.example:5432', 'tcp')).toBe(
      'inside.example resolves to 10.0.0.5, which is private (RFC 1918); add inside.example or 10.0.0.5 to probes.allow to probe it',
    );
    expect(await checkTargetAtCreation(guard, '[fd00:ec2::254]', 'dns')).toBe(
      'fd00:ec2::254 is cloud metadata (AWS); add it to probes.allow to probe it',
    );
    expect(await checkTargetAtCreation(guard, 'inside.example', 'tcp')).toBe(
      '"inside.example" is not host:port: missing port',
    );
  });
});
