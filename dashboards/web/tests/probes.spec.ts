import { expect, test } from '@playwright/test';
import { screenshot, signIn } from './console.ts';
import { probedSite } from './probe-targets.ts';
import { SHOP } from './tokens.ts';

const row = (page: import('@playwright/test').Page, id: string) => page.locator(`tr[data-probe="${id}"]`);

test.describe('Probes', () => {
  test('the board shows a target up and one down, and a target its uptime and latency', async ({ page }) => {
    await signIn(page, '/probes');
    await expect(row(page, 'site-up').locator('.state')).toHaveText('up');
    await expect(row(page, 'site-down').locator('.state')).toHaveText('down');
    await expect(row(page, 'site-down').locator('.failure')).toHaveText('status 503');
    await screenshot(page, 'probes-board');

    await page.getByLabel('State').selectOption('down');
    await expect(page.locator('tr[data-probe]')).toHaveCount(1);
    expect(new URL(page.url()).searchParams.get('state')).toBe('down');

    await page.goto(page.url().replace(/\/probes.*/, '/probes/site-up'));
    await expect(page.locator('.uptime-box[data-window="24h"] .value')).toHaveText('100%');
    await expect(page.locator('.latency canvas')).toBeVisible();
    await expect(page.locator('.probe-results tbody tr').first()).toContainText('success');
    await expect(page.getByText('defined in the configuration file')).toBeVisible();
    await screenshot(page, 'probes-target');
  });

  test('adds, changes and deletes a target', async ({ page }) => {
    await signIn(page, '/probes');
    await page.getByRole('link', { name: 'Add target' }).click();
    await page.getByLabel('Name', { exact: true }).fill('console-added');
    await page.getByLabel('Target').fill(probedSite('/up'));
    await page.getByLabel('Interval').fill('1s');
    await page.getByLabel('Labels').fill('team=shop');
    await page.getByRole('button', { name: 'Add target' }).click();
    await expect(page).toHaveURL(/\/probes\/console-added$/);
    await expect(page.locator('h1 .state')).toHaveText('up');

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Target').fill(probedSite('/gone'));
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page).toHaveURL(/\/probes\/console-added$/);
    await expect(page.locator('.facts')).toContainText(probedSite('/gone'));
    await expect(page.locator('h1 .state')).toHaveText(/pending|down/);

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(page).toHaveURL(/\/probes$/);
    await expect(row(page, 'console-added')).toHaveCount(0);
  });

  test('explains why the cloud metadata address is refused', async ({ page }) => {
    await signIn(page, '/probes/new');
    await page.getByLabel('Target').fill('http://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Add target' }).click();
    const error = page.getByRole('alert');
    await expect(error).toContainText('target refused: 169.254.169.254 is link-local');
    await expect(error).toContainText('alertRules.probes.allow');
    await screenshot(page, 'probes-refused');
  });

  test('a viewer sees the board and why it cannot change targets', async ({ page }) => {
    await signIn(page, '/probes', SHOP);
    await expect(row(page, 'site-up')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Add target' })).toHaveCount(0);
    await expect(page.getByText("needs an editor's token; shop-dev's is a viewer's")).toBeVisible();
    await page.goto(page.url().replace(/\/probes.*/, '/probes/new'));
    await expect(page.getByText("needs an editor's token")).toBeVisible();
    await expect(page.getByLabel('Target')).toHaveCount(0);
  });
});

test('without alert-rules the page says so and how to enable it', async ({ page }) => {
  // This process runs alert-rules: the answer of one that does not (no such route) stands in for it.
  await page.route('**/api/probes', (route) =>
    route.fulfill({
      status: 404,
      json: { message: 'Route GET:/api/probes not found', error: 'Not Found', statusCode: 404 },
    }),
  );
  await signIn(page, '/probes');
  await expect(page.getByText('does not run alert-rules')).toBeVisible();
  await expect(page.locator('.not-configured')).toContainText('alertRules');
  await screenshot(page, 'probes-not-configured');
});
