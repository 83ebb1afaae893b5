import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dingtalkSign, dingtalkSignQuery } from './sign.ts';

describe('DingTalk signature', () => {
  it('matches a fixed vector computed outside this code', () => {
    // Computed with openssl: printf '1700000000000\n<secret>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64
    const secret = 'SEC4ef2e3f3b9a04c5e9d7c7f1d2b8a6e0c3f5d9b1a7e2c4f6a8b0d2e4f6a8c0e2';
    expect(dingtalkSign(secret, 1_700_000_000_000)).toBe('cN2uYo+TpX7COg3rtLd4nYQvPGGmVbiq0r+LUNv0Pv0=');
    expect(dingtalkSignQuery(secret, 1_700_000_000_000)).toBe(
      'timestamp=1700000000000&sign=cN2uYo%2BTpX7COg3rtLd4nYQvPGGmVbiq0r%2BLUNv0Pv0%3D',
    );
  });

  it('follows the documented algorithm: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, Base64', () => {
    const secret = 'SECd0c9e5b8f1a24c6b9e3f7a1d5c8b2e4f6a9d3c7b1e5f8a2d4c6b9e1f3a5d7c9';
    const timestamp = 1_577_262_236_757;
    const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
    mac.update(Buffer.from(`${timestamp}\n${secret}`, 'utf8'));
    expect(dingtalkSign(secret, timestamp)).toBe(mac.digest().toString('base64'));
  });

  it('changes with the timestamp, so it is computed for every request', () => {
    expect(dingtalkSign('SECx', 1_000)).not.toBe(dingtalkSign('SECx', 1_001));
  });
});
