import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeAnswer,
  FakeApiServer,
  type FakeRequest,
  statusAnswer,
} from '../../core/kube/fixtures/fake-api-server.ts';
import { Metrics } from '../../core/metrics.ts';
import { captureLog, robotsConfig } from '../../test/robots/harness.ts';
import { startRobotServer } from '../../test/robots/robot-server.ts';
import { ChatRobots } from '../chat-robots.ts';
import type { Entry } from '../compose.ts';
import { ConfigMapOutboxStore, OutboxDeposedError, OWNER_ANNOTATION } from './config-map-store.ts';

const PATH = '/api/v1/namespaces/ns/configmaps/outbox';

/** One ConfigMap kept the way the API server keeps it: every write must carry the current resourceVersion. */
class FakeConfigMap {
  object: V1ConfigMap | undefined;
  private version = 0;

  handle = (request: FakeRequest): FakeAnswer => {
    if (request.method === 'GET') return this.object ? { status: 200, body: this.object } : statusAnswer(404);
    const body = request.body as V1ConfigMap;
    if (request.method === 'POST') {
      if (this.object) return statusAnswer(409);
      return this.store(body);
    }
    if (request.method === 'PUT') {
      if (!this.object) return statusAnswer(404);
      if (body.metadata?.resourceVersion !== this.object.metadata?.resourceVersion) return statusAnswer(409);
      return this.store(body);
    }
    return statusAnswer(405);
  };

  /** Another writer changed the object: its resourceVersion moves on. */
  touch(annotations?: Record<string, string>): void {
    this.store({
      ...this.object,
      metadata: { ...this.object!.metadata, ...(annotations && { annotations }) },
    });
  }

  private store(body: V1ConfigMap): FakeAnswer {
    this.object = {
      ...body,
      metadata: { ...body.metadata, namespace: 'ns', resourceVersion: String(++this.version) },
    };
    return { status: 200, body: this.object };
  }
}

