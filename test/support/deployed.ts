import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthorizationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { kubernetesAccess } from '../infra/control.ts';
import type { Rendered } from './kustomize.ts';

/** The Secrets docs/deploy.md tells an operator to create: name → keys. */
export function documentedSecrets(): Map<string, string[]> {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
  const secrets = new Map<string, string[]>();
  for (const command of doc.split(/create secret generic /).slice(1)) {
    const [name, ...rest] = command.split(/\s+/);
    const keys = [
      ...rest
        .join(' ')
        .split(/\n\s*\n|```/)[0]!
        .matchAll(/--from-literal=(\w+)=/g),
    ].map((m) => m[1]!);
    secrets.set(name!, keys);
  }
  return secrets;
}

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetesAccess().kubeconfig);
  return kc;
}

/** Every container of a workload's pod template, init containers (native sidecars among them) first. */
export function containersOf(workload: Rendered): Rendered[] {
  const spec = workload.spec.template.spec;
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/**
 * What the kubelet would give a container as its environment from the
 * Secrets its `envFrom` names, read from the API server; plain `env` values,
 * and the Downward API's as `fieldRef` placeholders.
 */
export async function containerEnv(
  container: Rendered,
  namespace: string,
  fields: Record<string, string> = {},
): Promise<Record<string, string>> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const name = from.secretRef.name as string;
    const secret = await core.readNamespacedSecret({ namespace, name }).catch((err: unknown) => {
      if (from.secretRef.optional) return undefined;
      throw err;
    });
    for (const [key, value] of Object.entries(secret?.data ?? {})) {
      env[key] = Buffer.from(value, 'base64').toString();
    }
  }
  for (const variable of container.env ?? []) {
    env[variable.name] = variable.value ?? fields[variable.valueFrom?.fieldRef?.fieldPath] ?? 'from-the-pod';
  }
  return env;
}

/**
 * The files of a ConfigMap as a container sees them mounted at `mountPath`,
 * written to `dir`; paths under the mount, and the data directory, are
 * rewritten to the places on this machine.
 */
export async function mountConfigMap(
  configMap: Rendered,
  mountPath: string,
  dir: string,
  dataDir: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(configMap.data as Record<string, string>)) {
    const mounted = text
      .replaceAll(`${mountPath}/`, `${dir}/`)
      .replace(/^dataDir: .*$/m, `dataDir: ${dataDir}`);
    await writeFile(join(dir, file), mounted);
  }
}

/** Deep-merges `changes` into the YAML file: what a test changes of a configuration it was handed. */
export async function editYaml(file: string, changes: Record<string, unknown>): Promise<void> {
  const merge = (target: Record<string, unknown>, source: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(source)) {
      const current = target[key];
      if (value === undefined) delete target[key];
      else if (isObject(value) && isObject(current)) merge(current, value);
      else target[key] = value;
    }
  };
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  merge(doc, changes);
  await writeFile(file, stringify(doc));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A kubeconfig that authenticates as the ServiceAccount with a token from the
 * TokenRequest API, as the kubelet projects into a pod: the process gets
 * exactly the rights the rendered RBAC gives that account.
 */
export async function serviceAccountKubeconfig(namespace: string, name: string, file: string): Promise<void> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const admin = parse(readFileSync(kubernetesAccess().kubeconfig, 'utf8'));
  const user = `${namespace}:${name}`;
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: admin.clusters,
      users: [{ name: user, user: { token: request.status?.token } }],
      contexts: [{ name: user, context: { cluster: admin.clusters[0].name, user, namespace } }],
      'current-context': user,
    }),
    { mode: 0o600 },
  );
}

export interface Access {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  name?: string;
}

/** Whether the API server's RBAC authorizer lets the ServiceAccount do it. */
export async function allowed(namespace: string, account: string, access: Access): Promise<boolean> {
  const review = await adminKubeConfig()
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:${account}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: { ...access, group: access.group ?? '' },
        },
      },
    });
  return review.status?.allowed === true;
}
