import { describe, expect, it } from 'vitest';
import { formatIp, parseHost, parseIpAddress } from './ip-address.ts';

function canonical(host: string): string {
  const parsed = parseHost(host);
  if (parsed.kind !== 'address') throw new Error(`${host}: ${JSON.stringify(parsed)}`);
  return formatIp(parsed.address);
}

describe('parseHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F000001', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f.0x0.0x0.0x1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['169.254.43518', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['2852039166', '169.254.169.254'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['00', '0.0.0.0'],
    ['4294967295', '255.255.255.255'],
    ['１２７.0.0.1', '127.0.0.1'],
    ['127。0。0。1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:127.0.0.1'],
    ['[::ffff:7f00:1]', '::ffff:127.0.0.1'],
    ['[0:0:0:0:0:ffff:127.0.0.1]', '::ffff:127.0.0.1'],
    ['[::FFFF:7F00:1]', '::ffff:127.0.0.1'],
    ['[::127.0.0.1]', '::7f00:1'],
    ['[64:ff9b::169.254.169.254]', '64:ff9b::a9fe:a9fe'],
    ['[2002:a9fe:a9fe::]', '2002:a9fe:a9fe::'],
    ['[FE80::1]', 'fe80::1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['[fe80::1%25]', 'fe80::1%25'],
    ['[::]', '::'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ])('reads %s as %s', (host, expected) => {
    expect(canonical(host)).toBe(expected);
  });

  it.each([
    ['example.com', 'example.com', false],
    ['Example.COM.', 'example.com', true],
    ['localhost.', 'localhost', true],
    ['bücher.de', 'xn--bcher-kva.de', false],
    ['1.2.3.foo', '1.2.3.foo', false],
    ['_srv.example', '_srv.example', false],
  ])('reads %s as the name %s', (host, name, absolute) => {
    expect(parseHost(host)).toEqual({ kind: 'name', name, absolute });
  });

  it.each([
    '1.2.3.4.5',
    '256.0.0.1',
    '1.256.0.1',
    '127.16777216',
    '4294967296',
    '08.0.0.1',
    '0x7g.1',
    'foo.09',
    '127..1',
    '%31%32%37.0.0.1',
    '127.0.0.1 ',
    'a/b',
    'exa mple.com',
    '',
    '.',
    'a..b',
    `${'a'.repeat(64)}.com`,
    '[::ffff:0177.0.0.1]',
    '[::ffff:1.2.3]',
    '[1::2::3]',
    '[1:2:3:4:5:6:7:8:9]',
    '[12345::]',
    '[::1',
    '[fe80::1%]',
    '[fe80::1%eth 0]',
    '[127.0.0.1]',
    '::1:80:',
  ])('refuses %j as no host', (host) => {
    expect(parseHost(host).kind).toBe('invalid');
  });
});

describe('parseIpAddress', () => {
  it('reads answers and settings, not names', () => {
    expect(parseIpAddress('10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
    expect(parseIpAddress('::ffff:10.0.0.1')).toEqual({ family: 6, value: 0xffff0a000001n });
    expect(parseIpAddress('example.com')).toBeUndefined();
    expect(parseIpAddress('1.2.3.4.5')).toBeUndefined();
  });
});
