// Access logs in Elastic Common Schema names: http.request.method, url.*,
// http.version, http.response.status_code and body.bytes (numbers),
// source.address, user.name, http.request.referrer, user_agent.original.
// The event time stays under `time` for the parser to read and consume.

import { setOwn } from './object.ts';

type Fields = Record<string, unknown>;

/** What one request line says, each part undefined when absent or `-`. */
interface Access {
  address?: string;
  user?: string;
  time?: unknown;
  request?: string;
  method?: string;
  target?: string;
  protocol?: string;
  status?: number;
  bytes?: number;
  referrer?: string;
  agent?: string;
}

/** Undefined for the empty value nginx and Apache write as `-` (or as "" in JSON with escape=json). */
function present(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '-' && value !== '' ? value : undefined;
}

/** A count or status as a number, undefined unless it is a whole number. */
function whole(value: unknown): number | undefined {
  const text = present(value);
  if (text === undefined || text.length > 15 || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** HTTP status codes are three digits from 100 to 599; anything else would mislead a status_code field. */
function status(value: unknown): number | undefined {
  const code = whole(value);
  return code !== undefined && code >= 100 && code <= 599 ? code : undefined;
}

/** `GET /cart?id=1 HTTP/1.1`; a request that is not three words (a TLS handshake sent to a plain port) is left whole. */
function splitRequest(access: Access): void {
  const request = access.request;
  if (request === undefined) return;
  const first = request.indexOf(' ');
  const last = request.lastIndexOf(' ');
  if (first <= 0 || last === first || !request.startsWith('HTTP/', last + 1)) return;
  access.method ??= request.slice(0, first);
  access.target ??= request.slice(first + 1, last);
  access.protocol ??= request.slice(last + 1);
}

function ecs(access: Access): Fields {
  splitRequest(access);
  const out: Fields = {};
  if (access.time !== undefined) out.time = access.time;
  if (access.address !== undefined) out.source = { address: access.address };
  if (access.user !== undefined) out.user = { name: access.user };
  const request: Fields = {};
  if (access.method !== undefined) request.method = access.method;
  if (access.referrer !== undefined) request.referrer = access.referrer;
  const http: Fields = {};
  if (request.method !== undefined || request.referrer !== undefined) http.request = request;
  if (access.status !== undefined || access.bytes !== undefined) {
    const response: Fields = {};
    if (access.status !== undefined) response.status_code = access.status;
    if (access.bytes !== undefined) response.body = { bytes: access.bytes };
    http.response = response;
  }
  if (access.protocol?.startsWith('HTTP/')) http.version = access.protocol.slice(5);
  if (Object.keys(http).length > 0) out.http = http;
  const target = access.target;
  if (target !== undefined) {
    const url: Fields = { original: target };
    if (target.startsWith('/')) {
      const query = target.indexOf('?');
      url.path = query < 0 ? target : target.slice(0, query);
      if (query >= 0 && query + 1 < target.length) url.query = target.slice(query + 1);
    }
    out.url = url;
  }
  if (access.agent !== undefined) out.user_agent = { original: access.agent };
  return out;
}

/**
 * The index of the quote closing a string that starts after the quote at
 * `open`, skipping quotes escaped by an odd number of backslashes (Apache's
 * `\"`); -1 when it is never closed. Linear in the line's length.
 */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at >= 0) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}

