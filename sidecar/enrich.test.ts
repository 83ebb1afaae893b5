import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../core/config.ts';
import {
  enrichSchema,
  nodeSourceFields,
  parseContainerLogPath,
  parseLabels,
  readLabels,
  sidecarSourceFields,
  withFileService,
} from './enrich.ts';

const ID = `${'a'.repeat(38)}0123456789abcdef0123456789`;
const UID = '0b5e2d36-8f7b-4a8e-9c53-2f0f3c1d7a11';

// As the kubelet writes it: sorted keys, values in Go's %q quoting.
const LABELS = [
  'app="checkout"',
  'app.kubernetes.io/name="checkout-api"',
  'note="say \\"hi\\"\\n\\ttwice \\\\ ok"',
  'team="支付"',
  'bytes="\\xe4\\xb8\\xad\\u00e9\\U0001F680\\101"',
  'pod-template-hash="7d9f8b6c5"',
  'broken=no-quotes',
  '',
].join('\n');

describe('labels file', () => {
  it('reads Go-quoted values with escapes, bytes and unicode', () => {
    expect(parseLabels(LABELS)).toEqual({
      app: 'checkout',
      'app.kubernetes.io/name': 'checkout-api',
      note: 'say "hi"\n\ttwice \\ ok',
      team: '支付',
      bytes: '中é🚀A',
      'pod-template-hash': '7d9f8b6c5',
    });
  });

  it('reads no labels when the file is missing', async () => {
    expect(await readLabels(join(tmpdir(), 'lookout-no-such-dir', 'labels'))).toEqual({});
  });
});

describe('sidecar mode', () => {
  it('builds source fields from the Downward API environment and labels file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-enrich-'));
    const labelsFile = join(dir, 'labels');
    await writeFile(labelsFile, LABELS);
    const config = enrichSchema.parse({
      labelsFile,
      fields: { 'orchestrator.cluster.name': 'prod', env: 'staging' },
    });
    const env = {
      POD_NAME: 'checkout-7d9f8b6c5-x2x9z',
      POD_NAMESPACE: 'shop',
      POD_UID: UID,
      NODE_NAME: 'node-1',
      CONTAINER_NAME: 'app',
    };
    const fields = await sidecarSourceFields(config, env, 'checkout-7d9f8b6c5-x2x9z');
    expect(fields).toEqual({
      orchestrator: { cluster: { name: 'prod' } },
      env: 'staging',
      kubernetes: {
        namespace: 'shop',
        pod: { name: 'checkout-7d9f8b6c5-x2x9z', uid: UID },
        container: { name: 'app' },
        node: { name: 'node-1' },
        labels: {
          app: 'checkout',
          'app_kubernetes_io/name': 'checkout-api',
          note: 'say "hi"\n\ttwice \\ ok',
          team: '支付',
          bytes: '中é🚀A',
          'pod-template-hash': '7d9f8b6c5',
        },
      },
      host: { name: 'node-1' },
      service: { name: 'checkout-api' },
    });
  });

  it('fills no Kubernetes field outside Kubernetes, whatever else the environment holds', async () => {
    // Other container runtimes set CONTAINER_NAME too, to a name of their own.
    const env = { CONTAINER_NAME: 'uid-dvfnqz-dfmwrp', NODE_NAME: 'n', HOSTNAME: 'vm' };
    const fields = await sidecarSourceFields(enrichSchema.parse({}), env, 'vm-1');
    expect(fields).toEqual({ host: { name: 'vm-1' } });
    expect(withFileService(fields, '/var/log/app/checkout.2026-11-23.log.1')).toEqual({
      host: { name: 'vm-1' },
      service: { name: 'checkout' },
    });
    const named = enrichSchema.parse({ serviceName: 'shop', fields: { 'service.version': '1.2' } });
    const configured = await sidecarSourceFields(named, env, 'vm-1');
    expect(withFileService(configured, '/var/log/app/checkout.log')).toEqual({
      host: { name: 'vm-1' },
      service: { name: 'shop', version: '1.2' },
    });
    expect(withFileService({ service: { version: '1.2' } }, '/var/log/syslog')).toEqual({
      service: { version: '1.2', name: 'syslog' },
    });
  });

  it('works outside Kubernetes with custom variable names and no labels', async () => {
    const config = enrichSchema.parse({
      env: { podName: 'MY_POD' },
      labelsFile: join(tmpdir(), 'lookout-none', 'labels'),
      dedotLabels: false,
    });
    expect(await sidecarSourceFields(config, { MY_POD: 'p' }, 'vm-1')).toEqual({
      kubernetes: { pod: { name: 'p' } },
      host: { name: 'vm-1' },
    });
  });
});

