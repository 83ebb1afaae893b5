import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConsole } from './console.ts';
import { createHttpApp, type HttpApp } from './http.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';

let server: HttpApp | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(dir: string, auth = false): Promise<string> {
  server = createHttpApp({
    config: {
      listen: '127.0.0.1:0',
      auth: { enabled: auth, tokens: [], openHealth: true, openMetrics: false },
      bodyLimit: 1024,
      requestTimeout: 10_000,
      headersTimeout: 5_000,
    },
    log: createLogger({ level: 'silent' }),
    metrics: new Metrics({ defaults: false }),
    console: await loadConsole(dir),
  });
  return server.listen();
}

describe('web console files', () => {
  it('serves the page at / to browsers and at its views, the list of endpoints to programs, assets compressed and cached for good', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-console-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Lookout</title>');
    const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;
    await writeFile(join(dir, 'assets', 'index-abc123.js'), script);
    const address = await serve(dir, true);

    const page = await fetch(`${address}/logs/context/some-id?before=5`, {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<title>Lookout</title>');
    const root = await fetch(`${address}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(await root.text()).toContain('<title>Lookout</title>');
    const index = await fetch(`${address}/`);
    expect(((await index.json()) as { service: string }).service).toBe('lookout');

    const asset = await fetch(`${address}/assets/index-abc123.js`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await asset.text()).toBe(script);
    const raw = await fetch(`${address}/assets/index-abc123.js`, {
      headers: { 'accept-encoding': 'gzip' },
    }).then(async (r) => ({
      encoding: r.headers.get('content-encoding'),
      length: r.headers.get('content-length'),
    }));
    expect(raw.encoding).toBe('gzip');
    expect(Number(raw.length)).toBeLessThan(script.length / 10);

    // The page holds no data; what it shows comes from routes that still want a token.
    expect((await fetch(`${address}/api/whoami`)).status).toBe(401);
    // Paths that are not the console's are the API's: without a token they tell nothing, not even 404.
    expect((await fetch(`${address}/assets/missing.js`)).status).toBe(401);
  });

  it('says how to build the console when it is not built', async () => {
    const address = await serve(join(tmpdir(), 'lookout-console-not-built-here'));
    const page = await fetch(`${address}/logs`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('The web console is not built');
  });
});
