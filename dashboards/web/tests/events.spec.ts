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

  // The test process runs no event router (it needs a Kubernetes API server), so the answer of
  // GET /api/events/groups is given here, in the shape event-router/groups-api.test.ts checks.
  test('shows the aggregation groups and what each robot made of each message', async ({ page }) => {
    const minute = 60_000;
    const now = Date.now();
    await page.route('**/api/events/groups', (route) =>
      route.fulfill({
        json: {
          leading: true,
          groupCount: 2,
          groups: [
            {
              route: 'root.0',
              robots: ['shop-wecom'],
              namespace: 'shop',
              kind: 'Pod',
              name: 'api-7f9',
              reason: 'BackOff',
              type: 'Warning',
              message: 'Back-off restarting failed container',
              total: 30,
              pending: 4,
              firstTime: now - 20 * minute,
              lastTime: now - minute,
              sentAt: now - 4 * minute,
              dueAt: now + minute,
            },
            {
              route: 'root',
              robots: ['ops-dingtalk'],
              namespace: 'shop',
              kind: 'Deployment',
              name: 'api',
              reason: 'ScalingReplicaSet',
              type: 'Normal',
              message: 'Scaled up replica set api-7f9 to 3',
              total: 1,
              pending: 0,
              firstTime: now - 9 * minute,
              lastTime: now - 9 * minute,
              sentAt: now - 8 * minute,
              dueAt: null,
            },
          ],
          sentCount: 2,
          sent: [
            {
              id: 2,
              time: now - 4 * minute,
              route: 'root.0',
              kind: 'update',
              title: 'BackOff: Pod shop/api-7f9 (×26, still happening)',
              robots: [{ robot: 'shop-wecom', outcome: 'sent', at: now - 4 * minute }],
            },
            {
              id: 1,
              time: now - 8 * minute,
              route: 'root',
              kind: 'single',
              title: 'ScalingReplicaSet: Deployment shop/api',
              robots: [
                {
                  robot: 'ops-dingtalk',
                  outcome: 'dropped',
                  detail: 'rejected, 310000: keywords not in content',
                  at: now - 8 * minute,
                },
              ],
            },
          ],
        },
      }),
    );
    await signIn(page, '/events?from=now-24h');
    const groups = page.getByRole('region', { name: 'Aggregation and messages' });
    const tables = groups.locator('.event-table');
    await expect(groups.getByText('2 groups')).toBeVisible();
    await expect(tables.first().locator('tbody tr').first()).toContainText('shop Pod/api-7f9');
    await expect(tables.first().locator('tbody tr').first()).toContainText('root.0 → shop-wecom');
    await expect(tables.first().locator('tbody tr').first()).toHaveClass(/warning/);
    await expect(tables.nth(1).locator('tbody tr')).toHaveCount(2);
    await expect(tables.nth(1)).toContainText('shop-wecom: sent');
    await expect(tables.nth(1)).toContainText(
      'ops-dingtalk: dropped (rejected, 310000: keywords not in content)',
    );
    await groups.scrollIntoViewIfNeeded();
    await screenshot(page, 'events-groups');
  });
});
