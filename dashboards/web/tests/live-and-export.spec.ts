import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { ingest, logDoc, screenshot, signIn } from './console.ts';

const lines = (namespace: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) =>
    logDoc({
      id: `${namespace}-${from + i}`,
      namespace,
      pod: 'api-0',
      message: `${namespace} line ${from + i}`,
      time: Date.now(),
      offset: (from + i) * 100,
    }),
  );

test('live tail shows new lines as they come, pauses when scrolled up and counts what arrives meanwhile', async ({
  page,
}) => {
  await signIn(page, '/logs?live=1&namespace=live');
  await expect(page.locator('.live-status')).toHaveText('Live');
  await ingest(lines('live', 3));
  const messages = page.locator('.log-list .row .message');
  await expect(messages).toHaveText(['live line 0', 'live line 1', 'live line 2']);

  await ingest(lines('live', 200, 3));
  await expect(page.locator('.live .summary')).toContainText('203 lines received');
  await expect(messages.last()).toHaveText('live line 202');
  await page.locator('.log-list').hover();
  await page.mouse.wheel(0, -2000);
  await expect(page.locator('.live .summary')).toContainText('paused');
  await ingest(lines('live', 5, 203));
  await expect(page.locator('.live .summary')).toContainText('5 new since');
  await screenshot(page, 'logs-live-paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.locator('.live .summary')).not.toContainText('paused');
  await expect(messages.last()).toHaveText('live line 207');
});

test('export downloads the query’s lines, says first how many match and after when the limit cut it', async ({
  page,
}) => {
  await ingest(lines('exported', 12));
  await signIn(page, '/logs?from=now-1h&namespace=exported');
  await page.getByText('Export', { exact: true }).click();
  await expect(page.locator('.export-panel')).toContainText('12 lines match');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'NDJSON' }).click();
  const file = await (await download).path();
  const rows = (await readFile(file, 'utf8')).trim().split('\n');
  expect(rows).toHaveLength(12);
  expect(JSON.parse(rows[0]!).message).toMatch(/^exported line/);
  await expect(page.locator('.export-panel')).toContainText('Downloaded every matching line');

  await ingest(lines('capped', 60));
  await page.goto(page.url().replace('namespace=exported', 'namespace=capped'));
  await page.getByText('Export', { exact: true }).click();
  await expect(page.locator('.export-panel')).toContainText('60 lines match');
  const csv = page.waitForEvent('download');
  await page.getByRole('button', { name: 'CSV' }).click();
  await csv;
  await expect(page.locator('.export-panel .error')).toContainText('the export stopped after 50');
  await screenshot(page, 'logs-export-capped');
});
