import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSilenceStore } from '../alert-rules/dispatch/silence-store.ts';
import { Silences, silencesSchema } from '../alert-rules/dispatch/silences.ts';
import { registerSilenceApi } from '../alert-rules/dispatch/silences-api.ts';
import { createHttpApp, type HttpApp } from '../core/http.ts';
import { httpSchema } from '../core/http-config.ts';
import { Metrics } from '../core/metrics.ts';
import { infraAddress } from './infra/control.ts';
import { captureLog } from './robots/harness.ts';

/**
 * The same silence requests to the real Alertmanager and to Lookout's silence
 * API: each must be accepted by both or refused by both. Every silence made
 * in Alertmanager matches only this run's own label, and is expired after.
 */

const run = randomUUID().slice(0, 8);
const HOUR = 3_600_000;
const alertmanager = () => infraAddress('alertmanager');

let http: HttpApp;
let dir: string;
const created: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'silences-compare-'));
  const { log } = captureLog();
  const silences = await Silences.open({
    store: new FileSilenceStore(dir),
    settings: silencesSchema.parse({}),
    log,
  });
  http = createHttpApp({
    config: httpSchema.parse({ listen: '127.0.0.1:0', auth: { enabled: false } }),
    log,
    metrics: new Metrics({ defaults: false }),
  });
  registerSilenceApi(http, () => silences);
});

afterAll(async () => {
  for (const id of created) await fetch(`${alertmanager()}/api/v2/silence/${id}`, { method: 'DELETE' });
  await http.close();
  rmSync(dir, { recursive: true, force: true });
});

const own = { name: 'lookout_check', value: run, isRegex: false };
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

function body(overrides: Record<string, unknown>) {
  return {
    matchers: [own],
    startsAt: at(0),
    endsAt: at(HOUR),
    createdBy: 'check',
    comment: 'comparison',
    ...overrides,
  };
}

describe('silence requests, Lookout against Alertmanager', () => {
  it.each([
    ['a plain silence', {}],
    ['a start in the past', { startsAt: at(-HOUR) }],
    ['a regex matcher', { matchers: [own, { name: 'job', value: 'api|web', isRegex: true }] }],
    [
      'a negative matcher beside',
      { matchers: [own, { name: 'env', value: 'prod', isRegex: false, isEqual: false }] },
    ],
    ['no matchers', { matchers: [] }],
    [
      'only a matcher of the empty string',
      { matchers: [{ name: 'lookout_check', value: '', isRegex: false }] },
    ],
    ['only .* ', { matchers: [{ name: 'lookout_check', value: '.*', isRegex: true }] }],
    ['a broken regex', { matchers: [own, { name: 'job', value: '(api', isRegex: true }] }],
    ['an end before the start', { startsAt: at(HOUR), endsAt: at(HOUR / 2) }],
    ['an end in the past', { startsAt: at(-2 * HOUR), endsAt: at(-HOUR) }],
    ['an unknown id', { id: randomUUID() }],
  ])('%s', async (_name, overrides) => {
    const request = body(overrides);
    const theirs = await fetch(`${alertmanager()}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const answer = await theirs.text();
    if (theirs.ok) created.push((JSON.parse(answer) as { silenceID: string }).silenceID);
    const ours = await http.app.inject({ method: 'POST', url: '/api/v2/silences', payload: request });
    expect({ accepted: ours.statusCode === 200, answer: ours.body }).toMatchObject({ accepted: theirs.ok });
  });
});
