import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createAddressGuard, type HostResolver, systemResolver } from './address-guard.ts';
import { BYPASS_SPELLINGS } from './fixtures/bypass-spellings.ts';
import { addressGuardSchema } from './guard-config.ts';
import { AddressRefusedError, type ResolvedAddress } from './types.ts';

const PUBLIC = { address: '203.0.113.10', family: 4 } as const;
const PUBLIC_V6 = { address: '2001:db8::10', family: 6 } as const;

const both = { preferred: 6, fallback: true, signal: new AbortController().signal } as const;

function settings(input: object = {}) {
  return addressGuardSchema.parse(input);
}

/** Answers each name from the table, in turn when it lists several answers for it. */
function fakeResolver(table: Record<string, ResolvedAddress[][]>) {
  const calls: { name: string; family: 0 | 4 | 6 }[] = [];
  const resolver: HostResolver = async (name, family) => {
    calls.push({ name, family });
    const answers = table[name];
    if (!answers) throw new Error(`cannot resolve ${name}: no such host`);
    const seen = calls.filter((call) => call.name === name).length;
    return answers[Math.min(seen, answers.length) - 1]!.filter((a) => family === 0 || a.family === family);
  };
  return { resolver, calls };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AddressRefusedError);
  return (err as Error).message;
}

describe('createAddressGuard with the default settings', () => {
  const guard = createAddressGuard(settings(), fakeResolver({}).resolver);

  it.each(BYPASS_SPELLINGS)('refuses %s', async (host) => {
    await refusal(guard.resolve(host, both));
  });

  it.each([
    ['203.0.113.10', { address: '203.0.113.10', family: 4 }],
    ['8.8.8.8', { address: '8.8.8.8', family: 4 }],
    ['0x08080808', { address: '8.8.8.8', family: 4 }],
    ['[2606:4700:4700::1111]', { address: '2606:4700:4700::1111', family: 6 }],
    ['[::ffff:8.8.8.8]', { address: '::ffff:8.8.8.8', family: 6 }],
    ['[64:ff9b::808:808]', { address: '64:ff9b::808:808', family: 6 }],
    ['[2002:808:808::1]', { address: '2002:808:808::1', family: 6 }],
    ['172.32.0.1', { address: '172.32.0.1', family: 4 }],
    ['100.128.0.1', { address: '100.128.0.1', family: 4 }],
  ])('lets %s through as %j', async (host, expected) => {
    expect(await guard.resolve(host, both)).toEqual(expected);
  });

  // The guard's resolver knows no name, so each of these is refused without asking DNS.
  it.each([
    ['169.254.169.254', '169.254.169.254 is link-local (cloud metadata); add it to probes.allow to probe it'],
    ['0x7f.1', '0x7f.1 (127.0.0.1) is loopback; add 127.0.0.1 to probes.allow to probe it'],
    [
      '[64:ff9b::a9fe:a9fe]',
      '64:ff9b::a9fe:a9fe (NAT64 of 169.254.169.254) is link-local (cloud metadata); add 169.254.169.254 to probes.allow to probe it',
    ],
    ['10.1.2.3', '10.1.2.3 is private (RFC 1918); add it to probes.allow to probe it'],
    [
      'localhost',
      'localhost resolves to ::1, which is loopback; add localhost or ::1 to probes.allow to probe it',
    ],
    ['1.2.3.4.5', '"1.2.3.4.5" ends in a number but is not an IPv4 address'],
    ['%31%32%37.0.0.1', '"%31%32%37.0.0.1" is not a valid host name'],
    ['[127.0.0.1]', '"[127.0.0.1]" is not a valid IPv6 address'],
  ])('says why %s is refused', async (host, message) => {
    expect(await refusal(guard.resolve(host, both))).toBe(message);
  });
});

