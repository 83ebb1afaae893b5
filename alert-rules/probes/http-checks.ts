/** The checks of blackbox's http prober on a response, each failing with words. */
import { runGoRegexp } from '../go-regexp/isolation.ts';
import type { HeaderMatch, HttpProbeConfig } from './http-config.ts';
import type { ProbeResponse } from './http-request.ts';

export function statusFailure(status: number, valid: readonly number[]): string | undefined {
  if (valid.length === 0) return status >= 200 && status < 300 ? undefined : `status ${status}`;
  return valid.includes(status) ? undefined : `status ${status}, expected ${valid.join(' or ')}`;
}

/** Every value a header was sent with, one per header line, as Go's http.Header keeps them. */
export function headerValues(response: ProbeResponse, name: string): string[] {
  const values: string[] = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name.toLowerCase()) values.push(raw[i + 1]!);
  }
  return values;
}

async function matches(pattern: string, text: string, timeoutMs: number): Promise<boolean> {
  return (await runGoRegexp({ op: 'match', pattern, text }, timeoutMs)) as boolean;
}

/** Throws RegexpTimeoutError when a pattern runs out of time. */
export async function headerFailure(
  response: ProbeResponse,
  config: HttpProbeConfig,
  timeoutMs: number,
): Promise<string | undefined> {
  const missing = (spec: HeaderMatch) => `header ${spec.header} is missing`;
  for (const spec of config.fail_if_header_matches) {
    const values = headerValues(response, spec.header);
    if (values.length === 0 && !spec.allow_missing) return missing(spec);
    for (const value of values) {
      if (await matches(spec.regexp, value, timeoutMs))
        return `header ${spec.header} matched /${spec.regexp}/`;
    }
  }
  for (const spec of config.fail_if_header_not_matches) {
    const values = headerValues(response, spec.header);
    if (values.length === 0) {
      if (spec.allow_missing) continue;
      return missing(spec);
    }
    let any = false;
    for (const value of values) any ||= await matches(spec.regexp, value, timeoutMs);
    if (!any) return `header ${spec.header} did not match /${spec.regexp}/`;
  }
  return undefined;
}

/** Throws RegexpTimeoutError when a pattern runs out of time. */
export async function bodyFailure(
  body: string,
  config: HttpProbeConfig,
  timeoutMs: number,
): Promise<string | undefined> {
  for (const pattern of config.fail_if_body_matches_regexp) {
    if (await matches(pattern, body, timeoutMs)) return `body matched /${pattern}/`;
  }
  for (const pattern of config.fail_if_body_not_matches_regexp) {
    if (!(await matches(pattern, body, timeoutMs))) return `body did not match /${pattern}/`;
  }
  return undefined;
}

/** Go's http.ParseTime formats: RFC 1123 (with GMT), RFC 850 and ANSI C asctime. */
const HTTP_DATE =
  /^(?:\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT|\w+, \d{2}-\w{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|\w{3} \w{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** Unix seconds of a Last-Modified header Go would parse. */
export function lastModifiedSeconds(response: ProbeResponse): number | undefined {
  const value = headerValues(response, 'last-modified')[0];
  if (value === undefined || !HTTP_DATE.test(value)) return undefined;
  const ms = Date.parse(/GMT$/.test(value) ? value : `${value} GMT`);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1_000);
}

/** probe_http_content_length: Go's Response.ContentLength, -1 when the length is not known ahead. */
export function contentLength(response: ProbeResponse, method: string): number {
  const { status } = response;
  const header = headerValues(response, 'content-length')[0];
  const declared = header !== undefined && /^\d+$/.test(header.trim()) ? Number(header.trim()) : -1;
  if (method === 'HEAD') return declared;
  if (status < 200 || status === 204 || status === 304) return 0;
  if (headerValues(response, 'transfer-encoding').length > 0) return -1;
  return declared;
}
