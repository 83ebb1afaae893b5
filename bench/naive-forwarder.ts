import { CoreV1Api, type CoreV1Event, KubeConfig, Watch } from '@kubernetes/client-node';

/**
 * The benchmark's peer for the event router: what kube-eventer's DingTalk sink does, in Node, since
 * kube-eventer itself cannot be built here. It lists and watches core/v1 Events in all namespaces and
 * posts one DingTalk text message per Warning event it sees, added or updated (so every count increment
 * is a message), one at a time, without retrying and without reading the robot's answer.
 *
 * Usage: node bench/naive-forwarder.ts <kubeconfig> <robot send URL>
 */

const [kubeconfig, robotUrl] = process.argv.slice(2);
if (!kubeconfig || !robotUrl) throw new Error('usage: naive-forwarder.ts <kubeconfig> <robot send URL>');

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const queue: CoreV1Event[] = [];
let wake: (() => void) | undefined;
let stopping = false;

process.once('SIGTERM', () => {
  stopping = true;
  wake?.();
});

async function watchEvents(): Promise<void> {
  while (!stopping) {
    // Only what happens from now on: the list is for its resourceVersion.
    const list = await kc.makeApiClient(CoreV1Api).listEventForAllNamespaces({ limit: 1 });
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        '/api/v1/events',
        { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
        (phase, event: CoreV1Event) => {
          if ((phase !== 'ADDED' && phase !== 'MODIFIED') || event.type !== 'Warning') return;
          queue.push(event);
          wake?.();
        },
        resolve,
      );
    });
    console.log('forwarder watching');
    await ended;
  }
}

function text(event: CoreV1Event): string {
  const o = event.involvedObject;
  const where = o.namespace ? `${o.namespace}/${o.name}` : o.name;
  return `${event.reason} ${o.kind} ${where} (×${event.count ?? 1}): ${event.message ?? ''}`;
}

async function forward(): Promise<void> {
  while (!stopping) {
    const event = queue.shift();
    if (!event) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      continue;
    }
    const body = JSON.stringify({ msgtype: 'text', text: { content: text(event) } });
    await fetch(robotUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then((response) => response.arrayBuffer())
      .catch(() => {});
  }
}

void watchEvents().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
await forward();
process.exit(0);
