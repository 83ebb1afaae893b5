import { describe, expect, it } from 'vitest';
import { ipAddressHash } from './resolve-target.ts';
import { goDistinguishedName, tlsVersionName } from './tls-facts.ts';

describe('what blackbox prints of TLS and addresses', () => {
  it('writes distinguished names as Go’s pkix.Name.String()', () => {
    expect(goDistinguishedName('C=US\nO=Example, Inc.\nCN=www.example.com')).toBe(
      'CN=www.example.com,O=Example\\, Inc.,C=US',
    );
    expect(goDistinguishedName('serialNumber=42\nCN= padded ')).toBe('CN=\\ padded\\ ,SERIALNUMBER=42');
  });

  it('names TLS versions as blackbox does', () => {
    expect(tlsVersionName('TLSv1.3')).toBe('TLS 1.3');
    expect(tlsVersionName('TLSv1')).toBe('TLS 1.0');
    expect(tlsVersionName(null)).toBe('unknown');
  });

  it('hashes 4 bytes of an IPv4 address and 16 of an IPv6 one', () => {
    expect(ipAddressHash({ address: '127.0.0.1', family: 4 })).toBe(3668918509);
    expect(ipAddressHash({ address: '::ffff:127.0.0.1', family: 6 })).toBe(99635399);
    expect(ipAddressHash({ address: '::ffff:7f00:1', family: 6 })).toBe(99635399);
  });
});