describe('createAddressGuard resolving names', () => {
  it('checks every answer and refuses the name when any is inside', async () => {
    const { resolver } = fakeResolver({
      'mixed.example': [[PUBLIC, { address: '10.0.0.5', family: 4 }]],
      'mapped.example.': [[{ address: '::ffff:169.254.169.254', family: 6 }]],
    });
    const guard = createAddressGuard(settings(), resolver);
    expect(await refusal(guard.resolve('mixed.example', both))).toBe(
      'mixed.example resolves to 10.0.0.5, which is private (RFC 1918); add mixed.example or 10.0.0.5 to probes.allow to probe it',
    );
    expect(await refusal(guard.resolve('Mapped.Example.', both))).toBe(
      'mapped.example resolves to ::ffff:169.254.169.254 (IPv4-mapped 169.254.169.254), which is link-local (cloud metadata); add mapped.example or 169.254.169.254 to probes.allow to probe it',
    );
  });

  it('asks DNS once: rebinding after the check cannot change the address, and the next probe is refused', async () => {
    const { resolver, calls } = fakeResolver({
      'rebind.example': [[PUBLIC], [{ address: '127.0.0.1', family: 4 }]],
    });
    const guard = createAddressGuard(settings(), resolver);
    expect(await guard.resolve('rebind.example', both)).toEqual(PUBLIC);
    expect(calls).toHaveLength(1);
    expect(await refusal(guard.resolve('rebind.example', both))).toMatch(
      /^rebind\.example resolves to 127\.0\.0\.1, which is loopback;/,
    );
  });

  it('passes the name to DNS as written (a trailing dot kept) and in ASCII', async () => {
    const { resolver, calls } = fakeResolver({ 'xn--bcher-kva.de.': [[PUBLIC]], 'svc.ns': [[PUBLIC]] });
    const guard = createAddressGuard(settings(), resolver);
    await guard.resolve('Bücher.de.', both);
    await guard.resolve('svc.ns', { ...both, fallback: false, preferred: 4 });
    expect(calls).toEqual([
      { name: 'xn--bcher-kva.de.', family: 0 },
      { name: 'svc.ns', family: 4 },
    ]);
  });

  it('chooses as blackbox_exporter: the preferred family first, the other only with fallback', async () => {
    const { resolver } = fakeResolver({ 'dual.example': [[PUBLIC, PUBLIC_V6]], 'v4.example': [[PUBLIC]] });
    const guard = createAddressGuard(settings(), resolver);
    expect(await guard.resolve('dual.example', both)).toEqual(PUBLIC_V6);
    expect(await guard.resolve('dual.example', { ...both, preferred: 4 })).toEqual(PUBLIC);
    expect(await guard.resolve('v4.example', both)).toEqual(PUBLIC);
    await expect(guard.resolve('v4.example', { ...both, fallback: false })).rejects.toThrow(
      'v4.example has no IPv6 address',
    );
    await expect(guard.resolve('203.0.113.10', { ...both, fallback: false })).rejects.toThrow(
      '203.0.113.10 is an IPv4 address and the module asks for IPv6 without fallback',
    );
  });

  it('answers localhost names itself, in the family asked for', async () => {
    const allowLoopback = settings({ allow: ['127.0.0.0/8', '::1'] });
    const { resolver, calls } = fakeResolver({});
    const guard = createAddressGuard(allowLoopback, resolver);
    expect(await guard.resolve('localhost', both)).toEqual({ address: '::1', family: 6 });
    expect(await guard.resolve('a.b.localhost.', { ...both, preferred: 4 })).toEqual({
      address: '127.0.0.1',
      family: 4,
    });
    expect(calls).toEqual([]);
  });

  it('refuses an answer that is no address', async () => {
    const { resolver } = fakeResolver({ 'odd.example': [[{ address: 'not-an-ip', family: 4 }]] });
    const guard = createAddressGuard(settings(), resolver);
    expect(await refusal(guard.resolve('odd.example', both))).toBe(
      'odd.example resolves to "not-an-ip", not an address',
    );
  });

  it('passes on resolution failures as plain errors', async () => {
    const guard = createAddressGuard(settings(), fakeResolver({}).resolver);
    const err = await guard.resolve('gone.example', both).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AddressRefusedError);
    expect((err as Error).message).toBe('cannot resolve gone.example: no such host');
  });
});

