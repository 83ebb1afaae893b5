import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { z } from 'zod';
import { unquoteGo } from '../core/go-string.ts';
import { dedotLabelKey } from '../core/record/log-record.ts';
import { setOwn } from './parse/object.ts';
import type { SourceFields } from './types.ts';

// Source fields are nested objects, the ECS convention (`{"kubernetes":{"pod":{"name":…}}}`);
// Elasticsearch maps them exactly like the dotted names DESIGN.md lists.

/** Fields that belong to each record rather than to its source; static fields may not set them. */
const RECORD_ONLY = new Set(['@timestamp', 'message', 'log', 'event', 'lookout']);

export const enrichSchema = z.strictObject({
  /** Environment variables the Downward API fills in the sidecar container (sidecar mode). */
  env: z
    .strictObject({
      podName: z.string().min(1).default('POD_NAME'),
      namespace: z.string().min(1).default('POD_NAMESPACE'),
      podUid: z.string().min(1).default('POD_UID'),
      nodeName: z.string().min(1).default('NODE_NAME'),
      containerName: z.string().min(1).default('CONTAINER_NAME'),
    })
    .prefault({}),
  /** The pod's labels as a Downward API volume writes them (sidecar mode); a missing file means no labels. */
  labelsFile: z.string().min(1).default('/etc/podinfo/labels'),
  /** host.name; default the node name, else this machine's host name. */
  hostName: z.string().min(1).optional(),
  /** service.name; default the first of `serviceLabels` the pod has, else the container name, else the file's name up to its first dot. */
  serviceName: z.string().min(1).optional(),
  serviceLabels: z.array(z.string().min(1)).default(['app.kubernetes.io/name', 'app']),
  /**
   * Write label keys with "." as "_" (`app.kubernetes.io/name` → `app_kubernetes_io/name`), as
   * Filebeat does: otherwise labels `app` and `app.kubernetes.io/name` would make `kubernetes.labels.app`
   * both a string and an object, and Elasticsearch would reject one of them.
   */
  dedotLabels: z.boolean().default(true),
  /** Static fields added to every record; dotted keys become nested (`orchestrator.cluster.name`). */
  fields: z
    .record(z.string().min(1), z.unknown())
    .default({})
    .superRefine((fields, ctx) => {
      for (const key of Object.keys(fields)) {
        if (RECORD_ONLY.has(key.split('.')[0]!)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'this field is set per record by the sidecar',
          });
        }
      }
    }),
});
export type EnrichConfig = z.output<typeof enrichSchema>;

/** What is known about the container a file belongs to. */
export interface ContainerInfo {
  namespace?: string;
  podName?: string;
  podUid?: string;
  containerName?: string;
  containerId?: string;
  nodeName?: string;
  labels?: Record<string, string>;
}

