import type { Encoding } from './bytes.ts';
import type { Outgoing } from './message.ts';

/**
 * What one attempt came to. `code` is the metric label: the robot's errcode
 * ("0" for success), or "http_503", "network", "timeout", "invalid_response".
 */
export interface Outcome {
  kind: 'ok' | 'rate-limited' | 'too-long' | 'rejected' | 'retryable';
  code: string;
  message?: string;
}

/** One kind of robot: how to address it, what its payloads look like, how it answers. */
export interface RobotApi {
  /** How the limit counts the text. */
  readonly encoding: Encoding;
  /** Bytes the counted part of a payload may take. */
  readonly limit: number;
  /** The address of one attempt; it carries the token, so it is never logged. */
  url(now: number): string;
  payload(message: Outgoing): object;
  /** Bytes of the part of a payload that the limit applies to. */
  size(payload: object): number;
  interpret(status: number, body: unknown): Outcome;
}

/** Bytes left for a message's text once everything else in its payload is counted. */
export function roomForText(api: RobotApi, message: Outgoing): number {
  return api.limit - api.size(api.payload({ ...message, text: '' }));
}

export interface Errcodes {
  rateLimited: ReadonlySet<number>;
  tooLong: ReadonlySet<number>;
  retryable: ReadonlySet<number>;
}

/**
 * Both robots answer HTTP 200 with an errcode in the body, so the body decides;
 * the status only matters when there is no errcode. An unknown errcode is not
 * retried: it is reported, because retrying a configuration error only delays
 * hearing about it.
 */
export function interpretReply(status: number, body: unknown, codes: Errcodes): Outcome {
  const errcode =
    body !== null && typeof body === 'object' && 'errcode' in body && typeof body.errcode === 'number'
      ? body.errcode
      : undefined;
  const errmsg =
    body !== null && typeof body === 'object' && 'errmsg' in body ? String(body.errmsg) : undefined;
  if (status >= 500) return { kind: 'retryable', code: `http_${status}`, message: errmsg };
  if (status === 429) return { kind: 'rate-limited', code: 'http_429', message: errmsg };
  if (errcode === undefined) {
    return status >= 200 && status < 300
      ? { kind: 'retryable', code: 'invalid_response' }
      : { kind: 'rejected', code: `http_${status}` };
  }
  const code = String(errcode);
  if (errcode === 0) return { kind: 'ok', code };
  if (codes.rateLimited.has(errcode)) return { kind: 'rate-limited', code, message: errmsg };
  if (codes.tooLong.has(errcode)) return { kind: 'too-long', code, message: errmsg };
  if (codes.retryable.has(errcode)) return { kind: 'retryable', code, message: errmsg };
  return { kind: 'rejected', code, message: errmsg };
}

export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}
