import { responseStatus } from './api-requests.ts';
import type { KubeClient, RequestOptions } from './client.ts';

/** The parts of metav1.ObjectMeta that Lookout reads or writes. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

export interface ConfigMap {
  metadata?: ObjectMeta;
  data?: Record<string, string>;
}

/** metav1.MicroTime as the API server takes it: six digits of fraction, no other number. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export function configMapsPath(namespace: string, name?: string): string {
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

/** The ConfigMap, or undefined when there is none. */
export async function readConfigMap(
  client: KubeClient,
  namespace: string,
  name: string,
  options?: RequestOptions,
): Promise<ConfigMap | undefined> {
  try {
    return await client.get<ConfigMap>(configMapsPath(namespace, name), options);
  } catch (err) {
    if (responseStatus(err) === 404) return undefined;
    throw err;
  }
}
