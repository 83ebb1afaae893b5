import { randomUUID } from 'node:crypto';
import { CoreV1Api, type CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { createKubeClient, type KubeClient } from '../../core/kube/client.ts';
import { kubernetesAccess } from '../infra/control.ts';

/** client-node for the tests' own requests; `kube` is the client Lookout's code takes. */
export function kubeClient(): { kc: KubeConfig; core: CoreV1Api; kube: KubeClient } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetesAccess().kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    kube: createKubeClient({ kubeconfig: kubernetesAccess().kubeconfig }),
  };
}

/** A namespace of the test's own, so runs on a long-lived `make infra` server do not meet. */
export async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await kubeClient().core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  // With no namespace controller it stays Terminating; marked all the same.
  await kubeClient()
    .core.deleteNamespace({ name })
    .catch(() => {});
}

export interface PodEventSpec {
  namespace: string;
  pod: string;
  reason: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  component?: string;
}

/**
 * Records events about pods the way the kubelet and the scheduler do: one
 * Event object per incident, whose count and lastTimestamp grow as it recurs.
 */
export class EventRecorder {
  private readonly core = kubeClient().core;

  async create(spec: PodEventSpec, at = new Date()): Promise<CoreV1Event> {
    return this.core.createNamespacedEvent({
      namespace: spec.namespace,
      body: {
        metadata: { namespace: spec.namespace, name: `${spec.pod}.${randomUUID().slice(0, 12)}` },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: spec.namespace, name: spec.pod },
        reason: spec.reason,
        message: spec.message ?? `${spec.reason} for ${spec.pod}`,
        type: spec.type ?? 'Warning',
        source: { component: spec.component ?? 'kubelet' },
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      },
    });
  }

  /** The incident happened once more: count + 1 and a newer lastTimestamp, as the kubelet's recorder patches it. */
  async recur(event: CoreV1Event, at = new Date()): Promise<CoreV1Event> {
    const { namespace, name } = event.metadata as { namespace: string; name: string };
    return this.core.replaceNamespacedEvent({
      namespace,
      name,
      body: { ...event, count: (event.count ?? 1) + 1, lastTimestamp: at },
    });
  }
}
