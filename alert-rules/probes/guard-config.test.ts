import { describe, expect, it } from 'vitest';
import { formatCidr } from './cidr.ts';
import { addressGuardSchema } from './guard-config.ts';

describe('addressGuardSchema', () => {
  it('refuses nothing it was not told to, and waits 5s for DNS', () => {
    expect(addressGuardSchema.parse({})).toEqual({ allow: [], deny: [], resolveTimeout: 5_000 });
  });

  it('reads CIDRs, addresses and host names', () => {
    const settings = addressGuardSchema.parse({
      allow: [
        '10.20.0.0/16',
        '10.1.2.3/8',
        'fd12:3456::/32',
        '192.168.1.7',
        '::1',
        'Status.Internal.',
        '*.svc.cluster.local',
      ],
      deny: ['10.20.30.0/24', '2001:db8::1'],
      resolveTimeout: '2s',
    });
    const allowed = settings.allow.map((entry) => ('cidr' in entry ? formatCidr(entry.cidr) : entry.host));
    expect(allowed).toEqual([
      '10.20.0.0/16',
      '10.0.0.0/8',
      'fd12:3456::/32',
      '192.168.1.7/32',
      '::1/128',
      { name: 'status.internal', subdomains: false },
      { name: 'svc.cluster.local', subdomains: true },
    ]);
    expect(settings.deny.map(formatCidr)).toEqual(['10.20.30.0/24', '2001:db8::1/128']);
    expect(settings.resolveTimeout).toBe(2_000);
  });

  it.each([
    [
      { allow: ['10.0.0.0/33'] },
      'expected a CIDR (10.0.0.0/8), an address, a host name or *.domain, got "10.0.0.0/33"',
    ],
    [{ allow: ['*.'] }, 'got "*."'],
    [{ allow: ['a*.example'] }, 'got "a*.example"'],
    [{ allow: ['fe80::1%eth0'] }, 'got "fe80::1%eth0"'],
    [{ deny: ['internal.example'] }, 'expected a CIDR (10.0.0.0/8) or an address, got "internal.example"'],
    [{ deny: ['10.0.0.0/8/8'] }, 'got "10.0.0.0/8/8"'],
    [{ resolveTimeout: 0 }, 'expected at least 1ms'],
    [{ other: true }, 'Unrecognized key'],
  ])('refuses %j', (input, message) => {
    const result = addressGuardSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(message);
  });
});
