import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraAddress } from './infra/control.ts';
import { elasticsearchDocs } from './support/log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

// POST /api/ingest into a collector on a real Elasticsearch: what the check reads is what the cluster indexes.
const ADMIN = 'admin-token-0123456789';
const TEAM_A_EDITOR = 'team-a-editor-token-0123';
const TEAM_B_VIEWER = 'team-b-viewer-token-0123';
const run = `ingest-${Date.now().toString(36)}`;
const index = `it-${run}-*`;

let collector: LookoutProcess;
let api: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), `lookout-${run}-`));
  const file = await writeConfig(
    dir,
    `
http:
  listen: "127.0.0.1:0"
  auth:
    tokens:
      - { name: admin, token: ${ADMIN}, role: admin }
      - { name: team-a-ci, token: ${TEAM_A_EDITOR}, role: editor, namespaces: [team-a] }
      - { name: team-b-dev, token: ${TEAM_B_VIEWER}, role: viewer, namespaces: [team-b] }
dataDir: ${join(dir, 'data')}
collector:
  elasticsearch: { nodes: ["${infraAddress('elasticsearch')}"], index: "it-${run}-{yyyy.MM.dd}", replicas: 0 }
`,
  );
  collector = new LookoutProcess('collector', file);
  api = await collector.start(60_000);
}, 120_000);

afterAll(async () => {
  await collector?.kill();
});

// biome-ignore lint/suspicious/noExplicitAny: response shapes are what the assertions check
async function get(path: string, token: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

// biome-ignore lint/suspicious/noExplicitAny: the answer's shape is what the assertions check
async function ingest(body: string, token = TEAM_A_EDITOR): Promise<any> {
  const response = await fetch(`${api}/api/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  expect(response.status).toBe(200);
  return response.json();
}

const ids = async (token: string) =>
  ((await get('/api/logs/search?from=now-1h&to=now%2B1h&size=100', token)).body.hits as { id: string }[]).map(
    (h) => h.id,
  );

describe('POST /api/ingest on Elasticsearch', () => {
  it('refuses a line whose dotted namespace disagrees with its nested one; team-b never sees it', async () => {
    const time = new Date().toISOString();
    const forged = `{"@timestamp":"${time}","message":"forged into team-b","kubernetes.namespace":"team-b","kubernetes":{"namespace":"team-a"},"event":{"id":"forged-1"}}`;
    const dotted = `{"@timestamp":"${time}","message":"dotted team-a line","kubernetes.namespace":"team-a","event.id":"dotted-1"}`;
    expect(await ingest(`${forged}\n${dotted}\n`)).toEqual({
      accepted: 1,
      duplicates: 0,
      empty: 0,
      errors: [{ line: 0, status: 400, reason: expect.stringContaining('"kubernetes.namespace"') }],
    });
    await eventually(
      () => ids(ADMIN),
      (found) => found.includes('dotted-1'),
      'the dotted line searchable',
    );
    expect(await ids(ADMIN)).not.toContain('forged-1');
    expect(await ids(TEAM_B_VIEWER)).toEqual([]);
    expect((await get('/api/logs/context/forged-1', TEAM_B_VIEWER)).status).toBe(404);
    // The cluster holds the document as checked: nested, one namespace.
    const [stored] = await elasticsearchDocs<Record<string, unknown>>(index, {
      ids: { values: ['dotted-1'] },
    });
    expect(stored).toMatchObject({ kubernetes: { namespace: 'team-a' }, event: { id: 'dotted-1' } });
    expect(Object.keys(stored!)).not.toContain('kubernetes.namespace');
  });

  it('keeps a line nested 100,000 deep as text; search and context over its namespace keep answering', async () => {
    const deep = `{"@timestamp":"${new Date().toISOString()}","kubernetes":{"namespace":"team-a"},"event":{"id":"deep-1"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(await ingest(`${deep}\n`)).toEqual({ accepted: 1, duplicates: 0, empty: 0, errors: [] });
    await eventually(
      () => ids(ADMIN),
      (found) => found.includes('deep-1'),
      'the deep line searchable',
    );
    const search = await get('/api/logs/search?from=now-1h&to=now%2B1h&namespace=team-a', ADMIN);
    expect(search.status).toBe(200);
    const hit = search.body.hits.find((h: { id: string }) => h.id === 'deep-1');
    expect(hit.doc.lookout).toEqual({ parse_error: 'kept as text: nested deeper than 64 levels' });
    expect((await get('/api/logs/context/deep-1', ADMIN)).status).toBe(200);
  });

  it('cuts a 10 MiB message, moves a time in 2248 to the receive time, and counts a re-sent id as a duplicate', async () => {
    const line = (id: string, fields: Record<string, unknown>) =>
      JSON.stringify({
        '@timestamp': new Date().toISOString(),
        kubernetes: { namespace: 'team-a' },
        event: { id },
        ...fields,
      });
    const big = line('big-1', { message: `${'x'.repeat(1024 ** 2 - 1)}€${'y'.repeat(9 * 1024 ** 2)}` });
    const future = line('future-1', { '@timestamp': '2248-01-01T00:00:00Z', message: 'from the future' });
    const before = Date.now();
    expect(await ingest(`${big}\n${future}\n`)).toEqual({ accepted: 2, duplicates: 0, empty: 0, errors: [] });
    const again = line('future-1', { message: 'other content, same id' });
    expect(await ingest(`${again}\n`)).toEqual({ accepted: 0, duplicates: 1, empty: 0, errors: [] });
    const docs = await elasticsearchDocs<Record<string, { [key: string]: unknown }>>(index, {
      ids: { values: ['big-1', 'future-1'] },
    });
    const [stored, dated] = docs as [Record<string, unknown>, Record<string, unknown>];
    expect(Buffer.byteLength(stored.message as string)).toBe(1024 ** 2 - 1);
    expect(stored.lookout).toEqual({ truncated: true });
    expect(dated.message).toBe('from the future');
    expect(dated.lookout).toEqual({ original_timestamp: '2248-01-01T00:00:00Z' });
    expect(Date.parse(dated['@timestamp'] as string)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(dated['@timestamp'] as string)).toBeLessThanOrEqual(Date.now());
  });
});
