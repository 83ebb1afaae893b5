import { describe, expect, it } from 'vitest';
import { formatConfigErrors, parseConfig } from '../../core/config.ts';
import type { RoutedEvent } from '../event.ts';
import { routingSchema } from './config.ts';
import { RoutingTree } from './tree.ts';

const event = (fields: Partial<RoutedEvent> = {}): RoutedEvent => ({
  namespace: 'shop',
  kind: 'Pod',
  name: 'order-7f9c-abcde',
  reason: 'BackOff',
  type: 'Warning',
  message: 'Back-off restarting failed container app in pod order-7f9c-abcde',
  source: 'kubelet',
  labels: { app: 'order', team: 'checkout' },
  ...fields,
});

function tree(yaml: string): RoutingTree {
  const parsed = parseConfig(routingSchema, yaml);
  if (!parsed.ok) throw new Error(formatConfigErrors(parsed.errors));
  return new RoutingTree(parsed.value);
}

const ids = (t: RoutingTree, e: RoutedEvent) => t.route(e).map((r) => r.id);

describe('RoutingTree', () => {
  it('knows whether routing needs labels', () => {
    const plain = tree(
      'route:\n  robots: [a]\n  groupWait: 5s\n  routes:\n    - match: { reason: X }\n      groupWait: 1m\n',
    );
    expect(plain.matchesLabels).toBe(false);
    const nested = tree(
      'route:\n  robots: [a]\n  routes:\n    - routes:\n        - match: { labels: { team: web } }\n',
    );
    expect(nested.matchesLabels).toBe(true);
    expect(tree('drop: [{ labels: { noisy: "true" } }]\nroute: { robots: [a] }\n').matchesLabels).toBe(true);
  });

  const t = tree(`
drop:
  - { type: Normal, reason: [Pulled, Created, Started, Scheduled] }
  - { namespace: "kube-*" }
route:
  robots: [oncall]
  routes:
    - match: { namespace: shop, labels: { team: checkout } }
      robots: [checkout]
      continue: true
      routes:
        - match: { reason: "/^(OOMKilling|OOMKilled)$/" }
          robots: [checkout-urgent]
    - match: { kind: Node, reason: NodeNotReady }
      robots: [infra]
    - match: { namespace: shop }
      robots: [shop]
    - match: { message: "/quota/i" }
      robots: [platform]
`);

  it('drops before routing: by list of values, and by glob', () => {
    expect(t.route(event({ type: 'Normal', reason: 'Pulled' }))).toEqual([]);
    expect(t.route(event({ namespace: 'kube-system' }))).toEqual([]);
    expect(
      ids(t, event({ type: 'Normal', reason: 'ScalingReplicaSet', kind: 'Deployment', labels: {} })),
    ).toEqual(['root.2']);
  });

  it('takes the first matching child, and goes on past one that says continue', () => {
    expect(ids(t, event())).toEqual(['root.0', 'root.2']);
    expect(ids(t, event({ labels: { team: 'search' } }))).toEqual(['root.2']);
  });

  it('descends into children, by regular expression', () => {
    expect(t.route(event({ reason: 'OOMKilling' })).map((r) => [r.id, r.robots])).toEqual([
      ['root.0.0', ['checkout-urgent']],
      ['root.2', ['shop']],
    ]);
  });

  it('matches on kind, message and labels, and falls back to the parent', () => {
    expect(
      ids(t, event({ namespace: '', kind: 'Node', name: 'node-3', reason: 'NodeNotReady', labels: {} })),
    ).toEqual(['root.1']);
    expect(ids(t, event({ namespace: 'pay', message: 'exceeded QUOTA for cpu', labels: {} }))).toEqual([
      'root.3',
    ]);
    expect(t.route(event({ namespace: 'pay', labels: {} })).map((r) => [r.id, r.robots])).toEqual([
      ['root', ['oncall']],
    ]);
  });

  it('passes robots, template and group wait down to children that do not set them', () => {
    const inherit = tree(`
route:
  robots: [oncall]
  template: short
  groupWait: 1m
  routes:
    - match: { namespace: "web-?" }
      groupWait: 10s
`);
    expect(inherit.route(event({ namespace: 'web-1' }))).toEqual([
      { id: 'root.0', robots: ['oncall'], template: 'short', groupWaitMs: 10_000 },
    ]);
    expect(inherit.route(event({ namespace: 'web-10' }))[0]!.id).toBe('root');
  });

  it('refuses a bad routing file with the path of each mistake', () => {
    expect(() =>
      tree(`
route:
  match: { namespace: shop }
  routes:
    - match: { reason: "/(unclosed/" }
    - match: { colour: red }
`),
    ).toThrow(
      /route\.routes\[0\]\.match\.reason: .*regular expression[\s\S]*route\.routes\[1\]\.match\.colour: unknown key[\s\S]*route\.match: the root route/,
    );
  });
});
