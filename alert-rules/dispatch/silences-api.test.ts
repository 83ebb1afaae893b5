import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { Metrics } from '../../core/metrics.ts';
import { captureLog } from '../../test/robots/harness.ts';
import { FileSilenceStore } from './silence-store.ts';
import { Silences, silencesSchema } from './silences.ts';
import { registerSilenceApi } from './silences-api.ts';

const VIEWER = 'viewer-token-0123456789';
const EDITOR = 'editor-token-0123456789';
const NOW = Date.parse('2026-12-02T10:00:00Z');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function server(): Promise<HttpApp> {
  const dir = mkdtempSync(join(tmpdir(), 'silences-api-'));
  const { log } = captureLog();
  const metrics = new Metrics({ defaults: false });
  const clock = new ManualClock(NOW);
  const silences = await Silences.open({
    store: new FileSilenceStore(dir),
    settings: silencesSchema.parse({}),
    log,
    clock,
  });
  const config = httpSchema.parse({
    listen: '127.0.0.1:0',
    auth: {
      tokens: [
        { name: 'viewer', token: VIEWER, role: 'viewer' },
        { name: 'editor', token: EDITOR, role: 'editor' },
      ],
    },
  });
  const http = createHttpApp({ config, log, metrics });
  registerSilenceApi(
    http,
    () => silences,
    () => clock.now(),
  );
  cleanups.push(async () => {
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return http;
}

function call(http: HttpApp, method: 'GET' | 'POST' | 'DELETE', url: string, token: string, body?: unknown) {
  return http.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    payload: body as object,
  });
}

const silence = (overrides: Record<string, unknown> = {}) => ({
  matchers: [{ name: 'alertname', value: 'DiskFull', isRegex: false }],
  startsAt: '2026-12-02T10:00:00Z',
  endsAt: '2026-12-02T12:00:00Z',
  createdBy: 'alice',
  comment: 'disk replaced tonight',
  ...overrides,
});

describe('silence API', () => {
  it('creates, lists, reads and expires silences in the shapes of Alertmanager API v2', async () => {
    const http = await server();
    const created = await call(http, 'POST', '/api/v2/silences', EDITOR, silence());
    expect(created.statusCode).toBe(200);
    const { silenceID } = created.json() as { silenceID: string };
    const listed = await call(http, 'GET', '/api/v2/silences', VIEWER);
    expect(listed.json()).toEqual([
      {
        id: silenceID,
        status: { state: 'active' },
        updatedAt: '2026-12-02T10:00:00.000Z',
        matchers: [{ name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true }],
        startsAt: '2026-12-02T10:00:00.000Z',
        endsAt: '2026-12-02T12:00:00.000Z',
        createdBy: 'alice',
        comment: 'disk replaced tonight',
      },
    ]);
    expect((await call(http, 'GET', `/api/silences/${silenceID}`, VIEWER)).json()).toMatchObject({
      id: silenceID,
    });
    expect((await call(http, 'DELETE', `/api/v2/silence/${silenceID}`, EDITOR)).statusCode).toBe(200);
    const after = await call(http, 'GET', `/api/v2/silence/${silenceID}`, VIEWER);
    expect(after.json()).toMatchObject({ status: { state: 'expired' }, endsAt: '2026-12-02T10:00:00.000Z' });
    expect((await call(http, 'DELETE', `/api/silences/${silenceID}`, EDITOR)).statusCode).toBe(400);
    expect((await call(http, 'DELETE', '/api/silences/nope', EDITOR)).statusCode).toBe(404);
    expect((await call(http, 'GET', '/api/silences/nope', VIEWER)).statusCode).toBe(404);
  });

  it('needs an editor to change silences', async () => {
    const http = await server();
    expect((await call(http, 'POST', '/api/silences', VIEWER, silence())).statusCode).toBe(403);
    expect((await call(http, 'GET', '/api/silences', VIEWER)).statusCode).toBe(200);
  });

  it('answers errors on the Alertmanager paths as Alertmanager does, with a JSON string', async () => {
    const http = await server();
    const refused = await call(http, 'POST', '/api/v2/silences', EDITOR, silence({ matchers: [] }));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toBe('matchers: expected at least 1 items, got a list');
    expect((await call(http, 'DELETE', '/api/v2/silence/nope', EDITOR)).json()).toBe(
      'silence nope not found',
    );
  });

  it.each([
    [{ matchers: [] }, 'matchers: expected at least 1 items'],
    [{ startsAt: 'yesterday' }, 'startsAt: expected an RFC 3339 time, got "yesterday"'],
    [{ endsAt: '2026-12-02T10:00:00Z' }, 'start time must be before end time'],
    [{ startsAt: '2026-12-02T08:00:00Z', endsAt: '2026-12-02T09:00:00Z' }, "end time can't be in the past"],
    [{ matchers: [{ name: 'job', value: '(api', isRegex: true }] }, 'matcher 0: matcher job=~"(api"'],
    [
      { matchers: [{ name: 'job', value: '.*', isRegex: true }] },
      'at least one matcher must not match the empty string',
    ],
    [{ createdBy: undefined }, 'createdBy: expected string, got nothing'],
    [{ id: 'unknown' }, 'silence unknown not found'],
  ])('refuses a bad silence %#', async (overrides, message) => {
    const http = await server();
    const answer = await call(http, 'POST', '/api/silences', EDITOR, silence(overrides));
    expect(answer.statusCode).toBe(message.includes('not found') ? 404 : 400);
    expect((answer.json() as { error: string }).error).toContain(message);
  });

  it('lists in Alertmanager order and filters with matchers as amtool sends them', async () => {
    const http = await server();
    const ids: string[] = [];
    for (const overrides of [
      { endsAt: '2026-12-02T15:00:00Z' },
      { endsAt: '2026-12-02T11:00:00Z', matchers: [{ name: 'team', value: 'db', isRegex: false }] },
      { startsAt: '2026-12-02T13:00:00Z', endsAt: '2026-12-02T14:00:00Z' },
    ]) {
      ids.push(
        (
          (await call(http, 'POST', '/api/silences', EDITOR, silence(overrides))).json() as {
            silenceID: string;
          }
        ).silenceID,
      );
    }
    const list = (await call(http, 'GET', '/api/v2/silences', VIEWER)).json() as { id: string }[];
    expect(list.map((s) => s.id)).toEqual([ids[1], ids[0], ids[2]]);
    const filtered = await call(http, 'GET', '/api/v2/silences?filter=alertname%3D%22DiskFull%22', VIEWER);
    expect((filtered.json() as { id: string }[]).map((s) => s.id)).toEqual([ids[0], ids[2]]);
    const bad = await call(http, 'GET', '/api/v2/silences?filter=%7Bjob%3D%7E%22(%22%7D', VIEWER);
    expect(bad.statusCode).toBe(400);
  });
});
