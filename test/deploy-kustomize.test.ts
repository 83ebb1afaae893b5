import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUDGET_WITHOUT_LIMIT, v8Flags } from '../core/memory-limit.ts';
import { run } from './infra/exec.ts';
import {
  type Access,
  adminKubeConfig,
  allowed,
  containersOf,
  documentedSecrets,
  mountConfigMap,
} from './support/deployed.ts';
import { apply, DEPLOY, named, objectApi, ofKind, type Rendered, render } from './support/kustomize.ts';
import { eventually } from './support/lookout-process.ts';

/**
 * deploy/ as a team uses it: each overlay and component rendered by kustomize,
 * checked as an SRE reviews manifests, and applied to the real kube-apiserver
 * (server-side dry run, then for real) in a namespace of the test's own.
 */

const ROOT = join(DEPLOY, '..');
const CLI = join(ROOT, 'bin', 'lookout.js');
const LOOKOUT_COMMANDS = new Set(['sidecar', 'collector', 'event-router', 'alert-rules']);
const SECRETS = documentedSecrets();
const namespaces: string[] = [];
let dir: string;

function testNamespace(prefix: string): string {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  namespaces.push(name);
  return name;
}

const RENDERINGS = {
  'single-node': { dir: 'overlays/single-node' },
  production: { dir: 'overlays/production' },
  'production with collector-autoscaling': {
    dir: 'overlays/production',
    components: ['collector-autoscaling'],
  },
  'sidecar-injection': { dir: 'sidecar-injection' },
  'sidecar-injection with classic-sidecar': { dir: 'sidecar-injection', components: ['classic-sidecar'] },
} as const;

const workloads = (objects: Rendered[]) =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');

/** A container that runs `lookout <command>`, as opposed to the application's or the state directory's. */
const isLookout = (container: Rendered) => LOOKOUT_COMMANDS.has(container.args?.[0]);

/** The one container that runs as root: it hands the node agent's hostPath directory to the agent's user. */
const isStateOwner = (container: Rendered) => container.name === 'own-state';

/** Lookout's configuration file mounted into the container, and the ConfigMap it comes from. */
function configOf(objects: Rendered[], workload: Rendered, container: Rendered) {
  const config = container.args[container.args.indexOf('--config') + 1] as string;
  const mount = container.volumeMounts.find((m: Rendered) => config.startsWith(`${m.mountPath}/`));
  const volume = workload.spec.template.spec.volumes.find((v: Rendered) => v.name === mount.name);
  const configMap = named(objects, 'ConfigMap', volume.configMap.name);
  return { mountPath: mount.mountPath as string, configMap, file: config.slice(mount.mountPath.length + 1) };
}

/** Every value under a key that names a credential, at any depth of a configuration. */
function credentialValues(value: unknown, key = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => credentialValues(v, key));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => credentialValues(v, k));
  }
  return /token|secret|password|key$|apikey/i.test(key) ? [String(value)] : [];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-deploy-'));
});