describe('createAddressGuard settings', () => {
  const { resolver } = fakeResolver({
    'status.internal': [[{ address: '10.0.0.7', family: 4 }]],
    'status.internal.': [[{ address: '10.0.0.7', family: 4 }]],
    'a.svc.cluster.local': [[{ address: '10.96.0.10', family: 4 }]],
    'svc.cluster.local': [[{ address: '10.96.0.1', family: 4 }]],
    'other.internal': [[{ address: '10.0.0.7', family: 4 }]],
    'blocked.internal': [[{ address: '10.9.0.1', family: 4 }]],
  });

  it('allows a name, exactly or below a *. suffix, with all its addresses', async () => {
    const guard = createAddressGuard(
      settings({
        allow: ['status.internal', '*.svc.cluster.local', 'blocked.internal'],
        deny: ['10.9.0.0/16'],
      }),
      resolver,
    );
    expect(await guard.resolve('status.internal', both)).toEqual({ address: '10.0.0.7', family: 4 });
    expect(await guard.resolve('STATUS.internal.', both)).toEqual({ address: '10.0.0.7', family: 4 });
    expect(await guard.resolve('a.svc.cluster.local', both)).toEqual({ address: '10.96.0.10', family: 4 });
    await refusal(guard.resolve('svc.cluster.local', both));
    await refusal(guard.resolve('other.internal', both));
    await refusal(guard.resolve('10.0.0.7', both));
    expect(await refusal(guard.resolve('blocked.internal', both))).toBe(
      'blocked.internal resolves to 10.9.0.1, which is in probes.deny (10.9.0.0/16)',
    );
  });

  it('allows a CIDR with every IPv4-in-IPv6 form of it', async () => {
    const guard = createAddressGuard(settings({ allow: ['10.0.0.0/8', 'fd12::/16'] }), resolver);
    expect(await guard.resolve('other.internal', both)).toEqual({ address: '10.0.0.7', family: 4 });
    expect(await guard.resolve('012.1', both)).toEqual({ address: '10.0.0.1', family: 4 });
    expect(await guard.resolve('[::ffff:10.0.0.1]', both)).toEqual({ address: '::ffff:10.0.0.1', family: 6 });
    expect(await guard.resolve('[fd12::1]', both)).toEqual({ address: 'fd12::1', family: 6 });
    await refusal(guard.resolve('[::ffff:192.168.0.1]', both));
    await refusal(guard.resolve('[fd13::1]', both));
  });

  it('lets probes.deny win over every allow, also on the IPv4 inside an IPv6 address', async () => {
    const guard = createAddressGuard(
      settings({ allow: ['0.0.0.0/0', '::/0'], deny: ['203.0.113.0/24', '2001:db8::/32'] }),
      resolver,
    );
    expect(await guard.resolve('127.0.0.1', both)).toEqual({ address: '127.0.0.1', family: 4 });
    expect(await refusal(guard.resolve('203.0.113.10', both))).toBe(
      '203.0.113.10 is in probes.deny (203.0.113.0/24)',
    );
    expect(await refusal(guard.resolve('[64:ff9b::203.0.113.10]', both))).toBe(
      '64:ff9b::203.0.113.10 (NAT64 of 203.0.113.10) is in probes.deny (203.0.113.0/24)',
    );
    await refusal(guard.resolve('[2001:db8::1]', both));
  });

  it('checks a Teredo address by both IPv4 addresses it carries', async () => {
    const guard = createAddressGuard(settings({ allow: ['203.0.113.0/24'] }), resolver);
    // server 203.0.113.1 (allowed), client 10.0.0.1 (refused)
    expect(await refusal(guard.resolve('[2001:0:cb00:7101::f5ff:fffe]', both))).toMatch(
      /^2001:0:cb00:7101::f5ff:fffe \(Teredo client 10\.0\.0\.1\) is private/,
    );
  });
});

describe('createAddressGuard waiting for DNS', () => {
  const hanging: HostResolver = () => new Promise(() => {});

  it('gives up after resolveTimeout', async () => {
    const clock = new ManualClock(0);
    const guard = createAddressGuard(settings({ resolveTimeout: '2s' }), hanging, clock);
    const result = guard.resolve('slow.example', both).catch((e: unknown) => e);
    await clock.advance(2_000);
    expect(((await result) as Error).message).toBe('resolving slow.example took longer than 2s');
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops when the probe is aborted, with its reason', async () => {
    const clock = new ManualClock(0);
    const guard = createAddressGuard(settings(), hanging, clock);
    const probe = new AbortController();
    const result = guard.resolve('slow.example', { ...both, signal: probe.signal }).catch((e: unknown) => e);
    probe.abort(new Error('timeout after 5s'));
    expect(((await result) as Error).message).toBe('timeout after 5s');
    await expect(guard.resolve('127.0.0.1', { ...both, signal: probe.signal })).rejects.toThrow(
      'timeout after 5s',
    );
  });

  it('leaves no timer behind once DNS answered', async () => {
    const clock = new ManualClock(0);
    const guard = createAddressGuard(settings(), fakeResolver({ 'ok.example': [[PUBLIC]] }).resolver, clock);
    await guard.resolve('ok.example', both);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('systemResolver', () => {
  it('resolves as the host does, /etc/hosts included', async () => {
    expect(await systemResolver('localhost', 4, new AbortController().signal)).toContainEqual({
      address: '127.0.0.1',
      family: 4,
    });
  });
});