describe('node mode', () => {
  it('reads /var/log/containers names', () => {
    expect(
      parseContainerLogPath(`/var/log/containers/checkout-7d9f8b6c5-x2x9z_shop_app-sidecar-${ID}.log`),
    ).toEqual({
      podName: 'checkout-7d9f8b6c5-x2x9z',
      namespace: 'shop',
      containerName: 'app-sidecar',
      containerId: ID,
    });
  });

  it('reads /var/log/pods paths, rotated files included', () => {
    const expected = {
      namespace: 'shop',
      podName: 'checkout-7d9f8b6c5-x2x9z',
      podUid: UID,
      containerName: 'app',
    };
    expect(parseContainerLogPath(`/var/log/pods/shop_checkout-7d9f8b6c5-x2x9z_${UID}/app/0.log`)).toEqual(
      expected,
    );
    expect(
      parseContainerLogPath(`/var/log/pods/shop_checkout-7d9f8b6c5-x2x9z_${UID}/app/3.log.20240102-030405`),
    ).toEqual(expected);
    expect(parseContainerLogPath('/var/log/syslog')).toBeUndefined();
    expect(parseContainerLogPath(`/var/log/containers/no-id_shop_app.log`)).toBeUndefined();
  });

  it('combines the link and its target, labels from elsewhere and the node name', () => {
    const config = enrichSchema.parse({
      serviceName: 'shop-checkout',
      fields: { 'kubernetes.cluster': 'prod' },
    });
    const fields = nodeSourceFields(
      config,
      [
        `/var/log/containers/checkout-7d9f8b6c5-x2x9z_shop_app-${ID}.log`,
        `/var/log/pods/shop_checkout-7d9f8b6c5-x2x9z_${UID}/app/0.log`,
      ],
      { labels: { 'app.kubernetes.io/name': 'checkout' } },
      { NODE_NAME: 'node-7' },
      'ignored-host',
    );
    expect(fields).toEqual({
      kubernetes: {
        cluster: 'prod',
        namespace: 'shop',
        pod: { name: 'checkout-7d9f8b6c5-x2x9z', uid: UID },
        container: { name: 'app' },
        node: { name: 'node-7' },
        labels: { 'app_kubernetes_io/name': 'checkout' },
      },
      container: { id: ID },
      host: { name: 'node-7' },
      service: { name: 'shop-checkout' },
    });
  });

  it('names the service after the container when no label says otherwise', () => {
    const config = enrichSchema.parse({ hostName: 'explicit' });
    const fields = nodeSourceFields(
      config,
      `/var/log/pods/kube-system_coredns-1_${UID}/coredns/0.log`,
      {},
      {},
      'h',
    );
    expect(fields).toMatchObject({ host: { name: 'explicit' }, service: { name: 'coredns' } });
  });
});

describe('schema', () => {
  it('documents its defaults and refuses static fields the record owns', () => {
    expect(validate(enrichSchema, {})).toEqual({
      ok: true,
      value: {
        env: {
          podName: 'POD_NAME',
          namespace: 'POD_NAMESPACE',
          podUid: 'POD_UID',
          nodeName: 'NODE_NAME',
          containerName: 'CONTAINER_NAME',
        },
        labelsFile: '/etc/podinfo/labels',
        serviceLabels: ['app.kubernetes.io/name', 'app'],
        dedotLabels: true,
        fields: {},
      },
    });
    const bad = validate(enrichSchema, { fields: { 'log.level': 'x', 'event.dataset': 'y', ok: 1 } });
    expect(bad.ok || bad.errors).toEqual([
      { path: 'fields.log.level', message: 'this field is set per record by the sidecar' },
      { path: 'fields.event.dataset', message: 'this field is set per record by the sidecar' },
    ]);
  });
});
