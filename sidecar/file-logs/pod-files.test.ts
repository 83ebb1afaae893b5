import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { FileLogEntry } from './annotation.ts';
import { emptyDirPath, placeFileLogs } from './pod-files.ts';

const UID = '4f3a9c1e-2b7d-4e8f-9a06-c5d1e2f3a4b5';
const ROOT = '/var/lib/kubelet';
const DIR = `${ROOT}/pods/${UID}/volumes/kubernetes.io~empty-dir/app-logs`;

/** A pod whose app writes /logs into app-logs, with a shipper reading it at the same place. */
function spec(overrides: Partial<V1PodSpec> = {}): V1PodSpec {
  return {
    volumes: [
      { name: 'app-logs', emptyDir: {} },
      { name: 'config', configMap: { name: 'app' } },
    ],
    containers: [
      { name: 'shipper', volumeMounts: [{ name: 'app-logs', mountPath: '/logs', readOnly: true }] },
      { name: 'app', volumeMounts: [{ name: 'app-logs', mountPath: '/logs' }] },
    ],
    ...overrides,
  };
}

const place = (s: V1PodSpec, ...entries: FileLogEntry[]) => placeFileLogs(s, UID, entries, ROOT);
const entry = (pattern: string, volume = 'app-logs'): FileLogEntry => ({ volume, pattern });

describe('placing file logs on the node', () => {
  it('finds the volume where the kubelet keeps it', () => {
    expect(emptyDirPath(ROOT, UID, 'app-logs')).toBe(DIR);
    expect(emptyDirPath('/data/kubelet/', UID, 'x')).toBe(
      `/data/kubelet/pods/${UID}/volumes/kubernetes.io~empty-dir/x`,
    );
  });

  it('maps a path as the container sees it through that container’s mount, writers before readers', () => {
    expect(place(spec(), entry('/logs/*.log'), entry('/logs/app/**/*.log'))).toEqual({
      ok: true,
      value: [
        { container: 'app', dir: DIR, pattern: `${DIR}/*.log` },
        { container: 'app', dir: DIR, pattern: `${DIR}/app/**/*.log` },
      ],
    });
  });

  it('takes a relative pattern as inside the volume, and the same files named twice once', () => {
    expect(place(spec(), entry('debug/*.log'), entry('/logs/debug/*.log'))).toEqual({
      ok: true,
      value: [{ container: 'app', dir: DIR, pattern: `${DIR}/debug/*.log` }],
    });
  });

  it('picks the container whose mount reaches deepest into the pattern, and goes through its subPath', () => {
    const s = spec({
      containers: [
        { name: 'app', volumeMounts: [{ name: 'app-logs', mountPath: '/var/log' }] },
        {
          name: 'worker',
          volumeMounts: [{ name: 'app-logs', mountPath: '/var/log/worker/', subPath: './w/' }],
        },
      ],
    });
    expect(place(s, entry('/var/log/worker/*.log'), entry('/var/log/app.log'), entry('w/*.txt'))).toEqual({
      ok: true,
      value: [
        { container: 'worker', dir: DIR, pattern: `${DIR}/w/*.log` },
        { container: 'app', dir: DIR, pattern: `${DIR}/app.log` },
        { container: 'worker', dir: DIR, pattern: `${DIR}/w/*.txt` },
      ],
    });
  });

  it('takes the first container in spec order when mounts are alike, init containers last', () => {
    const mount = { name: 'app-logs', mountPath: '/logs' };
    const s = spec({
      initContainers: [{ name: 'log-agent', volumeMounts: [mount] }],
      containers: [
        { name: 'web', volumeMounts: [mount] },
        { name: 'api', volumeMounts: [mount] },
      ],
    });
    expect(place(s, entry('/logs/*.log'))).toMatchObject({ ok: true, value: [{ container: 'web' }] });
    const initOnly = spec({ initContainers: [{ name: 'log-agent', volumeMounts: [mount] }], containers: [] });
    expect(place(initOnly, entry('/logs/*.log'))).toMatchObject({
      ok: true,
      value: [{ container: 'log-agent' }],
    });
  });

  it('takes a mount at the root of the container', () => {
    const s = spec({ containers: [{ name: 'app', volumeMounts: [{ name: 'app-logs', mountPath: '/' }] }] });
    expect(place(s, entry('/app.log'))).toMatchObject({ ok: true, value: [{ pattern: `${DIR}/app.log` }] });
  });

  it.each([
    [entry('/logs/*.log', 'missing'), 'the pod has no volume missing'],
    [entry('/etc/app/*.conf', 'config'), 'volume config is not an emptyDir'],
    [entry('/var/log/*.log'), 'no container mounts volume app-logs where the pattern points'],
    [entry('/logsx/*.log'), 'no container mounts volume app-logs where the pattern points'],
    [entry('/lo*/app.log'), 'no container mounts volume app-logs where the pattern points'],
    [entry('/logs'), 'no container mounts volume app-logs where the pattern points'],
  ])('refuses %j', (given, reason) => {
    const placed = place(spec(), entry('/logs/fine.log'), given);
    expect(placed.ok).toBe(false);
    expect(!placed.ok && placed.reason).toContain(reason);
    expect(!placed.ok && placed.reason).toContain(`entry "${given.volume}:${given.pattern}"`);
  });

  it('refuses files only a subPathExpr mount shows, a relative pattern outside every subPath, and glob characters in a subPath', () => {
    const s = spec({
      containers: [
        { name: 'app', volumeMounts: [{ name: 'app-logs', mountPath: '/logs', subPathExpr: '$(POD_NAME)' }] },
        { name: 'side', volumeMounts: [{ name: 'app-logs', mountPath: '/side', subPath: 'side[1]' }] },
        { name: 'sub', volumeMounts: [{ name: 'app-logs', mountPath: '/sub', subPath: 'sub' }] },
      ],
    });
    expect(place(s, entry('/logs/*.log'))).toMatchObject({ ok: false });
    expect(place(s, entry('other/*.log'))).toMatchObject({ ok: false });
    expect(place(s, entry('/side/*.log'))).toMatchObject({
      ok: false,
      reason: 'entry "app-logs:/side/*.log": the subPath of its mount has glob characters',
    });
    expect(place(s, entry('/sub/*.log'))).toMatchObject({
      ok: true,
      value: [{ pattern: `${DIR}/sub/*.log` }],
    });
  });

  it('never leads out of the volume, whatever the spec says', () => {
    const s = spec({
      containers: [
        { name: 'app', volumeMounts: [{ name: 'app-logs', mountPath: '/logs', subPath: '../../..' }] },
      ],
    });
    expect(place(s, entry('/logs/*.log'))).toMatchObject({ ok: false });
    expect(placeFileLogs(spec(), '../other', [entry('/logs/*.log')], ROOT)).toMatchObject({ ok: false });
  });
});
