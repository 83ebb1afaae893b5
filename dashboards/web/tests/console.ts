import { expect, type Page, test } from '@playwright/test';
import { ADMIN, INGEST } from './tokens.ts';

export function consoleUrl(path = '/'): string {
  const base = process.env.LOOKOUT_CONSOLE_URL;
  if (!base) throw new Error('LOOKOUT_CONSOLE_URL is not set: the global setup did not start Lookout');
  return `${base}${path}`;
}

/** A line as the sidecar ships it, in a pod of a namespace. */
export function logDoc(fields: {
  id: string;
  namespace: string;
  pod: string;
  message: string;
  time: number;
  offset: number;
  level?: string;
  fileId?: string;
}) {
  return {
    '@timestamp': new Date(fields.time).toISOString(),
    message: fields.message,
    log: {
      offset: fields.offset,
      ...(fields.level && { level: fields.level }),
      file: { path: '/var/log/app.log', id: fields.fileId ?? `${fields.pod}-file` },
    },
    kubernetes: { namespace: fields.namespace, pod: { name: fields.pod }, container: { name: 'app' } },
    event: { id: fields.id },
  };
}

/** Stores lines through the ingest API, as a sidecar would. */
export async function ingest(docs: object[]): Promise<void> {
  const response = await fetch(consoleUrl('/api/ingest'), {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-ndjson' },
    body: docs.map((doc) => `${JSON.stringify(doc)}\n`).join(''),
  });
  // A worker started again after a failure ingests again: lines already stored count as stored.
  const body = (await response.json()) as { accepted?: number; duplicates?: number };
  if (response.status !== 200 || (body.accepted ?? 0) + (body.duplicates ?? 0) !== docs.length) {
    throw new Error(`ingest answered ${response.status}: ${JSON.stringify(body)}`);
  }
}

/** Opens a console page signed in with a token, through the login form as a person does. */
export async function signIn(page: Page, path: string, token = ADMIN): Promise<void> {
  await page.goto(path.startsWith('http') ? path : consoleUrl(path));
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('Token')).toHaveCount(0);
}

/** Keeps what the page looks like in the test output. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: 'image/png' });
}

/** A Kubernetes event as the event router archives it (event-router/archive/document.ts). */
export function eventDoc(fields: {
  id: string;
  namespace: string;
  kind: string;
  name: string;
  reason: string;
  type: 'Normal' | 'Warning';
  message: string;
  count: number;
  time: number;
  firstTime: number;
}) {
  return {
    '@timestamp': new Date(fields.time).toISOString(),
    message: fields.message,
    log: { level: fields.type === 'Warning' ? 'warn' : 'info' },
    event: {
      id: fields.id,
      kind: 'event',
      dataset: 'kubernetes.event',
      reason: fields.reason,
      type: fields.type,
      count: fields.count,
      start: new Date(fields.firstTime).toISOString(),
    },
    kubernetes: {
      namespace: fields.namespace,
      object: { kind: fields.kind, name: fields.name },
      ...(fields.kind === 'Pod' && { pod: { name: fields.name } }),
    },
    source: { component: 'kubelet' },
  };
}