const entry = (title: string, text = 'details'): Entry => ({
  outgoing: { title, text } as unknown as Entry['outgoing'],
  enqueuedAt: 0,
  shrunk: false,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function cluster() {
  const configMap = new FakeConfigMap();
  const server = await new FakeApiServer(configMap.handle).start();
  cleanups.push(() => server.close());
  const { log, lines } = captureLog();
  const claim = (owner: string, maxBytes = 900_000) =>
    ConfigMapOutboxStore.claim({
      kube: server.client(),
      namespace: 'ns',
      name: 'outbox',
      owner,
      maxBytes,
      log,
      retry: { initialMs: 10, maxMs: 10 },
    });
  return { configMap, server, claim, lines };
}

describe('ConfigMapOutboxStore', () => {
  it('keeps what waits and the send log for the next leader, which claims the object', async () => {
    const { configMap, claim } = await cluster();
    const first = await claim('a');
    expect(configMap.object?.metadata?.annotations?.[OWNER_ANNOTATION]).toBe('a');
    const { outbox } = first.openOutbox('ops');
    const [one, two, three] = [entry('one'), entry('two'), entry('three')];
    outbox.add([one!, two!, three!], 0);
    outbox.remove([one!], 0);
    await first.sendLog('ops').save('robot-1', { sent: [1, 2], blockedUntil: 5 });

    const next = await claim('b');
    expect(configMap.object?.metadata?.annotations?.[OWNER_ANNOTATION]).toBe('b');
    expect(next.openOutbox('ops').entries.map((e) => e.outgoing.title)).toEqual(['two', 'three']);
    expect(next.sendLog('ops').load('robot-1')).toEqual({ sent: [1, 2], blockedUntil: 5 });
    expect(next.sendLog('ops').load('another robot')).toBeUndefined();
  });

  it("keeps a process's own document beside the robots' data for the next leader", async () => {
    const { configMap, claim } = await cluster();
    const first = await claim('a');
    first.openOutbox('ops').outbox.add([entry('one')!], 0);
    await first.document('alert-notifications').save('{"entries":[]}');
    expect(configMap.object?.data?.['_alert-notifications.json']).toBe('{"entries":[]}');
    const next = await claim('b');
    expect(next.document('alert-notifications').load()).toBe('{"entries":[]}');
    expect(next.openOutbox('ops').entries).toHaveLength(1);
  });

  it('a deposed leader cannot overwrite the new leader: its write conflicts and it writes no more', async () => {
    const { configMap, claim, lines } = await cluster();
    const old = await claim('a');
    old.openOutbox('ops').outbox.add([entry('kept by a')], 0);
    await old.flush();
    const leader = await claim('b');
    leader.openOutbox('ops').outbox.add([entry('from b')], 0);
    await leader.flush();
    const written = configMap.object!.metadata!.resourceVersion;

    old.openOutbox('ops').outbox.add([entry('late write of a')], 0);
    await expect(old.flush()).rejects.toBeInstanceOf(OutboxDeposedError);
    await expect(old.flush()).rejects.toBeInstanceOf(OutboxDeposedError);
    expect(configMap.object!.metadata!.resourceVersion).toBe(written);
    expect(configMap.object!.data!['ops.json']).toContain('from b');
    expect(configMap.object!.data!['ops.json']).not.toContain('late write of a');
    expect(lines.join('\n')).toContain('another replica took over the robot outbox');
  });

  it('a conflict with its own earlier write (an answer lost) is read again and written', async () => {
    const { configMap, claim } = await cluster();
    const store = await claim('a');
    configMap.touch();
    store.openOutbox('ops').outbox.add([entry('after the lost answer')], 0);
    await store.flush();
    expect(configMap.object!.data!['ops.json']).toContain('after the lost answer');
  });

  it('a claim that races another write reads again and claims once more', async () => {
    const { configMap, claim } = await cluster();
    await claim('a');
    let raced = false;
    const racing = new FakeApiServer((request) => {
      if (request.method === 'PUT' && !raced) {
        raced = true;
        configMap.touch();
      }
      return configMap.handle(request);
    });
    await racing.start();
    cleanups.push(() => racing.close());
    const store = await ConfigMapOutboxStore.claim({
      kube: racing.client(),
      namespace: 'ns',
      name: 'outbox',
      owner: 'b',
      maxBytes: 900_000,
      log: captureLog().log,
    });
    expect(raced).toBe(true);
    expect(configMap.object?.metadata?.annotations?.[OWNER_ANNOTATION]).toBe('b');
    expect(racing.count('PUT', PATH)).toBe(2);
    await store.close();
  });

  it('bounds each robot to its share of maxBytes', async () => {
    const { claim } = await cluster();
    const store = await claim('a', 4_000);
    const ops = store.openOutbox('ops').outbox;
    store.openOutbox('dev');
    ops.add([entry('small')], 0);
    expect(ops.fits()).toBe(true);
    ops.add([entry('large', 'x'.repeat(2_000))], 0);
    expect(ops.fits()).toBe(false);
  });

  it('unreadable robot data is moved aside under another key, not emptied', async () => {
    const { configMap, claim } = await cluster();
    await claim('a');
    configMap.object!.data = { 'ops.json': '{not json' };
    const store = await claim('b');
    const opened = store.openOutbox('ops');
    expect(opened.entries).toEqual([]);
    expect(opened.corrupt?.movedTo).toBe('ops.corrupt');
    opened.outbox.add([entry('new')], 0);
    await store.flush();
    expect(configMap.object!.data!['ops.corrupt']).toBe('{not json');
  });
});

/** Robot `ops` on a robot test double, and chat robots (one per replica) that send to it only while leading. */
async function robotBed() {
  const robotServer = await startRobotServer();
  cleanups.push(() => robotServer.close());
  const ops = robotServer.dingtalk({ name: 'ops' });
  const replica = async () => {
    const metrics = new Metrics({ defaults: false });
    const dataDir = mkdtempSync(join(tmpdir(), 'lookout-notify-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const chat = new ChatRobots({
      robots: robotsConfig({ ops: { ...ops, timeout: '300ms' } }),
      log: captureLog().log,
      metrics,
      dataDir,
    });
    chat.sendOnlyWhileLeading();
    await chat.start();
    cleanups.unshift(() => chat.unlead());
    return { chat, metrics };
  };
  const texts = () => robotServer.accepted('ops').map((m) => m.text);
  return { robotServer, replica, texts };
}

const alert = (title: string, text = 'details') => ({ title, text, severity: 'warning' as const });

describe('chat robots on a ConfigMap outbox', () => {
  it('a standby neither sends nor replays; the leader sends what the last one left, and after unlead writes no more', async () => {
    const { configMap, claim } = await cluster();
    const { robotServer, replica, texts } = await robotBed();
    const old = await replica();
    const { chat } = await replica();
    robotServer.setFailure('ops', 'hang');
    old.chat.lead(await claim('a'));
    old.chat.send(['ops'], alert('left by the old leader'));
    await old.chat.flush();
    await old.chat.unlead();
    const left = configMap.object!.metadata!.resourceVersion;

    expect(chat.send(['ops'], alert('sent by a standby')).queued).toEqual([]);
    expect(configMap.object!.metadata!.resourceVersion).toBe(left);
    robotServer.setFailure('ops', undefined);
    chat.lead(await claim('b'));
    await chat.idle();
    expect(texts().filter((text) => text.includes('left by the old leader'))).toHaveLength(1);
    expect(texts().some((text) => text.includes('sent by a standby'))).toBe(false);
  });

  it('a robot over its share merges the oldest into a digest, so the object stays bounded and nothing is lost', async () => {
    const { configMap, claim } = await cluster();
    const { robotServer, replica, texts } = await robotBed();
    const { chat, metrics } = await replica();
    robotServer.setFailure('ops', 'hang');
    chat.lead(await claim('a', 12_000));
    const titles = Array.from({ length: 12 }, (_, i) => `incident-${String(i).padStart(2, '0')}`);
    for (const title of titles) chat.send(['ops'], alert(title, 'y'.repeat(1_500)));
    await chat.flush();
    expect(configMap.object!.data!['ops.json']!.length).toBeLessThan(14_000);
    const merged = (await metrics.registry.getSingleMetric('lookout_notify_outbox_merged_total')?.get())
      ?.values;
    expect(merged?.[0]?.value).toBeGreaterThan(0);
    robotServer.setFailure('ops', undefined);
    await chat.idle();
    for (const title of titles) expect(texts().filter((text) => text.includes(title))).toHaveLength(1);
  });
});
