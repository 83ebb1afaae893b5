import { generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { withRunDir } from './dirs.ts';
import { ensureGoBinary, type GoCommand } from './go-build.ts';
import { freePort, freePorts } from './ports.ts';
import { launchServer, type ServerProcess } from './process.ts';
import { answers200 } from './ready.ts';

const SOURCES = path.join(import.meta.dirname, 'kubernetes');

/** The user the static token authenticates as; system:masters makes it cluster-admin under RBAC. */
export const KUBERNETES_USER = 'lookout-test';

export interface KubernetesServer extends ServerProcess {
  /** https://127.0.0.1:<port> of kube-apiserver. */
  url: string;
  /** Bearer token of KUBERNETES_USER, random for each fresh server (a stop and start keep it). */
  token: string;
  /** kubeconfig with the URL, the token and the serving certificate's CA; current context set. */
  kubeconfig: string;
  /** PEM that verifies the apiserver's self-signed serving certificate (valid for 127.0.0.1). */
  caFile: string;
  /**
   * The etcd underneath. stop(), kill() and restart() of the server itself touch kube-apiserver only,
   * as when a control-plane node restarts its apiserver; the stored objects stay. Take this one away to
   * lose storage instead.
   */
  etcd: ServerProcess;
}

const ETCD: GoCommand = {
  dir: path.join(SOURCES, 'etcd'),
  binary: 'etcd',
  versionOf: 'go.etcd.io/etcd/server/v3',
  ldflags: () => [],
};

const KUBE_APISERVER: GoCommand = {
  dir: path.join(SOURCES, 'apiserver'),
  binary: 'kube-apiserver',
  versionOf: 'k8s.io/kubernetes',
  buildTime: '; kube-apiserver takes 6-10 min on 2 cores',
  // The release build stamps these; unstamped, /version reports v0.0.0-master and clients that look at
  // the server's version (client-node, kubectl's skew warning) see a nonsense one.
  ldflags: (version) => {
    const [major, minor] = version.replace(/^v/, '').split('.');
    return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
      `-X ${pkg}.gitVersion=${version}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
    ]);
  },
};

const KUSTOMIZE: GoCommand = {
  dir: path.join(SOURCES, 'kustomize'),
  binary: 'kustomize',
  versionOf: 'sigs.k8s.io/kustomize/kustomize/v5',
  ldflags: () => [],
};

export interface KubernetesBinaries {
  etcd: string;
  kubeApiserver: string;
}

let building: Promise<KubernetesBinaries> | undefined;

/** Paths of etcd and kube-apiserver in the cache; built once per version (see ensureGoBinary). */
export function ensureKubernetes(log: (line: string) => void = () => {}): Promise<KubernetesBinaries> {
  building ??= (async () => {
    // Side by side: each go build already uses every core, but the module downloads and the link steps
    // leave some idle, and etcd is done long before kube-apiserver.
    const [etcd, kubeApiserver] = await Promise.all([
      ensureGoBinary(ETCD, log),
      ensureGoBinary(KUBE_APISERVER, log),
    ]);
    return { etcd, kubeApiserver };
  })();
  building.catch(() => {
    building = undefined;
  });
  return building;
}

let buildingKustomize: Promise<string> | undefined;

/** Path of kustomize in the cache, for rendering deploy/; built once per version like the servers. */
export function ensureKustomize(log: (line: string) => void = () => {}): Promise<string> {
  buildingKustomize ??= ensureGoBinary(KUSTOMIZE, log);
  buildingKustomize.catch(() => {
    buildingKustomize = undefined;
  });
  return buildingKustomize;
}

interface EtcdServer extends ServerProcess {
  /** http://127.0.0.1:<port>, the client URL. */
  url: string;
}

/** A one-member etcd cluster on loopback, with its data in its own run dir. */
function startEtcd(binary: string): Promise<EtcdServer> {
  return withRunDir('etcd', async (runDir) => {
    const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const server = await launchServer({
      name: 'etcd',
      command: binary,
      args: [
        '--name=lookout-test',
        `--data-dir=${path.join(runDir, 'data')}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=lookout-test=${peer}`,
        // The page cache outlives a killed etcd, so only a machine crash could lose writes, and then the
        // run is lost anyway; fsync on every write would make each API write wait on the disk.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      runDir,
      ready: () => answers200(`${client}/health`),
      readyTimeoutMs: 30_000,
      stopGraceMs: 10_000,
    });
    return { ...server, url: client };
  });
}

/** GET /readyz with the token, trusting only the serving certificate the apiserver made for itself. */
async function apiserverReady(url: string, token: string, caFile: string): Promise<boolean> {
  // Rejects until the apiserver has written its certificate, which counts as "not yet".
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    const request = https.get(
      `${url}/readyz`,
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.once('timeout', () => request.destroy(new Error('readyz timed out')));
    request.once('error', reject);
  });
}

/** The service-account key pair: the apiserver signs tokens with the private key and checks them with the public one. */
async function writeServiceAccountKeys(runDir: string): Promise<{ privateKey: string; publicKey: string }> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const files = { privateKey: path.join(runDir, 'sa.key'), publicKey: path.join(runDir, 'sa.pub') };
  await writeFile(files.privateKey, privateKey, { mode: 0o600 });
  await writeFile(files.publicKey, publicKey);
  return files;
}

function kubeconfigYaml(url: string, token: string, ca: Buffer): string {
  const name = 'lookout-test';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: url, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: KUBERNETES_USER, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: KUBERNETES_USER, namespace: 'default' } }],
    'current-context': name,
  });
}

/**
 * A control plane of etcd and kube-apiserver only: the API stores, validates, lists and watches objects
 * (namespaces, Pods, Events, ...), but with no scheduler, controllers or kubelet nothing acts on them.
 * Pods stay Pending, and a deleted namespace stays Terminating because the namespace controller is
 * missing. ServiceAccount admission is off, as no controller creates the namespaces' default accounts
 * it would demand for every Pod.
 */
export async function startKubernetes(): Promise<KubernetesServer> {
  const binaries = await ensureKubernetes();
  const etcd = await startEtcd(binaries.etcd);
  try {
    return await withRunDir('kubernetes', async (runDir) => {
      const port = await freePort();
      const url = `https://127.0.0.1:${port}`;
      const certDir = path.join(runDir, 'certs');
      await mkdir(certDir);
      const caFile = path.join(certDir, 'apiserver.crt');
      const token = randomBytes(24).toString('hex');
      const tokenFile = path.join(runDir, 'tokens.csv');
      await writeFile(tokenFile, `${token},${KUBERNETES_USER},${KUBERNETES_USER},"system:masters"\n`, {
        mode: 0o600,
      });
      const serviceAccount = await writeServiceAccountKeys(runDir);
      const apiserver = await launchServer({
        name: 'kube-apiserver',
        command: binaries.kubeApiserver,
        args: [
          `--etcd-servers=${etcd.url}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${port}`,
          // With no certificate given, the apiserver makes a self-signed one (and its CA) here, valid for
          // 127.0.0.1; the same files are reused after a restart.
          `--cert-dir=${certDir}`,
          `--token-auth-file=${tokenFile}`,
          `--service-account-key-file=${serviceAccount.publicKey}`,
          `--service-account-signing-key-file=${serviceAccount.privateKey}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          '--authorization-mode=RBAC',
          '--service-cluster-ip-range=10.96.0.0/16',
          '--disable-admission-plugins=ServiceAccount',
          // The default service's endpoint would be the advertise address, and Endpoints refuse loopback
          // ones, so the reconciler would only log an error every few seconds.
          '--endpoint-reconciler-type=none',
        ],
        runDir,
        ready: () => apiserverReady(url, token, caFile),
        readyTimeoutMs: 120_000,
        stopGraceMs: 15_000,
      });
      const kubeconfig = path.join(runDir, 'kubeconfig');
      try {
        await writeFile(kubeconfig, kubeconfigYaml(url, token, await readFile(caFile)), { mode: 0o600 });
      } catch (err) {
        await apiserver.close();
        throw err;
      }
      const start = async () => {
        await etcd.start();
        await apiserver.start();
      };
      const close = async () => {
        await apiserver.close();
        await etcd.close();
      };
      return {
        ...apiserver,
        name: 'kubernetes',
        start,
        restart: async () => {
          await etcd.start();
          await apiserver.restart();
        },
        close,
        [Symbol.asyncDispose]: close,
        url,
        token,
        kubeconfig,
        caFile,
        etcd,
      };
    });
  } catch (err) {
    await etcd.close();
    throw err;
  }
}
