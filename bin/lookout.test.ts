import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, 'lookout.js');

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
}

/** The examples take their secrets from the environment with no default. */
const EXAMPLE_SECRETS = {
  ES_PASSWORD: 'example',
  LOOKOUT_VIEWER_TOKEN: 'example-viewer-token',
  LOOKOUT_EDITOR_TOKEN: 'example-editor-token',
  ONCALL_TOKEN: 'example',
  ONCALL_SECRET: 'SECexample',
  SHOP_KEY: 'example',
};

function start(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...EXAMPLE_SECRETS, ...env },
  });
  const run: Run = { child, stdout: [], stderr: [] };
  child.stdout?.on('data', (d: Buffer) => run.stdout.push(String(d)));
  child.stderr?.on('data', (d: Buffer) => run.stderr.push(String(d)));
  return run;
}

async function finish(run: Run): Promise<number | null> {
  if (run.child.exitCode === null) await once(run.child, 'exit');
  return run.child.exitCode;
}

async function waitFor(run: Run, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!`${run.stdout.join('')}${run.stderr.join('')}`.includes(text)) {
    if (Date.now() > deadline || run.child.exitCode !== null) {
      throw new Error(`"${text}" did not appear; output:\n${run.stdout.join('')}${run.stderr.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-cli-'));
  const file = join(dir, 'lookout.yaml');
  await writeFile(file, text);
  return file;
}

const running: Run[] = [];
afterEach(() => {
  for (const run of running.splice(0)) run.child.kill('SIGKILL');
});

describe('lookout CLI', () => {
  it('says at start what it serves and how to query it; GET / is the console in a browser and lists the endpoints for programs', async () => {
    const file = await configFile(
      'http:\n  listen: 127.0.0.1:0\n  auth: { enabled: false }\ncollector: {}\n',
    );
    await writeFile(file, `dataDir: ${join(file, '..', 'data')}\n`, { flag: 'a' });
    const run = start(['all', '--config', file]);
    running.push(run);
    await waitFor(run, 'follow new lines', 20_000);
    const banner = run.stderr.join('');
    const address = /console and API at (http:\/\/\S+?)\/ /.exec(banner)![1]!;
    expect(banner).toContain(`curl '${address}/api/logs/search?from=now-1h&q=error'`);
    const index = await fetch(`${address}/`);
    expect(index.status).toBe(200);
    const { endpoints } = (await index.json()) as { endpoints: { method: string; path: string }[] };
    expect(endpoints.map((e) => `${e.method} ${e.path}`)).toEqual(
      expect.arrayContaining(['GET /api/logs/search', 'GET /api/logs/tail', 'POST /api/ingest']),
    );
    for (const path of [
      '/',
      '/logs',
      '/logs/context/x',
      '/logs?q=error&from=now-1h',
      '/alerts',
      '/silences',
    ]) {
      const page = await fetch(`${address}${path}`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await page.text()).toMatch(/<title>Lookout/);
    }
    // Without alert-rules its routes do not exist: the console's Alerts page says how to enable it.
    expect((await fetch(`${address}/api/alerts/groups`)).status).toBe(404);
  });

  it('prints help and uses exit code 2 for usage errors', async () => {
    const help = start(['--help']);
    expect(await finish(help)).toBe(0);
    expect(help.stdout.join('')).toContain('check-config');
    const sidecarHelp = start(['sidecar', '--help']);
    expect(await finish(sidecarHelp)).toBe(0);
    expect(sidecarHelp.stdout.join('')).toContain('Usage: lookout sidecar');
    expect(await finish(start(['frobnicate']))).toBe(2);
    expect(await finish(start(['all', '--colour']))).toBe(2);
    expect(await finish(start([]))).toBe(2);
  });

  it('check-config exits 0 on a valid file and 1 with every error and its path', async () => {
    const good = start(['check-config', '--config', await configFile('http:\n  listen: 127.0.0.1:0\n')]);
    expect(await finish(good)).toBe(0);
    const bad = start([
      'check-config',
      '--config',
      await configFile('http:\n  listen: kafka\n  colour: red\nshutdown:\n  timeout: never\n'),
    ]);
    expect(await finish(bad)).toBe(1);
    const errors = bad.stderr.join('');
    expect(errors).toContain('http.listen: expected host:port, got "kafka"');
    expect(errors).toContain('http.colour: unknown key');
    expect(errors).toContain('shutdown.timeout: expected a duration');
    expect(await finish(start(['check-config', '--config', '/nonexistent/lookout.yaml']))).toBe(1);
    const auth = start([
      'check-config',
      '--config',
      await configFile(
        'collector:\n  elasticsearch:\n    nodes: ["http://es:9200"]\n    auth: { username: elastic }\n',
      ),
    ]);
    expect(await finish(auth)).toBe(1);
    expect(auth.stderr.join('')).toContain(
      'collector.elasticsearch.auth.password: expected string, got nothing',
    );
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 7; level++) {
      bomb.push(
        `l${level}: &l${level} [${Array(9)
          .fill(level === 1 ? '*a' : `*l${level - 1}`)
          .join(', ')}]`,
      );
    }
    const aliases = start(['check-config', '--config', await configFile(`${bomb.join('\n')}\n`)]);
    expect(await finish(aliases)).toBe(1);
    expect(aliases.stderr.join('')).toMatch(/^\S+: invalid configuration\n\(yaml\): Excessive alias count/);
    expect(aliases.stderr.join('')).not.toMatch(/\n\s+at /);
  });

  it('accepts every example configuration', async () => {
    const dir = join(import.meta.dirname, '..', 'examples');
    for (const name of await readdir(dir)) {
      const run = start(['check-config', '--config', join(dir, name)]);
      const code = await finish(run);
      expect(`${name}: ${code} ${run.stderr.join('')}`).toBe(`${name}: 0 `);
    }
  });

  it('runs, keeps the old config when SIGHUP brings a bad one, reloads a good one, and exits 0 on SIGTERM', async () => {
    const token = 'first-token-0123456789';
    const file = await configFile(
      `http:\n  listen: 127.0.0.1:0\n  auth:\n    tokens:\n      - {name: t, token: ${token}, role: viewer}\n`,
    );
    const run = start(['all', '--config', file]);
    running.push(run);
    await waitFor(run, 'API at');
    const address = /API at (http:\/\/\S+?)\/ /.exec(run.stderr.join(''))![1]!;
    const metrics = (t: string) => fetch(`${address}/metrics`, { headers: { authorization: `Bearer ${t}` } });
    expect((await metrics(token)).status).toBe(200);

    await writeFile(file, 'http:\n  listen: nowhere\n');
    run.child.kill('SIGHUP');
    await waitFor(run, 'reload rejected');
    expect(run.stdout.join('')).toContain('http.listen: expected host:port');
    expect((await metrics(token)).status).toBe(200);

    const next = 'second-token-0123456789';
    await writeFile(
      file,
      `http:\n  listen: 127.0.0.1:0\n  auth:\n    tokens:\n      - {name: t, token: ${next}, role: viewer}\n`,
    );
    run.child.kill('SIGHUP');
    await waitFor(run, 'configuration reloaded');
    expect((await metrics(token)).status).toBe(401);
    expect((await metrics(next)).status).toBe(200);

    run.child.kill('SIGTERM');
    expect(await finish(run)).toBe(0);
    expect(run.stdout.join('')).toContain('"msg":"stopped"');
  });

  it('all-in-one: outside Kubernetes, records carry no Kubernetes fields and are named after their file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-all-'));
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'checkout.log'), 'INFO order placed\n');
    // The example's sidecar sends to the API's own address, so the port must be known before the start.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const run = start(['all', '--config', join(import.meta.dirname, '..', 'examples', 'all-in-one.yaml')], {
      LOOKOUT_LISTEN: `127.0.0.1:${port}`,
      LOOKOUT_DATA_DIR: join(dir, 'data'),
      LOOKOUT_LOGS: join(dir, 'logs', '*.log'),
      // What another container runtime sets: not a Kubernetes container name.
      CONTAINER_NAME: 'uid-dvfnqz-dfmwrp-tbdbcs',
      POD_NAME: '',
      POD_UID: '',
      POD_NAMESPACE: '',
    });
    running.push(run);
    await waitFor(run, 'API at', 20_000);
    let doc: Record<string, unknown> | undefined;
    const deadline = Date.now() + 15_000;
    while (!doc && Date.now() < deadline) {
      const answer = (await (await fetch(`http://127.0.0.1:${port}/api/logs/search?q=placed`)).json()) as {
        hits?: { doc: Record<string, unknown> }[];
      };
      doc = answer.hits?.[0]?.doc;
      if (!doc) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(doc).toMatchObject({
      message: 'INFO order placed',
      service: { name: 'checkout' },
    });
    expect(doc).not.toHaveProperty('kubernetes');
  });
});
