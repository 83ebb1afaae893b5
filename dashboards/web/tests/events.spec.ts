import { expect, test } from '@playwright/test';
import { eventDoc, ingest, screenshot, signIn } from './console.ts';
import { SHOP } from './tokens.ts';

const MINUTE = 60_000;
/** Before the last hour the Logs tests search, so these events do not count there. */
const TWO_HOURS_AGO = Date.now() - 120 * MINUTE;

test.describe('Events', () => {
  const events = [
    {
      namespace: 'shop',
      kind: 'Pod',
      name: 'api-7f9',
      reason: 'BackOff',
      type: 'Warning' as const,
      count: 12,
    },
    { namespace: 'shop', kind: 'Pod', name: 'api-7f9', reason: 'Pulled', type: 'Normal' as const, count: 1 },
    {
      namespace: 'shop',
      kind: 'Deployment',
      name: 'api',
      reason: 'ScalingReplicaSet',
      type: 'Normal' as const,
      count: 1,
    },
    {
      namespace: 'billing',
      kind: 'Pod',
      name: 'worker-0',
      reason: 'FailedScheduling',
      type: 'Warning' as const,
      count: 3,
    },
  ];

  test.beforeAll(async () => {
    await ingest(
      events.map((e, i) =>
        eventDoc({
          ...e,
          id: `event-${i}`,
          message: `${e.reason} of ${e.kind.toLowerCase()} ${e.name}`,
          time: TWO_HOURS_AGO - i * MINUTE,
          firstTime: TWO_HOURS_AGO - (i + 30) * MINUTE,
        }),
      ),
    );
  });

  test('lists the archived events newest first, filters by facets and field:value, and says the router does not run here', async ({
    page,
  }) => {
    await signIn(page, '/events?from=now-24h');
    const rows = page.locator('.event-table').first().locator('tbody tr');
    await expect(rows).toHaveCount(4);
    await expect(rows.first()).toContainText('BackOff');
    await expect(rows.first()).toContainText('shop Pod/api-7f9');
    await expect(rows.first()).toHaveClass(/warning/);
    await expect(rows.nth(1)).not.toHaveClass(/warning/);
    await expect(page.locator('.summary').first()).toHaveText('4 events');
    await expect(page.getByText('The event router does not run in this process')).toBeVisible();
    await expect(page.getByText('eventRouter', { exact: true })).toBeVisible();
    await screenshot(page, 'events');

    // The reason filter offers the reasons in the range with their counts; picking one searches.
    await page.getByLabel('reason').focus();
    const reasons = page.getByRole('group', { name: 'Values of reason' });
    await expect(reasons.getByRole('button')).toHaveCount(4);
    await reasons.getByRole('button', { name: /FailedScheduling/ }).click();
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('billing Pod/worker-0');
    expect(new URL(page.url()).searchParams.get('reason')).toBe('FailedScheduling');

    await page.getByLabel('reason').fill('');
    await page.getByLabel('type').focus();
    await page
      .getByRole('group', { name: 'Values of type' })
      .getByRole('button', { name: /Warning/ })
      .click();
    await expect(rows).toHaveCount(2);
    expect(new URL(page.url()).searchParams.get('type')).toBe('Warning');

    await page.getByLabel('type').fill('');
    await page.getByLabel('Query').fill('kubernetes.object.kind:Deployment OR event.reason:"Pulled"');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText('Pulled');
    await expect(rows.nth(1)).toContainText('ScalingReplicaSet');

    await page.getByLabel('Query').fill('NOT kubernetes.namespace:shop');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('FailedScheduling');
    await screenshot(page, 'events-field-query');

    await page.getByLabel('Query').fill('log.offset:1');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.locator('.summary .error')).toContainText('filter on it with f.log.offset=');
  });

  test('a token limited to a namespace sees only its events, whatever namespace the query names', async ({
    page,
  }) => {
    await signIn(page, '/events?from=now-24h', SHOP);
    const rows = page.locator('.event-table').first().locator('tbody tr');
    await expect(rows).toHaveCount(3);
    await page.getByLabel('Query').fill('kubernetes.namespace:billing');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.getByText('No Kubernetes events match in this range.')).toBeVisible();
  });
});
