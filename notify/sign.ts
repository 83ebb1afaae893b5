import { createHmac } from 'node:crypto';

/**
 * DingTalk's robot signature: Base64 of HMAC-SHA256 over "timestamp\nsecret"
 * keyed with the secret. The robot rejects timestamps more than an hour from
 * its clock, so it is computed for every request, never cached.
 */
export function dingtalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

/** The query parameters that carry the signature; Base64's "+", "/" and "=" must be URL-encoded. */
export function dingtalkSignQuery(secret: string, timestamp: number): string {
  return `timestamp=${timestamp}&sign=${encodeURIComponent(dingtalkSign(secret, timestamp))}`;
}
