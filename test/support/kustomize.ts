import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { kubernetesAccess } from '../infra/control.ts';
import { run } from '../infra/exec.ts';
import { ensureKustomize } from '../infra/kubernetes.ts';

export const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');

/** A rendered object with the parts the checks read; the rest stays as kustomize wrote it. */
export interface Rendered extends KubernetesObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field
  [field: string]: any;
}

export interface RenderOptions {
  /** Set as the kustomization's namespace, as a team's own overlay would. */
  namespace?: string;
  /** Directories under deploy/components/. */
  components?: string[];
}

/**
 * `kustomize build` of a directory under deploy/, wrapped the way a team
 * wraps it in an overlay of its own when a namespace or components are given.
 * kustomize refuses absolute paths, so the wrapper names them relatively.
 */
export async function render(dir: string, options: RenderOptions = {}): Promise<Rendered[]> {
  const kustomize = await ensureKustomize();
  const wrapper = await mkdtemp(join(tmpdir(), 'lookout-kustomize-'));
  try {
    const from = (path: string) => relative(wrapper, join(DEPLOY, path));
    await writeFile(
      join(wrapper, 'kustomization.yaml'),
      stringify({
        ...(options.namespace && { namespace: options.namespace }),
        resources: [from(dir)],
        ...(options.components && { components: options.components.map((c) => from(`components/${c}`)) }),
      }),
    );
    const output = await run(kustomize, ['build', wrapper]);
    return parseAllDocuments(output).map((doc) => doc.toJS() as Rendered);
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
}

export function objectApi(): KubernetesObjectApi {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetesAccess().kubeconfig);
  return KubernetesObjectApi.makeApiClient(kc);
}

/**
 * Server-side apply of every object, as `kubectl apply --server-side` sends
 * it; with `dryRun` the API server validates and admits each one, and stores
 * nothing. Cluster-scoped kinds and the namespace go first.
 */
export async function apply(objects: Rendered[], options: { dryRun?: boolean } = {}): Promise<void> {
  const api = objectApi();
  const dryRun = options.dryRun ? 'All' : undefined;
  const first = (o: Rendered) => (o.kind === 'Namespace' ? 0 : o.metadata.namespace ? 2 : 1);
  for (const object of [...objects].sort((a, b) => first(a) - first(b))) {
    try {
      await api.patch(object, undefined, dryRun, 'lookout-test', true, PatchStrategy.ServerSideApply);
    } catch (err) {
      const body = (err as { body?: unknown }).body;
      throw new Error(`${object.kind} ${object.metadata.name}: ${(err as Error).message} ${body ?? ''}`);
    }
  }
}

export function ofKind(objects: Rendered[], kind: string): Rendered[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: Rendered[], kind: string, name: string): Rendered {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendering`);
  return found;
}