const unquote = (text: string) => (text.includes('\\') ? text.replace(/\\(["\\])/g, '$1') : text);

/** Reads a combined line from left to right; a step that does not fit returns undefined. */
class CombinedReader {
  at = 0;
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** A space-separated token, the space passed. */
  token(): string | undefined {
    const end = this.text.indexOf(' ', this.at);
    if (end <= this.at) return undefined;
    const token = this.text.slice(this.at, end);
    this.at = end + 1;
    return token;
  }

  /** `[…]` or `"…"`, with the space after it passed when there is one. */
  enclosed(open: string): string | undefined {
    if (this.text[this.at] !== open) return undefined;
    const close = open === '[' ? this.text.indexOf(']', this.at + 1) : closingQuote(this.text, this.at);
    if (close < 0) return undefined;
    const inner = this.text.slice(this.at + 1, close);
    this.at = close + 1;
    if (this.text.charCodeAt(this.at) === 32) this.at++;
    return open === '"' ? unquote(inner) : inner;
  }

  /** The last token of the common format: up to the next space or the end of the line. */
  last(): string {
    let end = this.text.indexOf(' ', this.at);
    if (end < 0) end = this.text.length;
    const token = this.text.slice(this.at, end);
    this.at = end + 1;
    return token;
  }
}

/**
 * The Common Log Format and its Combined extension, as nginx (`combined`, and
 * the `main` of distributions' nginx.conf, which adds X-Forwarded-For) and
 * Apache (`common`, `combined`) write them: `host ident user [time] "request"
 * status bytes`, then `"referrer" "agent"`. Quoted parts may hold `\"`
 * (Apache); nginx writes a quote as `\x22`, kept as it is. Undefined when the
 * line is not one.
 */
export function parseCombined(text: string): Fields | undefined {
  const line = new CombinedReader(text);
  const address = line.token();
  const ident = line.token();
  const user = line.token();
  if (address === undefined || ident === undefined || user === undefined) return undefined;
  const time = line.enclosed('[');
  const request = time === undefined ? undefined : line.enclosed('"');
  if (request === undefined || line.text.charCodeAt(line.at - 1) !== 32) return undefined;
  const code = line.token();
  const bytes = line.last();
  if (code === undefined || !/^\d{3}$/.test(code) || !/^(?:\d+|-)$/.test(bytes)) return undefined;
  const referrer = line.enclosed('"');
  const agent = referrer === undefined ? undefined : line.enclosed('"');
  return ecs({
    address: present(address),
    user: present(user),
    time,
    request: present(request),
    status: status(code),
    // Apache's %b is `-` when no byte was sent.
    bytes: bytes === '-' ? 0 : whole(bytes),
    referrer: agent === undefined ? undefined : present(referrer),
    agent: agent === undefined ? undefined : present(agent),
  });
}

/** nginx's variable names, as JSON access log formats (`log_format … escape=json`) name their keys. */
const NGINX_KEYS: Record<string, (access: Access, value: unknown) => boolean> = {
  remote_addr: (a, v) => set(a, 'address', present(v)),
  remote_user: (a, v) => set(a, 'user', present(v)),
  time_local: (a, v) => set(a, 'time', present(v)),
  time_iso8601: (a, v) => set(a, 'time', present(v)),
  msec: (a, v) => set(a, 'time', present(v)),
  request: (a, v) => set(a, 'request', present(v)),
  request_method: (a, v) => set(a, 'method', present(v)),
  request_uri: (a, v) => set(a, 'target', present(v)),
  server_protocol: (a, v) => set(a, 'protocol', present(v)),
  status: (a, v) => set(a, 'status', status(v)),
  body_bytes_sent: (a, v) => set(a, 'bytes', whole(v)),
  http_referer: (a, v) => set(a, 'referrer', present(v)),
  // The spelling of a widely copied log_format.
  http_referrer: (a, v) => set(a, 'referrer', present(v)),
  http_user_agent: (a, v) => set(a, 'agent', present(v)),
};

/** Sets a part; false when the value could not be read, so the key is kept as it was. */
function set<K extends keyof Access>(access: Access, key: K, value: Access[K] | undefined): boolean {
  if (value === undefined) return false;
  access[key] ??= value;
  return true;
}

/**
 * A JSON access log keyed by nginx's variable names: the known keys become
 * ECS fields, empty ones (`-`, "") are dropped, and every other key, or a known
 * one whose value does not fit (a status that is not a number), stays as it was.
 */
export function nginxJsonFields(object: Fields): Fields {
  const access: Access = {};
  const rest: Fields = {};
  for (const key in object) {
    const value = object[key];
    const read = Object.hasOwn(NGINX_KEYS, key) ? NGINX_KEYS[key]! : undefined;
    if (read?.(access, value)) continue;
    if (read && present(value) === undefined) continue;
    setOwn(rest, key, value);
  }
  return Object.assign(rest, ecs(access));
}
