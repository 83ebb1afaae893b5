import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import YAML from 'yaml';
import type { KubernetesConfig } from './config.ts';
import {
  type Credentials,
  DelegatedCredentials,
  StaticCredentials,
  TokenFileCredentials,
} from './credentials.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What requests to one API server need: where it is, how to trust it, and who this process is. */
export interface KubeAccess {
  /** Base URL without a trailing slash. */
  server: string;
  tls: {
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    rejectUnauthorized: boolean;
    servername?: string;
  };
  /** An HTTP proxy that requests tunnel through (CONNECT), from the cluster's `proxy-url`. */
  proxy?: URL;
  credentials: Credentials;
}

interface NamedCluster {
  name: string;
  cluster?: {
    server?: string;
    'certificate-authority'?: string;
    'certificate-authority-data'?: string;
    'insecure-skip-tls-verify'?: boolean;
    'tls-server-name'?: string;
    'proxy-url'?: string;
  };
}

interface NamedUser {
  name: string;
  user?: {
    token?: string;
    tokenFile?: string;
    'token-file'?: string;
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    username?: string;
    password?: string;
    as?: string;
    exec?: unknown;
    'auth-provider'?: unknown;
  };
}

interface NamedContext {
  name: string;
  context?: { cluster?: string; user?: string };
}

/** A kubeconfig file as read, with the directory its relative paths are relative to. */
interface KubeconfigFile {
  dir: string;
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  currentContext: string | undefined;
}

function readKubeconfig(path: string): KubeconfigFile {
  const doc = (YAML.parse(readFileSync(path, 'utf8')) ?? {}) as {
    clusters?: NamedCluster[];
    users?: NamedUser[];
    contexts?: NamedContext[];
    'current-context'?: string;
  };
  return {
    dir: dirname(path),
    clusters: doc.clusters ?? [],
    users: doc.users ?? [],
    contexts: doc.contexts ?? [],
    currentContext: doc['current-context'] || undefined,
  };
}

/** An entry of one of the files, with the directory its relative paths are relative to. */
interface Found<T> {
  dir: string;
  entry: T;
}

/** Several files ($KUBECONFIG lists them) read as one: the first to name an entry wins. */
function firstByName<T extends { name: string }>(
  files: KubeconfigFile[],
  entries: (file: KubeconfigFile) => T[],
): Map<string, Found<T>> {
  const byName = new Map<string, Found<T>>();
  for (const file of files) {
    for (const entry of entries(file))
      if (!byName.has(entry.name)) byName.set(entry.name, { dir: file.dir, entry });
  }
  return byName;
}

function fileOrData(dir: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(isAbsolute(file) ? file : join(dir, file));
  return data ? Buffer.from(data, 'base64') : undefined;
}

/** The files to read, in client-go's order: $KUBECONFIG, else ~/.kube/config; none means in-cluster. */
function defaultFiles(): string[] {
  const fromEnv = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) return fromEnv;
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

function inCluster(): KubeAccess | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!existsSync(join(SERVICE_ACCOUNT, 'token')) || !host || !port) return undefined;
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `${scheme}://${hostPart}:${port}`,
    tls: { ca: readFileSync(join(SERVICE_ACCOUNT, 'ca.crt')), rejectUnauthorized: true },
    // Bound service account tokens are rotated by the kubelet: the file is read again every minute.
    credentials: new TokenFileCredentials(join(SERVICE_ACCOUNT, 'token')),
  };
}

function userCredentials(
  user: NonNullable<NamedUser['user']>,
  dir: string,
  delegate: () => DelegatedCredentials,
): Credentials {
  // Plugins and the older auth providers keep their own token caches and refresh rules: client-node
  // runs them, loaded only for such a configuration.
  if (user.exec || user['auth-provider']) return delegate();
  const headers: Record<string, string> = {};
  if (user.as) headers['Impersonate-User'] = user.as;
  if (user.username) {
    headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  }
  const tokenFile = user.tokenFile ?? user['token-file'];
  if (user.token) headers.authorization = `Bearer ${user.token}`;
  else if (tokenFile) {
    return new TokenFileCredentials(isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile), headers);
  }
  return new StaticCredentials(headers);
}

/**
 * Reads how to reach the API server: the kubeconfig named, else $KUBECONFIG (several files merge),
 * else ~/.kube/config, else the pod's service account; the context named, else the current one.
 * Tokens, client certificates, basic auth and impersonation are handled here; `exec` plugins and
 * `auth-provider`s are run by the Kubernetes client library.
 */
export function loadKubeAccess(config: KubernetesConfig): KubeAccess {
  const paths = config.kubeconfig ? [config.kubeconfig] : defaultFiles();
  if (paths.length === 0) {
    const access = inCluster();
    if (access) return access;
    if (config.context) throw new Error(`no kubeconfig to find the context "${config.context}" in`);
    // client-go's last resort: a local API server without TLS.
    return {
      server: 'http://localhost:8080',
      tls: { rejectUnauthorized: true },
      credentials: new StaticCredentials({}),
    };
  }
  const files = paths.map(readKubeconfig);
  const where = paths.join(delimiter);
  const contextName = config.context ?? files.find((f) => f.currentContext)?.currentContext;
  if (!contextName) throw new Error(`kubeconfig ${where} names no current context; set kubernetes.context`);
  const context = firstByName(files, (f) => f.contexts).get(contextName)?.entry.context;
  if (!context) throw new Error(`kubeconfig ${where} has no context "${contextName}"`);
  const named = firstByName(files, (f) => f.clusters).get(context.cluster ?? '');
  const cluster = named?.entry.cluster;
  if (!named || !cluster?.server) {
    throw new Error(`kubeconfig ${where}: context "${contextName}" names no cluster with a server`);
  }
  const userEntry = context.user ? firstByName(files, (f) => f.users).get(context.user) : undefined;
  const user = userEntry?.entry.user ?? {};
  const userDir = userEntry?.dir ?? named.dir;
  if (cluster['proxy-url'] && !/^https?:/.test(cluster['proxy-url'])) {
    throw new Error(
      `kubeconfig ${where}: only http and https proxies are supported, not ${cluster['proxy-url']}`,
    );
  }
  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls: {
      ca: fileOrData(named.dir, cluster['certificate-authority'], cluster['certificate-authority-data']),
      cert: fileOrData(userDir, user['client-certificate'], user['client-certificate-data']),
      key: fileOrData(userDir, user['client-key'], user['client-key-data']),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      servername: cluster['tls-server-name'],
    },
    proxy: cluster['proxy-url'] ? new URL(cluster['proxy-url']) : undefined,
    credentials: userCredentials(user, userDir, () => new DelegatedCredentials(config)),
  };
}
