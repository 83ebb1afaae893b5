import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CoreV1Api, type CoreV1Event, KubeConfig, VersionApi, Watch } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesAccess, restartServer } from './infra/control.ts';

/** A namespace of this run's own, so a long-lived `make infra` server can serve many runs. */
const namespace = `smoke-${randomUUID().slice(0, 8)}`;

function client(): { kc: KubeConfig; core: CoreV1Api } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetesAccess().kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api) };
}

function podEvent(podName: string, reason: string): CoreV1Event {
  const now = new Date();
  return {
    metadata: { namespace, name: `${podName}.${randomUUID().slice(0, 8)}` },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: podName },
    reason,
    message: `smoke ${reason}`,
    type: 'Warning',
    source: { component: 'lookout-infra-smoke' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

describe('test Kubernetes (etcd and kube-apiserver)', () => {
  beforeAll(async () => {
    await client().core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    // With no namespace controller the namespace stays Terminating; it is marked all the same, so a
    // shared server does not show it as live.
    await client()
      .core.deleteNamespace({ name: namespace })
      .catch(() => {});
  });

  it('reports the version it was built as', async () => {
    const { kc } = client();
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
  });

  it('accepts a Pod and a core/v1 Event about it, lists the event and streams it to a watch', async () => {
    const { kc, core } = client();
    const pod = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'app', labels: { app: 'smoke' } },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
      },
    });
    expect(pod.metadata?.uid).toBeTruthy();
    // Nothing schedules or runs it: there is an API and storage, no scheduler or kubelet.
    expect(pod.status?.phase).toBe('Pending');

    const first = await core.createNamespacedEvent({ namespace, body: podEvent('app', 'BackOff') });
    const listed = await core.listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=app',
    });
    expect(listed.items.map((event) => event.metadata?.name)).toContain(first.metadata?.name);

    // From the list's resourceVersion on, the watch sees only what comes after it.
    const seen: { phase: string; reason?: string }[] = [];
    let abort: AbortController | undefined;
    const streamed = new Promise<void>((resolve, reject) => {
      new Watch(kc)
        .watch(
          `/api/v1/namespaces/${namespace}/events`,
          { resourceVersion: listed.metadata?.resourceVersion },
          (phase, event: CoreV1Event) => {
            seen.push({ phase, reason: event.reason });
            if (event.reason === 'OOMKilled') resolve();
          },
          (err) => reject(err ?? new Error('watch closed before the event came')),
        )
        .then((controller) => {
          abort = controller;
        }, reject);
    });
    try {
      // Possibly written before the watch request is open: starting at the list's resourceVersion, the
      // apiserver replays it all the same.
      await core.createNamespacedEvent({ namespace, body: podEvent('app', 'OOMKilled') });
      await streamed;
    } finally {
      abort?.abort();
    }
    expect(seen).toEqual([{ phase: 'ADDED', reason: 'OOMKilled' }]);
  });

  it('turns away a request without the token', async () => {
    const { url, caFile } = kubernetesAccess();
    const dispatcher = new Agent({ connect: { ca: readFileSync(caFile) } });
    try {
      const response = await request(`${url}/api/v1/namespaces`, { dispatcher });
      await response.body.dump();
      expect(response.statusCode).toBe(403);
    } finally {
      await dispatcher.close();
    }
  });

  it('keeps its objects across an apiserver restart through the control server', async () => {
    const { core } = client();
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'survivor' }, data: { kept: 'yes' } },
    });
    await restartServer('kubernetes');
    const configMap = await client().core.readNamespacedConfigMap({ namespace, name: 'survivor' });
    expect(configMap.data).toEqual({ kept: 'yes' });
  });
});
