import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { ManualClock } from '../fixtures/manual-clock.ts';
import { DelegatedCredentials, TokenFileCredentials } from './credentials.ts';
import { loadKubeAccess } from './kubeconfig.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function kubeconfig(name: string, doc: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, YAML.stringify(doc));
  return path;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('loadKubeAccess', () => {
  it('reads the current context: server, CA, token and impersonation', async () => {
    const path = await kubeconfig('config', {
      clusters: [
        { name: 'prod', cluster: { server: 'https://prod:6443/', 'certificate-authority-data': b64('CA') } },
      ],
      users: [{ name: 'ops', user: { token: 'secret', as: 'auditor' } }],
      contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'ops' } }],
      'current-context': 'prod',
    });
    const access = loadKubeAccess({ kubeconfig: path });
    expect(access.server).toBe('https://prod:6443');
    expect(access.tls).toMatchObject({ ca: Buffer.from('CA'), rejectUnauthorized: true });
    expect((await access.credentials.authenticate()).headers).toEqual({
      authorization: 'Bearer secret',
      'Impersonate-User': 'auditor',
    });
  });

  it('takes the context named, files relative to the kubeconfig, client certificates and skip-verify', async () => {
    await writeFile(join(dir, 'ca.pem'), 'CA FILE');
    await writeFile(join(dir, 'client.pem'), 'CERT FILE');
    const path = await kubeconfig('config', {
      clusters: [
        { name: 'a', cluster: { server: 'https://a' } },
        {
          name: 'b',
          cluster: {
            server: 'https://b',
            'certificate-authority': 'ca.pem',
            'insecure-skip-tls-verify': true,
            'tls-server-name': 'api.b',
          },
        },
      ],
      users: [{ name: 'u', user: { 'client-certificate': 'client.pem', 'client-key-data': b64('KEY') } }],
      contexts: [
        { name: 'a', context: { cluster: 'a', user: 'u' } },
        { name: 'b', context: { cluster: 'b', user: 'u' } },
      ],
      'current-context': 'a',
    });
    const access = loadKubeAccess({ kubeconfig: path, context: 'b' });
    expect(access.server).toBe('https://b');
    expect(access.tls).toEqual({
      ca: Buffer.from('CA FILE'),
      cert: Buffer.from('CERT FILE'),
      key: Buffer.from('KEY'),
      rejectUnauthorized: false,
      servername: 'api.b',
    });
    expect((await access.credentials.authenticate()).headers).toEqual({});
  });

  it('merges the files $KUBECONFIG lists, the first to name an entry winning', async () => {
    const first = await kubeconfig('first', {
      clusters: [{ name: 'c', cluster: { server: 'https://first' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    });
    const second = await kubeconfig('second', {
      clusters: [{ name: 'c', cluster: { server: 'https://second' } }],
      users: [{ name: 'u', user: { username: 'admin', password: 'pw' } }],
      'current-context': 'other',
    });
    vi.stubEnv('KUBECONFIG', [first, second].join(delimiter));
    const access = loadKubeAccess({});
    expect(access.server).toBe('https://first');
    expect((await access.credentials.authenticate()).headers).toEqual({
      authorization: `Basic ${b64('admin:pw')}`,
    });
  });

  it('says what is missing: a context, a cluster with a server', async () => {
    const path = await kubeconfig('config', {
      clusters: [{ name: 'c', cluster: {} }],
      contexts: [{ name: 'x', context: { cluster: 'c' } }],
    });
    expect(() => loadKubeAccess({ kubeconfig: path })).toThrow(/names no current context/);
    expect(() => loadKubeAccess({ kubeconfig: path, context: 'y' })).toThrow(/has no context "y"/);
    expect(() => loadKubeAccess({ kubeconfig: path, context: 'x' })).toThrow(
      /names no cluster with a server/,
    );
  });

  it('leaves exec plugins and auth providers to the Kubernetes client library', async () => {
    const path = await kubeconfig('config', {
      clusters: [{ name: 'c', cluster: { server: 'https://c' } }],
      users: [
        { name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'login' } } },
      ],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    });
    expect(loadKubeAccess({ kubeconfig: path }).credentials).toBeInstanceOf(DelegatedCredentials);
  });

  it('refuses a SOCKS proxy, which only the Kubernetes client library speaks', async () => {
    const path = await kubeconfig('config', {
      clusters: [{ name: 'c', cluster: { server: 'https://c', 'proxy-url': 'socks5://proxy:1080' } }],
      contexts: [{ name: 'x', context: { cluster: 'c' } }],
      'current-context': 'x',
    });
    expect(() => loadKubeAccess({ kubeconfig: path })).toThrow(/only http and https proxies/);
  });
});

describe('TokenFileCredentials', () => {
  it('reads the token again a minute later, so a rotated token is used', async () => {
    const path = join(dir, 'token');
    await writeFile(path, 'first\n');
    const clock = new ManualClock(0);
    const credentials = new TokenFileCredentials(path, {}, clock);
    expect((await credentials.authenticate()).headers.authorization).toBe('Bearer first');
    await writeFile(path, 'second');
    await clock.advance(59_000);
    expect((await credentials.authenticate()).headers.authorization).toBe('Bearer first');
    await clock.advance(2_000);
    expect((await credentials.authenticate()).headers.authorization).toBe('Bearer second');
  });
});
