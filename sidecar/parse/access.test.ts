import { describe, expect, it } from 'vitest';
import { serialized as fields, parse } from './fixtures/parse.ts';

describe('combined parser', () => {
  it('reads Apache’s combined example, time included', () => {
    const line =
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';
    const event = parse(line, { type: 'combined' });
    expect(event.time).toBe(Date.parse('2000-10-10T20:55:36Z'));
    expect(event.message).toBe(line);
    expect(event.parseError).toBeUndefined();
    expect(event.level).toBeUndefined();
    expect(fields(event)).toEqual({
      source: { address: '127.0.0.1' },
      user: { name: 'frank' },
      http: {
        request: { method: 'GET', referrer: 'http://www.example.com/start.html' },
        response: { status_code: 200, body: { bytes: 2326 } },
        version: '1.0',
      },
      url: { original: '/apache_pb.gif', path: '/apache_pb.gif' },
      user_agent: { original: 'Mozilla/4.08 [en] (Win98; I ;Nav)' },
    });
  });

  it('reads the common format, Apache’s `-` for no bytes, and a query', () => {
    const event = parse('10.1.2.3 - - [15/Jun/2024:11:59:58 +0000] "GET /cart?id=7&x=1 HTTP/1.1" 304 -', {
      type: 'combined',
    });
    expect(event.time).toBe(Date.parse('2024-06-15T11:59:58Z'));
    expect(fields(event)).toEqual({
      source: { address: '10.1.2.3' },
      http: {
        request: { method: 'GET' },
        response: { status_code: 304, body: { bytes: 0 } },
        version: '1.1',
      },
      url: { original: '/cart?id=7&x=1', path: '/cart', query: 'id=7&x=1' },
    });
  });

  it('reads nginx’s main format (X-Forwarded-For after the agent), IPv6 and `-` referrer and agent', () => {
    const event = parse(
      '2001:db8::8a2e:370:7334 - - [15/Jun/2024:11:59:58 +0800] "POST /api/orders HTTP/2.0" 503 157 "-" "-" "203.0.113.9"',
      { type: 'combined' },
    );
    expect(event.time).toBe(Date.parse('2024-06-15T03:59:58Z'));
    expect(fields(event)).toEqual({
      source: { address: '2001:db8::8a2e:370:7334' },
      http: {
        request: { method: 'POST' },
        response: { status_code: 503, body: { bytes: 157 } },
        version: '2.0',
      },
      url: { original: '/api/orders', path: '/api/orders' },
    });
  });

  it('unescapes Apache’s \\" and keeps nginx’s \\x22 in the request and agent', () => {
    const apache = parse(
      '1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET /q?s=\\"x\\" HTTP/1.1" 200 5 "-" "curl \\"8\\""',
      { type: 'combined' },
    );
    expect(fields(apache).url.original).toBe('/q?s="x"');
    expect(fields(apache).user_agent.original).toBe('curl "8"');
    const nginx = parse(
      '1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET /q?s=\\x22x\\x22 HTTP/1.1" 200 5 "-" "-"',
      {
        type: 'combined',
      },
    );
    expect(fields(nginx).url.original).toBe('/q?s=\\x22x\\x22');
    // An escaped backslash before the closing quote does not escape the quote.
    const backslash = parse(
      '1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET /dir\\\\ HTTP/1.1" 200 5 "-" "a\\\\"',
      {
        type: 'combined',
      },
    );
    expect(fields(backslash).url.original).toBe('/dir\\');
    expect(fields(backslash).user_agent.original).toBe('a\\');
  });

  it('keeps a request that is not an HTTP request line out of url and method', () => {
    const event = parse(
      '198.51.100.7 - - [15/Jun/2024:11:59:58 +0000] "\\x16\\x03\\x01\\x00\\xCA\\x01\\x00" 400 157 "-" "-"',
      { type: 'combined' },
    );
    expect(event.parseError).toBeUndefined();
    expect(fields(event)).toEqual({
      source: { address: '198.51.100.7' },
      http: { response: { status_code: 400, body: { bytes: 157 } } },
    });
  });

  it('flags garbage, an invalid status and a broken quote, keeping the line and its read time', () => {
    for (const line of [
      'garbage \u0000\ufffd\ufffd',
      '1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET / HTTP/1.1" abc 5',
      '1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET / HTTP/1.1 200 5',
      '',
    ]) {
      const event = parse(line, { type: 'combined' });
      expect(event.message).toBe(line);
      expect(event.parseError).toBe('combined: no match');
      expect(event.fields).toBeUndefined();
    }
    // A status out of HTTP's range is no status_code.
    const odd = parse('1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET / HTTP/1.1" 999 5', {
      type: 'combined',
    });
    expect(fields(odd).http.response).toEqual({ body: { bytes: 5 } });
  });

  it('reads a line with a huge URL in linear time, and a time it cannot read leaves the read time', () => {
    const path = `/${'a\\"'.repeat(200_000)}`;
    const started = performance.now();
    const event = parse(`1.2.3.4 - - [junk] "GET ${path} HTTP/1.1" 200 5 "-" "${'x'.repeat(100_000)}`, {
      type: 'combined',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    // The agent's quote is never closed: the line reads as the common format, its tail left in the message.
    expect(event.parseError).toBeUndefined();
    expect(fields(event).user_agent).toBeUndefined();
    const long = parse(`1.2.3.4 - - [junk] "GET ${path} HTTP/1.1" 200 5`, { type: 'combined' });
    expect(long.time).toBeUndefined();
    expect(fields(long).time).toBe('junk');
    expect(fields(long).url.original.length).toBe(1 + 200_000 * 2);
  });

  it('falls through to the next parser, as nginx’s error log in the same stream needs', () => {
    const event = parse('2024/06/15 11:59:58 [error] 31#31: *1 connect() failed (111: Connection refused)', [
      { type: 'combined' },
      { type: 'auto' },
    ]);
    expect(event.parseError).toBeUndefined();
    expect(event.level).toBe('error');
    expect(event.time).toBe(Date.parse('2024-06-15T11:59:58Z'));
  });

  it('puts fields under a target and reads its time whatever timestamp.formats say', () => {
    const event = parse(
      '1.2.3.4 - - [15/Jun/2024:11:59:58 +0000] "GET / HTTP/1.1" 200 5',
      { type: 'combined', target: 'access' },
      { formats: ['logback'] },
    );
    expect(event.time).toBe(Date.parse('2024-06-15T11:59:58Z'));
    expect(fields(event).access.http.response.status_code).toBe(200);
  });
});

describe('nginx-json parser', () => {
  it('maps nginx’s variable names to ECS and keeps the other keys', () => {
    const line = JSON.stringify({
      time_local: '15/Jun/2024:11:59:58 +0000',
      remote_addr: '10.0.0.5',
      remote_user: '',
      request: 'GET /health?full=1 HTTP/1.1',
      status: '502',
      body_bytes_sent: '0',
      request_time: '0.012',
      http_referrer: '',
      http_user_agent: 'kube-probe/1.33',
      upstream_addr: '10.0.0.9:8080',
    });
    const event = parse(line, { type: 'nginx-json' });
    expect(event.time).toBe(Date.parse('2024-06-15T11:59:58Z'));
    expect(event.message).toBe(line);
    expect(fields(event)).toEqual({
      request_time: '0.012',
      upstream_addr: '10.0.0.9:8080',
      source: { address: '10.0.0.5' },
      http: {
        request: { method: 'GET' },
        response: { status_code: 502, body: { bytes: 0 } },
        version: '1.1',
      },
      url: { original: '/health?full=1', path: '/health', query: 'full=1' },
      user_agent: { original: 'kube-probe/1.33' },
    });
  });

  it('takes method, URI and protocol from their own variables, msec for the time, and keeps a status it cannot read', () => {
    const event = parse(
      '{"msec":"1718452798.123","request_method":"PUT","request_uri":"/v1/items/9","server_protocol":"HTTP/2.0","status":"n/a","http_referer":"https://shop.example/"}',
      { type: 'nginx-json' },
    );
    expect(event.time).toBe(Date.parse('2024-06-15T11:59:58.123Z'));
    expect(fields(event)).toEqual({
      status: 'n/a',
      http: { request: { method: 'PUT', referrer: 'https://shop.example/' }, version: '2.0' },
      url: { original: '/v1/items/9', path: '/v1/items/9' },
    });
  });

  it('flags what is not a JSON object', () => {
    for (const line of ['not json', '{"a":', '[1]']) {
      const event = parse(line, { type: 'nginx-json' });
      expect(event.parseError).toBe('nginx-json: not a JSON object');
      expect(event.message).toBe(line);
    }
    expect(parse(`{"a":${'['.repeat(30)}${']'.repeat(30)}}`, { type: 'nginx-json' }).parseError).toMatch(
      /^json: /,
    );
  });
});
