import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { pinnedLookup, tlsConnectOptions } from './pinned-connect.ts';

describe('pinnedLookup', () => {
  const lookup = pinnedLookup({ address: '203.0.113.10', family: 4 });

  it('answers the checked address whatever it is asked, in both calling forms', () => {
    const one: unknown[] = [];
    lookup('elsewhere.example', { family: 6 }, (...args) => one.push(...args));
    expect(one).toEqual([null, '203.0.113.10', 4]);
    let all: LookupAddress[] = [];
    lookup('elsewhere.example', { all: true }, (_err, addresses) => {
      all = addresses as LookupAddress[];
    });
    expect(all).toEqual([{ address: '203.0.113.10', family: 4 }]);
  });
});

describe('tlsConnectOptions', () => {
  const resolved = { address: '2001:db8::10', family: 6 } as const;

  it('names the host in ASCII without its trailing dot, and no name for an address', () => {
    expect(tlsConnectOptions(resolved, 'Bücher.example.', 443)).toMatchObject({
      host: '2001:db8::10',
      port: 443,
      family: 6,
      servername: 'xn--bcher-kva.example',
    });
    expect(tlsConnectOptions(resolved, '[2001:db8::10]', 443).servername).toBeUndefined();
  });
});