/** `key="value"` lines, as a Downward API volume writes labels and annotations. Malformed lines are skipped. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    const value = unquoteGo(line.slice(equals + 1).trimEnd());
    if (value !== undefined) setOwn(labels, line.slice(0, equals).trim(), value);
  }
  return labels;
}

/** The labels file's content; no labels when it does not exist (no Downward API volume mounted). */
export async function readLabels(path: string): Promise<Record<string, string>> {
  try {
    return parseLabels(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

// Kubernetes names are DNS labels or subdomains: no "_", no "/". The container
// id is the last "-" and 64 hex digits, since container names may contain "-".
const CONTAINERS_NAME = /^([^_/]+)_([^_/]+)_([^_/]+)-([0-9a-f]{64})\.log$/;
const PODS_PATH = /(?:^|\/)([^_/]+)_([^_/]+)_([^_/]+)\/([^_/]+)\/\d+\.log(?:\.[^/]*)?$/;

/**
 * What a node's container log path tells: `/var/log/containers/<pod>_<namespace>_<container>-<id>.log`
 * or `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log` (rotated files included).
 */
export function parseContainerLogPath(path: string): ContainerInfo | undefined {
  const containers = CONTAINERS_NAME.exec(basename(path));
  if (containers) {
    const [, podName, namespace, containerName, containerId] = containers;
    return { podName, namespace, containerName, containerId };
  }
  const pods = PODS_PATH.exec(path);
  if (pods) {
    const [, namespace, podName, podUid, containerName] = pods;
    return { namespace, podName, podUid, containerName };
  }
  return undefined;
}

/** Sets `value` at a dotted path, creating objects on the way and merging with what is there. */
function setPath(target: SourceFields, path: readonly string[], value: unknown): void {
  let holder = target;
  for (const key of path.slice(0, -1)) {
    const next = holder[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      const created: SourceFields = {};
      setOwn(holder, key, created);
      holder = created;
    } else holder = next as SourceFields;
  }
  const last = path[path.length - 1]!;
  if (isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) setPath(holder, [last, ...key.split('.')], inner);
  } else setOwn(holder, last, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mergeDefined(target: ContainerInfo, source: ContainerInfo | undefined): void {
  for (const [key, value] of Object.entries(source ?? {})) {
    if (value !== undefined && value !== '') setOwn(target as SourceFields, key, value);
  }
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [key, value] of Object.entries(values)) {
    if (!value) continue;
    out ??= {};
    out[key] = value;
  }
  return out;
}

/**
 * The fields every record of a file carries: kubernetes.*, container.id,
 * host.name, service.name and the static fields. Static fields go in first,
 * so what Kubernetes reports wins over a static field of the same name.
 */
export function sourceFields(config: EnrichConfig, info: ContainerInfo, host: string): SourceFields {
  const out: SourceFields = {};
  for (const [key, value] of Object.entries(config.fields)) setPath(out, key.split('.'), value);
  const labels = info.labels ?? {};
  const pod = definedOnly({ name: info.podName, uid: info.podUid });
  const kubernetes: SourceFields = {};
  if (info.namespace) kubernetes.namespace = info.namespace;
  if (pod) kubernetes.pod = pod;
  if (info.containerName) kubernetes.container = { name: info.containerName };
  if (info.nodeName) kubernetes.node = { name: info.nodeName };
  const labelFields: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    setOwn(labelFields, config.dedotLabels ? dedotLabelKey(key) : key, value);
  }
  if (Object.keys(labelFields).length > 0) kubernetes.labels = labelFields;
  if (Object.keys(kubernetes).length > 0) setPath(out, ['kubernetes'], kubernetes);
  if (info.containerId) setPath(out, ['container', 'id'], info.containerId);
  setPath(out, ['host', 'name'], config.hostName ?? info.nodeName ?? host);
  const fromLabel = config.serviceLabels.map((label) => labels[label]).find((value) => value);
  const service = config.serviceName ?? fromLabel ?? info.containerName;
  if (service) setPath(out, ['service', 'name'], service);
  return out;
}

/**
 * Sidecar mode: one set of fields for every file, from the Downward API's
 * environment and labels file. Only a pod's name, uid or namespace says the
 * sidecar runs in Kubernetes: other container runtimes set CONTAINER_NAME or
 * NODE_NAME to names of their own, which are no Kubernetes fields.
 */
export async function sidecarSourceFields(
  config: EnrichConfig,
  env: NodeJS.ProcessEnv = process.env,
  host: string = hostname(),
): Promise<SourceFields> {
  const names = config.env;
  const inKubernetes = Boolean(env[names.podName] || env[names.podUid] || env[names.namespace]);
  const info: ContainerInfo = inKubernetes
    ? {
        namespace: env[names.namespace],
        podName: env[names.podName],
        podUid: env[names.podUid],
        containerName: env[names.containerName],
        nodeName: env[names.nodeName],
        labels: await readLabels(config.labelsFile),
      }
    : {};
  return sourceFields(config, info, host);
}

/** The fields with service.name from the file's name (`checkout.2026-11-23.log` → `checkout`) when nothing else named the service. */
export function withFileService(fields: SourceFields, path: string): SourceFields {
  const service = fields.service as SourceFields | undefined;
  if (service?.name) return fields;
  const file = basename(path);
  const name = file.slice(0, file.indexOf('.') > 0 ? file.indexOf('.') : file.length);
  return { ...fields, service: { ...service, name } };
}

/**
 * Node mode: fields for one container log, from its path (or paths: the
 * /var/log/containers link and its /var/log/pods target each tell part of
 * it) plus what the caller learned elsewhere, such as labels from the API server.
 */
export function nodeSourceFields(
  config: EnrichConfig,
  paths: string | readonly string[],
  extra: ContainerInfo = {},
  env: NodeJS.ProcessEnv = process.env,
  host: string = hostname(),
): SourceFields {
  const info: ContainerInfo = { nodeName: env[config.env.nodeName] };
  for (const path of typeof paths === 'string' ? [paths] : paths)
    mergeDefined(info, parseContainerLogPath(path));
  mergeDefined(info, extra);
  return sourceFields(config, info, host);
}
