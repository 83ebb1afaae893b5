import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../core/config.ts';
import { json, type ReceivedRequest, startTestServer, type TestServer } from './fixtures/http-server.ts';
import { settings } from './fixtures/settings.ts';
import { PrometheusQueryClient, prometheusQuerySchema, type QueryError } from './prometheus-client.ts';

const SECRET = 'sekrit-token-value-123';

function client(values: Record<string, unknown>): PrometheusQueryClient {
  const created = new PrometheusQueryClient(settings(prometheusQuerySchema, values));
  clients.push(created);
  return created;
}
const clients: PrometheusQueryClient[] = [];
let servers: TestServer[] = [];

async function server(
  handle: Parameters<typeof startTestServer>[0],
  tls?: Parameters<typeof startTestServer>[1],
) {
  const started = await startTestServer(handle, tls);
  servers.push(started);
  return started;
}

const vector = (result: unknown) => ({ status: 'success', data: { resultType: 'vector', result } });
const form = (request: ReceivedRequest) => Object.fromEntries(new URLSearchParams(request.body.toString()));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('PrometheusQueryClient', () => {
  it('posts the query with its time and timeout under the path prefix, with the configured headers', async () => {
    const prometheus = await server((_req, res) =>
      json(res, 200, vector([{ metric: { __name__: 'up', job: 'api' }, value: [1700000000.5, '1'] }])),
    );
    const samples = await client({
      url: `${prometheus.url}/prometheus`,
      headers: { 'X-Scope-OrgID': 'team-a' },
      queryTimeout: '10s',
    }).query('up == 1', 1_700_000_000_500);
    expect(samples).toEqual([{ labels: { __name__: 'up', job: 'api' }, value: 1 }]);
    const [request] = prometheus.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/prometheus/api/v1/query' });
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers['x-scope-orgid']).toBe('team-a');
    expect(form(request!)).toEqual({ query: 'up == 1', time: '1700000000.500', timeout: '10000ms' });
  });

  it('reads special values, scalars, and empty vectors', async () => {
    const answers = [
      vector([
        { metric: { a: '1' }, value: [1, 'NaN'] },
        { metric: { a: '2' }, value: [1, '+Inf'] },
        { metric: { a: '3' }, value: [1, '-Inf'] },
        { metric: { a: '4' }, value: [1, '-0.25'] },
        { metric: { a: '5' }, value: [1, '1e+300'] },
      ]),
      { status: 'success', data: { resultType: 'scalar', result: [1, '42'] } },
      vector([]),
    ];
    const prometheus = await server((_req, res) => json(res, 200, answers.shift()));
    const queries = client({ url: prometheus.url });
    expect((await queries.query('x', 1000)).map((s) => s.value)).toEqual([
      NaN,
      Infinity,
      -Infinity,
      -0.25,
      1e300,
    ]);
    expect(await queries.query('scalar(x)', 1000)).toEqual([{ labels: {}, value: 42 }]);
    expect(await queries.query('absent(x)', 1000)).toEqual([]);
  });

  it('refuses matrix, string and native histogram answers', async () => {
    const answers = [
      { status: 'success', data: { resultType: 'matrix', result: [] } },
      { status: 'success', data: { resultType: 'string', result: [1, 'x'] } },
      vector([{ metric: {}, histogram: [1, { count: '1' }] }]),
    ];
    const prometheus = await server((_req, res) => json(res, 200, answers.shift()));
    const queries = client({ url: prometheus.url });
    // Prometheus's rule manager's words, so that a rule's lastError is the same in both.
    await expect(queries.query('x[5m]', 1000)).rejects.toThrow('rule result is not a vector or scalar');
    await expect(queries.query('"x"', 1000)).rejects.toThrow('rule result is not a vector or scalar');
    await expect(queries.query('h', 1000)).rejects.toThrow('native histogram');
  });

  it("passes Prometheus's error on, and never the credentials", async () => {
    const answers: [number, string][] = [
      [
        400,
        JSON.stringify({
          status: 'error',
          errorType: 'bad_data',
          error: '1:5: parse error: unexpected end of input',
        }),
      ],
      // The HTTP API names the parameter; Prometheus's rules and templates see the engine's error alone.
      [
        400,
        JSON.stringify({
          status: 'error',
          errorType: 'bad_data',
          error: 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis',
        }),
      ],
      [502, `<html>bad gateway, you sent Bearer ${SECRET}</html>`],
      [200, 'not json'],
    ];
    const prometheus = await server((_req, res) => {
      const [status, body] = answers.shift()!;
      res.writeHead(status).end(body);
    });
    const queries = client({ url: prometheus.url, auth: { bearerToken: SECRET } });
    const failures: QueryError[] = [];
    for (let i = 0; i < 4; i++)
      failures.push((await queries.query('up ==', 1000).catch((e) => e)) as QueryError);
    expect(failures.map((e) => [e.errorType, e.message])).toEqual([
      ['bad_data', '1:5: parse error: unexpected end of input'],
      ['bad_data', '1:5: parse error: unclosed left parenthesis'],
      ['http', 'Prometheus answered HTTP 502'],
      ['bad_response', 'the answer is not JSON'],
    ]);
    expect(prometheus.requests[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('authenticates with basic auth, and with a bearer token file read for every request', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lookout-token-'));
    try {
      const tokenFile = path.join(dir, 'token');
      writeFileSync(tokenFile, 'first-token\n');
      const prometheus = await server((_req, res) => json(res, 200, vector([])));
      const withFile = client({ url: prometheus.url, auth: { bearerTokenFile: tokenFile } });
      await withFile.query('up', 1000);
      writeFileSync(tokenFile, 'rotated-token\n');
      await withFile.query('up', 1000);
      const passwordFile = path.join(dir, 'password');
      writeFileSync(passwordFile, 'from-file');
      await client({ url: prometheus.url, auth: { username: 'rules', password: 'p@ss:word' } }).query(
        'up',
        1000,
      );
      await client({ url: prometheus.url, auth: { username: 'rules', passwordFile } }).query('up', 1000);
      expect(prometheus.requests.map((r) => r.headers.authorization)).toEqual([
        'Bearer first-token',
        'Bearer rotated-token',
        `Basic ${Buffer.from('rules:p@ss:word').toString('base64')}`,
        `Basic ${Buffer.from('rules:from-file').toString('base64')}`,
      ]);
      rmSync(tokenFile);
      await expect(withFile.query('up', 1000)).rejects.toThrow(/cannot read the credentials file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a server that does not answer in time, and on the caller aborting', async () => {
    const prometheus = await server(() => {
      // Never answers.
    });
    const queries = client({ url: prometheus.url, queryTimeout: '300ms' });
    const started = Date.now();
    const error = (await queries.query('up', 1000).catch((e) => e)) as QueryError;
    expect([error.errorType, error.message]).toEqual(['timeout', 'the query took longer than 300 ms']);
    expect(Date.now() - started).toBeLessThan(3_000);
    const controller = new AbortController();
    const pending = queries.query('up', 1000, controller.signal);
    controller.abort(new Error('evaluation stopped'));
    await expect(pending).rejects.toThrow('evaluation stopped');
  });

  it('refuses an answer larger than the limit, however it is sent', async () => {
    const big = JSON.stringify(vector([{ metric: { pad: 'x'.repeat(5_000) }, value: [1, '1'] }]));
    const chunked = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(big.slice(0, 3_000));
      res.end(big.slice(3_000));
    });
    const declared = await server((_req, res) => json(res, 200, JSON.parse(big)));
    for (const url of [chunked.url, declared.url]) {
      await expect(client({ url, maxResponseBytes: 4_096 }).query('x', 1000)).rejects.toThrow(
        'the response is larger than the limit of 4096 bytes',
      );
    }
  });

  it('refuses credentials in the URL', () => {
    const result = validate(prometheusQuerySchema, { url: `http://rules:${SECRET}@prometheus:9090` });
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'url', message: 'put credentials under auth, not in the URL' }],
    });
  });

  describe('over TLS', () => {
    let dir: string;
    let tls: { key: Buffer; cert: Buffer };
    let certFile: string;
    let keyFile: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'lookout-tls-'));
      keyFile = path.join(dir, 'key.pem');
      certFile = path.join(dir, 'cert.pem');
      // One self-signed certificate serves as the server's, its CA, and the client's.
      const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
      const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
      execFileSync('openssl', ['req', '-x509', ...key, '-out', certFile, '-days', '1', ...subject], {
        stdio: 'ignore',
      });
      tls = { key: readFileSync(keyFile), cert: readFileSync(certFile) };
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('trusts the configured CA and presents the client certificate', async () => {
      const prometheus = await server((_req, res) => json(res, 200, vector([])), {
        ...tls,
        ca: tls.cert,
        requestCert: true,
        rejectUnauthorized: true,
      });
      const queries = client({ url: prometheus.url, tls: { caFile: certFile, certFile, keyFile } });
      expect(await queries.query('up', 1000)).toEqual([]);
      const untrusting = client({ url: prometheus.url });
      await expect(untrusting.query('up', 1000)).rejects.toMatchObject({ errorType: 'transport' });
    });

    it('skips verification only when told to', async () => {
      const prometheus = await server((_req, res) => json(res, 200, vector([])), tls);
      expect(
        await client({ url: prometheus.url, tls: { insecureSkipVerify: true } }).query('up', 1000),
      ).toEqual([]);
    });
  });
});
