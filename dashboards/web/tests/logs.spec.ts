import { expect, test } from '@playwright/test';
import { ingest, logDoc, screenshot, signIn } from './console.ts';
import { SHOP } from './tokens.ts';

const MINUTE = 60_000;

test.describe('Logs', () => {
  const now = Date.now();
  const lines = [
    { pod: 'order-1', level: 'INFO', message: 'order 1 placed for customer 7' },
    { pod: 'order-2', level: 'ERROR', message: 'order 2 failed: connection reset by peer' },
    { pod: 'order-1', level: 'WARN', message: 'order 3 retry after connection timeout' },
    { pod: 'order-2', level: 'ERROR', message: '订单 4 连接超时 payment gateway' },
    { pod: 'order-2', level: 'INFO', message: '{"event":"refund","order":5,"amount":12.5}' },
  ];

  test.beforeAll(async () => {
    await ingest(
      lines.map((line, i) =>
        logDoc({
          id: `search-${i}`,
          namespace: 'shop',
          time: now - (i + 1) * MINUTE,
          offset: i * 100,
          ...line,
        }),
      ),
    );
    await ingest([
      logDoc({
        id: 'search-other',
        namespace: 'billing',
        pod: 'invoice-0',
        message: 'invoice connection reset',
        time: now - MINUTE,
        offset: 0,
      }),
    ]);
  });

  test('searches phrases and filters, highlights matches, and the address brings the same view back', async ({
    page,
  }) => {
    await signIn(page, '/logs?from=now-1h&namespace=shop');
    const messages = page.locator('.log-list .row .message');
    await expect(messages).toHaveCount(5);

    await page.getByLabel('namespace').fill('');
    await page.getByLabel('Query').fill('"connection reset"');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(messages).toHaveCount(2);
    await expect(page.locator('.log-list mark').first()).toHaveText(/connection reset/i);

    await page.getByLabel('namespace').fill('shop');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(messages).toHaveText(['order 2 failed: connection reset by peer']);
    expect(new URL(page.url()).searchParams.get('namespace')).toBe('shop');
    await screenshot(page, 'logs-search');

    // The same address in a new tab (which has to sign in: the token is kept per tab) shows the same view.
    const other = await page.context().newPage();
    await signIn(other, page.url());
    await expect(other.getByLabel('Query')).toHaveValue('"connection reset"');
    await expect(other.locator('.log-list .row .message')).toHaveText([
      'order 2 failed: connection reset by peer',
    ]);
    await other.close();

    await page.getByLabel('Query').fill('超时');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(messages).toHaveText(['订单 4 连接超时 payment gateway']);
    await expect(page.locator('.log-list mark')).toHaveText('超时');
    await screenshot(page, 'logs-search-chinese');

    await page.getByLabel('Query').fill('connection NOT reset');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(messages).toHaveText(['order 3 retry after connection timeout']);
  });

  test('the filters offer the values present in the range, with their counts', async ({ page }) => {
    await signIn(page, '/logs?from=now-1h&namespace=shop');
    // A filter's own values are counted without it: the other namespaces stay on offer.
    await page.getByLabel('namespace', { exact: true }).click();
    const namespaces = page.getByLabel('Values of namespace');
    await expect(namespaces.getByRole('button', { name: /^shop/ })).toHaveText(/^shop\s*5$/);
    await expect(namespaces.getByRole('button', { name: /^billing/ })).toHaveText(/^billing\s*1$/);

    await page.getByLabel('pod', { exact: true }).click();
    const pods = page.getByLabel('Values of pod');
    await expect(pods.getByRole('button')).toHaveText([/^order-2\s*3$/, /^order-1\s*2$/]);
    await screenshot(page, 'logs-filter-values');
    await pods.getByRole('button', { name: /order-1/ }).click();
    await expect(page).toHaveURL(/pod=order-1/);
    await expect(page.locator('.log-list .row')).toHaveCount(2);
  });

  test('shows a line in full, pretty-prints JSON, and filters by a field from it', async ({ page }) => {
    await signIn(page, '/logs?from=now-1h&namespace=shop&q=refund');
    await page.locator('.log-list .row').first().click();
    const detail = page.getByLabel('Line details');
    await expect(detail.locator('.message-full')).toContainText('"amount": 12.5');
    expect(new URL(page.url()).searchParams.get('line')).toBe('search-4');
    await screenshot(page, 'logs-detail');
    await detail
      .locator('tr', { hasText: 'kubernetes.pod.name' })
      .getByRole('button', { name: 'filter' })
      .click();
    await expect(page).toHaveURL(/pod=order-2/);
  });

  test('a token limited to a namespace sees only its lines', async ({ page }) => {
    await signIn(page, '/logs?from=now-1h&q=connection', SHOP);
    await expect(page.locator('.log-list .row .source')).toHaveText([/^shop\//, /^shop\//]);
  });

  test('a wrong token is refused in the API’s words', async ({ page }) => {
    await page.goto(`${process.env.LOOKOUT_CONSOLE_URL}/logs`);
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.login .error')).toHaveText('missing or invalid bearer token');
  });

  test('dragging across the histogram narrows the range to the bars chosen, and two times typed in bound it', async ({
    page,
  }) => {
    const base = Date.now();
    await ingest(
      Array.from({ length: 40 }, (_, i) =>
        logDoc({
          id: `drag-${i}`,
          namespace: 'drag',
          pod: 'web-0',
          message: `request ${i} served`,
          time: base - i * 1.5 * MINUTE,
          offset: i,
        }),
      ),
    );
    await signIn(page, '/logs?from=now-1h&namespace=drag');
    await expect(page.locator('.summary')).toContainText('40 lines');
    const plot = page.locator('.histogram .u-over');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect(page).toHaveURL(/from=\d{4}-/);
    const url = new URL(page.url());
    const from = Date.parse(url.searchParams.get('from')!);
    const to = Date.parse(url.searchParams.get('to')!);
    expect(to - from).toBeLessThan(30 * MINUTE);
    await expect(page.locator('.summary')).toHaveText(/^\d[\d,]* lines?/);
    const shown = Number(
      (await page.locator('.summary').textContent())!.match(/^([\d,]+)/)![1]!.replace(/,/g, ''),
    );
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(40);
    await screenshot(page, 'logs-histogram-drag');

    // Between two times typed in: lines 10 to 19, with half a minute either side.
    const localInput = (ms: number) =>
      page.evaluate((at) => {
        const local = new Date(at - new Date(at).getTimezoneOffset() * 60_000);
        return local.toISOString().slice(0, 19);
      }, ms);
    await page.getByLabel('Time range').selectOption('custom');
    await page.getByLabel('From').fill(await localInput(base - 19 * 1.5 * MINUTE - 30_000));
    await page.getByLabel('To').fill(await localInput(base - 10 * 1.5 * MINUTE + 30_000));
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.locator('.summary')).toHaveText('10 lines');
    await expect(page.locator('.log-list .row .message').first()).toHaveText('request 10 served');
  });

  test('context shows a same-millisecond burst in written order, the line marked, and loads more', async ({
    page,
  }) => {
    const at = Date.now() - 5 * MINUTE;
    await ingest(
      Array.from({ length: 60 }, (_, i) =>
        logDoc({
          id: `burst-${i}`,
          namespace: 'burst',
          pod: 'batch-0',
          message: `step ${i} of the burst`,
          time: at,
          offset: i * 50,
          fileId: 'burst-file',
        }),
      ).reverse(),
    );
    await signIn(page, '/logs?from=now-1h&namespace=burst&q="step 30 of"');
    await page.locator('.log-list .row').first().click();
    await page.getByRole('link', { name: 'View in context' }).click();
    await expect(page).toHaveURL(/\/logs\/context\/burst-30/);
    const messages = page.locator('.context .row .message');
    await expect(messages).toHaveCount(41);
    const texts = await messages.allTextContents();
    expect(texts).toEqual(Array.from({ length: 41 }, (_, i) => `step ${i + 10} of the burst`));
    await expect(page.locator('.context .row.anchor .message')).toHaveText('step 30 of the burst');
    await screenshot(page, 'logs-context');
    await page.getByRole('button', { name: 'Load more above' }).click();
    await expect(messages.first()).toHaveText('step 0 of the burst');
  });
});