afterAll(async () => {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  // With no namespace controller they stay Terminating; marked all the same.
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe.each(Object.entries(RENDERINGS))('%s', (_, rendering) => {
  let objects: Rendered[];

  beforeAll(async () => {
    objects = await render(rendering.dir, {
      components: 'components' in rendering ? [...rendering.components] : [],
    });
  });

  it('runs every pod as non-root, read-only, without capabilities, under RuntimeDefault, with requests and a memory limit', () => {
    expect(workloads(objects).length).toBeGreaterThan(0);
    for (const workload of workloads(objects)) {
      const pod = workload.spec.template.spec;
      const where = `${workload.kind} ${workload.metadata.name}`;
      expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
      expect(pod.securityContext?.seccompProfile, where).toEqual({ type: 'RuntimeDefault' });
      for (const container of containersOf(workload)) {
        const at = `${where}, ${container.name}`;
        const security = container.securityContext;
        expect(security?.readOnlyRootFilesystem, at).toBe(true);
        expect(security?.allowPrivilegeEscalation, at).toBe(false);
        expect(security?.capabilities?.drop, at).toEqual(['ALL']);
        if (isStateOwner(container)) {
          expect(security).toMatchObject({ runAsUser: 0, capabilities: { add: ['CHOWN'] } });
          expect(container.command?.join(' ')).toMatch(
            /^node -e .*chownSync\('\/var\/lib\/lookout', 10001, 10001\)/,
          );
        } else {
          expect(security?.runAsUser ?? pod.securityContext.runAsUser, at).not.toBe(0);
          expect(security?.capabilities?.add, at).toBeUndefined();
        }
        expect(Object.keys(container.resources?.requests ?? {}).sort(), at).toEqual(['cpu', 'memory']);
        expect(container.resources?.limits?.memory, at).toBeDefined();
      }
    }
  });

  it('probes each Lookout process on its own /healthz, and on /readyz where readiness is its own', () => {
    for (const workload of workloads(objects)) {
      for (const container of containersOf(workload).filter(isLookout)) {
        const at = `${workload.metadata.name}, ${container.name}`;
        const ports = container.ports.map((p: Rendered) => p.name);
        expect(container.livenessProbe?.httpGet?.path, at).toBe('/healthz');
        expect(ports, at).toContain(container.livenessProbe.httpGet.port);
        // The sidecar's readiness would be the application's pod's: it has none (docs/deploy.md).
        if (container.args[0] === 'sidecar' && workload.kind === 'Deployment') {
          expect(container.readinessProbe, at).toBeUndefined();
        } else {
          expect(container.readinessProbe?.httpGet?.path, at).toBe('/readyz');
          expect(ports, at).toContain(container.readinessProbe.httpGet.port);
        }
        const { mountPath, configMap, file } = configOf(objects, workload, container);
        const config = parse(configMap.data[file]);
        // The kubelet probes the pod's address: the server must listen there, on the probed port.
        const port = container.ports.find((p: Rendered) => p.name === container.livenessProbe.httpGet.port);
        expect(config.http.listen, at).toBe(`0.0.0.0:${port.containerPort}`);
        expect(mountPath, at).toBe('/etc/lookout');
        // Every mount has its volume, and the data directory is a writable one.
        const volumes = new Map(workload.spec.template.spec.volumes.map((v: Rendered) => [v.name, v]));
        for (const mount of container.volumeMounts) expect(volumes.has(mount.name), mount.name).toBe(true);
        const data = container.volumeMounts.find((m: Rendered) => m.mountPath === config.dataDir);
        expect(data?.readOnly, `${at}: dataDir ${config.dataDir}`).not.toBe(true);
      }
    }
  });

  it('keeps credentials in Secrets: every ${VAR} is given by the pod or a documented Secret, no ConfigMap holds one', () => {
    for (const configMap of ofKind(objects, 'ConfigMap')) {
      for (const [file, text] of Object.entries(configMap.data as Record<string, string>)) {
        for (const value of credentialValues(parse(text))) {
          expect(value, `${configMap.metadata.name}/${file}`).toMatch(/^\$\{[A-Z_]+\}$/);
        }
      }
    }
    for (const workload of workloads(objects)) {
      for (const container of containersOf(workload).filter(isLookout)) {
        const { configMap, file } = configOf(objects, workload, container);
        const needed = [...(configMap.data[file] as string).matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]);
        const given = new Set<string>(container.env?.map((e: Rendered) => e.name) ?? []);
        for (const from of container.envFrom ?? []) {
          const keys = SECRETS.get(from.secretRef.name);
          expect(keys, `the Secret ${from.secretRef.name} is in docs/deploy.md`).toBeDefined();
          for (const key of keys ?? []) given.add(key);
        }
        for (const variable of needed) expect(given, `${container.name}: ${variable}`).toContain(variable);
      }
    }
  });

  it('has configurations that lookout check-config accepts', async () => {
    for (const workload of workloads(objects)) {
      for (const container of containersOf(workload).filter(isLookout)) {
        const { mountPath, configMap, file } = configOf(objects, workload, container);
        const mounted = join(dir, `${configMap.metadata.name}-${randomUUID().slice(0, 8)}`);
        await mountConfigMap(configMap, mountPath, mounted, join(mounted, 'data'));
        const env = Object.fromEntries(
          [...SECRETS.values()].flat().map((key) => [key, `${key.toLowerCase()}-0123456789abcdef`]),
        );
        const output = await run(process.execPath, [CLI, 'check-config', '--config', join(mounted, file)], {
          env: { ...process.env, ...env },
        });
        expect(output).toContain('valid');
      }
    }
  });

  it('is accepted by kube-apiserver in a server-side dry run, then applied and read back as rendered', async () => {
    const namespace = testNamespace('deploy');
    const placed = await render(rendering.dir, {
      namespace,
      components: 'components' in rendering ? [...rendering.components] : [],
    });
    await installServiceMonitorCrd();
    // The namespace for real first (the sidecar example names none: the test's overlay does).
    await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    await apply(placed, { dryRun: true });
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    expect((await apps.listNamespacedDeployment({ namespace })).items).toEqual([]);
    await apply(placed);

    const api = objectApi();
    for (const object of placed) {
      const stored = await api.read({
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
      });
      expect(stored.metadata?.uid, `${object.kind} ${object.metadata.name}`).toBeTruthy();
      if (object.kind === 'ConfigMap') expect((stored as Rendered).data).toEqual(object.data);
      if (object.kind === 'Deployment' || object.kind === 'DaemonSet') {
        // What the checks above read is what the API server keeps, defaults aside.
        const template = (stored as Rendered).spec.template.spec;
        expect(template.securityContext).toMatchObject(object.spec.template.spec.securityContext);
        for (const container of containersOf(object)) {
          const kept = containersOf(stored as Rendered).find((c) => c.name === container.name);
          expect(kept?.securityContext, container.name).toEqual(container.securityContext);
          expect(kept?.resources, container.name).toEqual(container.resources);
          expect(kept?.restartPolicy, container.name).toEqual(container.restartPolicy);
        }
      }
      // Every namespaced object went to the namespace the overlay names, role binding subjects too.
      if (object.metadata.namespace) expect(object.metadata.namespace).toBe(namespace);
      for (const subject of object.subjects ?? []) expect(subject.namespace ?? namespace).toBe(namespace);
    }
  });
});

/**
 * The Prometheus Operator's CRD, cut to what a ServiceMonitor needs to be
 * stored: the operator's own schema is not part of the test.
 */
async function installServiceMonitorCrd(): Promise<void> {
  const name = 'servicemonitors.monitoring.coreos.com';
  await apply([
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind: 'ServiceMonitor', plural: 'servicemonitors', singular: 'servicemonitor' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
              },
            },
          },
        ],
      },
    },
  ]);
  // Established comes before the API server's schema for server-side apply is in place: wait for that.
  const probe: Rendered = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'probe', namespace: 'default' },
    spec: {},
  };
  await eventually(
    () => apply([probe], { dryRun: true }).then(() => true),
    (ready) => ready,
    'the ServiceMonitor CRD to take server-side apply',
    20_000,
  );
}

