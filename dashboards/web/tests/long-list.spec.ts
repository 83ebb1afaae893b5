import { expect, test } from '@playwright/test';
import { ingest, logDoc, signIn } from './console.ts';

const LINES = 3_000;
const PAGE = 500;

test.beforeAll(async () => {
  const now = Date.now();
  const docs = Array.from({ length: LINES }, (_, i) =>
    logDoc({
      id: `bulk-${i}`,
      namespace: 'bulk',
      pod: 'batch-0',
      message: `bulk line ${i}`,
      // Oldest first: line 0 is the earliest.
      time: now - 30 * 60_000 + i * 100,
      offset: i * 20,
    }),
  );
  for (let i = 0; i < docs.length; i += 1_000) await ingest(docs.slice(i, i + 1_000));
});

test('a long result loads page by page as the list scrolls, renders only the rows in view, and reverses order', async ({
  page,
}) => {
  await signIn(page, '/logs?from=now-1h&namespace=bulk');
  const summary = page.locator('p.summary');
  await expect(summary).toHaveText(`${LINES.toLocaleString('en-US')} lines, ${PAGE} loaded`);
  const rows = page.locator('.log-list .row');
  await expect(rows.first().locator('.message')).toHaveText(`bulk line ${LINES - 1}`);

  const list = page.locator('.log-list');
  for (let loaded = PAGE; loaded < LINES; loaded += PAGE) {
    await list.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
    const next = Math.min(loaded + PAGE, LINES);
    await expect(summary).toHaveText(
      next < LINES
        ? `${LINES.toLocaleString('en-US')} lines, ${next.toLocaleString('en-US')} loaded`
        : `${LINES.toLocaleString('en-US')} lines`,
    );
    // Only what is in view (and a margin) is in the page, however many lines are loaded.
    expect(await rows.count()).toBeLessThan(100);
  }
  await list.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
  await expect(rows.last().locator('.message')).toHaveText('bulk line 0');

  await page.getByRole('button', { name: 'Newest first' }).click();
  await expect(rows.first().locator('.message')).toHaveText('bulk line 0');
  expect(new URL(page.url()).searchParams.get('order')).toBe('asc');
});