describe('RBAC of the production overlay, asked of the API server', () => {
  let namespace: string;

  beforeAll(async () => {
    namespace = testNamespace('deploy-rbac');
    await installServiceMonitorCrd();
    await apply(await render('overlays/production', { namespace }));
  });

  const can = (account: string, access: Access) => allowed(namespace, `lookout-${account}`, access);
  const own = (access: Omit<Access, 'namespace'>) => ({ ...access, namespace });

  it('lets the event router watch events and look up their objects, and keep only its own Lease and ConfigMaps', async () => {
    for (const group of ['', 'events.k8s.io']) {
      for (const verb of ['list', 'watch'])
        expect(await can('event-router', { verb, resource: 'events', group })).toBe(true);
      expect(await can('event-router', { verb: 'create', resource: 'events', group })).toBe(false);
    }
    expect(await can('event-router', { verb: 'get', resource: 'pods', namespace: 'shop' })).toBe(true);
    expect(
      await can('event-router', { verb: 'get', resource: 'cronjobs', group: 'batch', namespace: 'shop' }),
    ).toBe(true);
    expect(await can('event-router', { verb: 'list', resource: 'pods' })).toBe(false);
    expect(await can('event-router', { verb: 'get', resource: 'secrets', namespace })).toBe(false);
    const lease = { resource: 'leases', group: 'coordination.k8s.io' };
    expect(await can('event-router', own({ verb: 'create', ...lease }))).toBe(true);
    expect(await can('event-router', own({ verb: 'update', ...lease, name: 'lookout-event-router' }))).toBe(
      true,
    );
    expect(await can('event-router', own({ verb: 'update', ...lease, name: 'lookout-alert-rules' }))).toBe(
      false,
    );
    expect(await can('event-router', { verb: 'create', ...lease, namespace: 'kube-system' })).toBe(false);
    for (const name of ['lookout-event-router-state', 'lookout-event-router-outbox']) {
      expect(await can('event-router', own({ verb: 'update', resource: 'configmaps', name }))).toBe(true);
    }
    expect(
      await can('event-router', own({ verb: 'get', resource: 'configmaps', name: 'lookout-collector' })),
    ).toBe(false);
  });

  it('lets alert-rules reach nothing but its Lease and its outbox and silences ConfigMaps', async () => {
    const lease = { resource: 'leases', group: 'coordination.k8s.io' };
    expect(await can('alert-rules', own({ verb: 'get', ...lease, name: 'lookout-alert-rules' }))).toBe(true);
    expect(await can('alert-rules', own({ verb: 'get', ...lease, name: 'lookout-event-router' }))).toBe(
      false,
    );
    for (const name of ['lookout-alert-rules-outbox', 'lookout-alert-rules-silences']) {
      expect(await can('alert-rules', own({ verb: 'update', resource: 'configmaps', name }))).toBe(true);
    }
    expect(await can('alert-rules', { verb: 'list', resource: 'events' })).toBe(false);
    expect(await can('alert-rules', own({ verb: 'list', resource: 'configmaps' }))).toBe(false);
  });

  it('lets the node agent list and watch pods, and nothing else', async () => {
    for (const verb of ['list', 'watch'])
      expect(await can('node-agent', { verb, resource: 'pods' })).toBe(true);
    expect(await can('node-agent', { verb: 'get', resource: 'secrets', namespace })).toBe(false);
    expect(await can('node-agent', { verb: 'list', resource: 'nodes' })).toBe(false);
    expect(await can('node-agent', { verb: 'update', resource: 'pods', namespace })).toBe(false);
  });

  it('gives the collector no token at all', async () => {
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    const collector = await apps.readNamespacedDeployment({ namespace, name: 'lookout-collector' });
    expect(collector.spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });
});

describe('the ServiceMonitor of the production overlay', () => {
  it("scrapes every Lookout Service's http port and keeps the node agent's namespace, pod and container labels", async () => {
    const objects = await render('overlays/production', {});
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    expect(monitors).toHaveLength(1);
    const [monitor] = monitors;
    expect(monitor!.spec.endpoints).toEqual([
      expect.objectContaining({ port: 'http', path: '/metrics', honorLabels: true }),
    ]);
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(
      ['collector', 'event-router', 'alert-rules', 'node-agent'].map((n) => `lookout-${n}`).sort(),
    );
    for (const service of services) {
      expect(service.metadata.labels, service.metadata.name).toMatchObject(
        monitor!.spec.selector.matchLabels,
      );
      expect(
        service.spec.ports.map((p: Rendered) => p.name),
        service.metadata.name,
      ).toContain('http');
    }
  });
});

describe('deploy/image/Containerfile', () => {
  const text = readFileSync(join(DEPLOY, 'image', 'Containerfile'), 'utf8');
  const lines = text.split('\n').filter((line) => line && !line.startsWith('#'));
  const finalStage = lines.slice(lines.findLastIndex((line) => line.startsWith('FROM ')));

  it('builds on Node 24 slim, runs node bin/lookout.js as the user every pod runs as', () => {
    for (const from of lines.filter((line) => line.startsWith('FROM '))) {
      expect(from).toMatch(/^FROM docker\.io\/library\/node:24-slim\b/);
    }
    const users = finalStage.filter((line) => line.startsWith('USER '));
    expect(users.at(-1)).toBe('USER 10001:10001');
    expect(finalStage).toContain('ENTRYPOINT ["node", "bin/lookout.js"]');
    const deployed = readFileSync(join(DEPLOY, 'base', 'collector', 'deployment.yaml'), 'utf8');
    expect(deployed).toContain('runAsUser: 10001');
  });

  it('holds every folder the commands load, production dependencies only, and the built console', () => {
    const copied = new Set(lines.flatMap((line) => /^COPY (\S+) \1$/.exec(line)?.[1] ?? []));
    for (const folder of foldersLoadedFrom(join(ROOT, 'bin', 'lookout.js'))) expect(copied).toContain(folder);
    expect(text).toMatch(/npm prune --omit=dev/);
    expect(text).toMatch(/npx vite build dashboards\/web/);
    expect(finalStage.join('\n')).toMatch(/COPY --from=build \/app \/app/);
    expect(text).toMatch(/cp -r dashboards\/web\/dist \/app\/dashboards\/web\/dist/);
  });

  it('warms the compile cache as that user, for each set of V8 flags, and a start then compiles nothing', async () => {
    const cacheLine = finalStage.findIndex((line) => line.includes('NODE_COMPILE_CACHE=/app/.compile-cache'));
    const user = finalStage.indexOf('USER 10001:10001');
    const warm = finalStage.findIndex((line) => line.includes('node deploy/image/warm-compile-cache.js'));
    expect(cacheLine).toBeGreaterThan(-1);
    expect(user).toBeGreaterThan(cacheLine);
    expect(warm).toBeGreaterThan(user);

    // The flags a sidecar starts again with, less the heap sizes (which are not part of the cache's key).
    const sidecarFlags = v8Flags('sidecar', BUDGET_WITHOUT_LIMIT.sidecar!).filter(
      (flag) => !flag.startsWith('--max-'),
    );
    expect(finalStage.join('\n')).toContain(
      `node ${sidecarFlags.join(' ')} deploy/image/warm-compile-cache.js`,
    );

    const cache = join(dir, 'compile-cache');
    const env = { ...process.env, NODE_COMPILE_CACHE: cache };
    for (const flags of [[], sidecarFlags]) {
      expect(
        await run(process.execPath, [...flags, join(DEPLOY, 'image', 'warm-compile-cache.js')], { env }),
      ).toMatch(/compiled \d+ modules/);
      await run(process.execPath, [...flags, CLI, '--help'], { env });
      // Node's own account of each module of a start (to stderr, which run() gathers): a check of the
      // production configurations loads every component's schema.
      const start = await run(
        process.execPath,
        [...flags, CLI, 'check-config', '--config', join(ROOT, 'examples', 'all-in-one.yaml')],
        { env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } },
      );
      expect(start.match(/was accepted/g)?.length).toBeGreaterThan(50);
      expect(start).not.toMatch(/was not initialized|was rejected/);
    }
  });
});

/** The top-level folders of the modules a file loads, following relative imports to the end. */
function foldersLoadedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      pending.push(resolve(dirname(file), match[1]!));
    }
  }
  return new Set([...seen].map((file) => relative(ROOT, file).split('/')[0]!));
}
