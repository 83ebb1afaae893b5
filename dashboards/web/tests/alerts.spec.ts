import { expect, type Page, test } from '@playwright/test';
import { consoleUrl, screenshot, signIn } from './console.ts';
import { ADMIN, SHOP } from './tokens.ts';

interface Groups {
  groups: { alerts: { labels: Record<string, string>; inhibitors: unknown[] }[] }[];
}

/** Waits until the rules fired and the routing has seen the data centre down, which inhibits its warnings. */
async function untilAlertsRouted(): Promise<void> {
  await expect
    .poll(
      async () => {
        const response = await fetch(consoleUrl('/api/alerts/groups'), {
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        const answer = (await response.json()) as Groups;
        const alerts = answer.groups.flatMap((g) => g.alerts);
        return alerts.find((a) => a.labels.alertname === 'ReplicationLag')?.inhibitors.length ?? 0;
      },
      { timeout: 30_000 },
    )
    .toBe(1);
}

const alertCard = (page: Page, text: string) => page.locator('li.alert', { hasText: text });

/** Opens the alerts that `filter` matches and the silence form of the one showing `text`. */
async function openSilenceForm(page: Page, filter: string, text: string) {
  await signIn(page, `/alerts?filter=${filter}`);
  const alert = alertCard(page, text);
  await alert.getByRole('button', { name: 'Silence…' }).click();
  return { alert, form: alert.getByRole('form', { name: 'New silence' }) };
}

test.describe('Alerts and silences', () => {
  test.beforeAll(untilAlertsRouted);

  test('lists alerts grouped as the routing groups them, with state, since when and what inhibits them', async ({
    page,
  }) => {
    await signIn(page, '/alerts');
    const db = page.getByRole('region', { name: 'Group team="db"' });
    await expect(db.locator('li.alert')).toHaveCount(2);
    await expect(db).toContainText('receiver db-team');
    await expect(db).toContainText('Disk of db-1 is almost full');
    const errors = page.getByRole('region', { name: 'Group alertname="HighErrorRate"' });
    await expect(errors).toContainText('receiver oncall');
    await expect(errors.locator('.alert-state')).toHaveText('firing');
    await expect(errors).toContainText(/since \d{2}\/\d{2}\/\d{4}/);
    await expect(alertCard(page, 'QueueBacklog').locator('.alert-state')).toHaveText('pending');
    const lag = alertCard(page, 'ReplicationLag');
    await expect(lag.locator('.muted-by')).toContainText('Inhibited by');
    await expect(lag.locator('.muted-by')).toContainText('alertname="DatacenterDown"');
    await expect(lag.locator('.muted-tag')).toHaveText('inhibited');
    await expect(page.locator('.summary').first()).toContainText('grouped as the routing groups them');
    await screenshot(page, 'alerts-grouped');

    // Filters are in the address; a label's chip adds it to them.
    await page.goto(consoleUrl('/alerts?filter=severity="critical"'));
    await expect(page.locator('li.alert strong')).toHaveText(['DatacenterDown', 'HighErrorRate']);
    await alertCard(page, 'HighErrorRate').getByRole('button', { name: 'service="checkout"' }).click();
    await expect(page).toHaveURL(/filter=severity%3D%22critical%22%2Cservice%3D%22checkout%22/);
    await expect(page.locator('li.alert strong')).toHaveText(['HighErrorRate']);
    await page.goto(consoleUrl('/alerts?state=pending'));
    await expect(page.locator('li.alert strong')).toHaveText(['QueueBacklog']);
    await expect(page.getByLabel('State')).toHaveValue('pending');
    await page.goto(consoleUrl('/alerts?filter=severity=~"("'));
    await expect(page.locator('.alerts-page .error')).toContainText('filter: invalid matchers');
  });

  test('silences an alert in two clicks; the alert shows silenced, and the silence is listed and expired', async ({
    page,
  }) => {
    const { alert, form } = await openSilenceForm(page, 'instance="db-1"', 'instance="db-1"');
    await expect(form.getByLabel('Value of instance')).toHaveValue('db-1');
    await expect(form.getByLabel('Value of cluster')).toHaveValue('console-test');
    await expect(form.getByLabel('Created by')).toHaveValue('admin');
    await screenshot(page, 'alerts-silence-form');
    await form.getByRole('button', { name: 'Create silence' }).click();
    await expect(alert.locator('.muted-by')).toHaveText(/^Silenced by silence [0-9a-f]{8} by admin until /);
    await expect(alert.locator('.muted-tag')).toHaveText('silenced');
    await screenshot(page, 'alerts-silenced');

    await alert.locator('.muted-by a').click();
    await expect(page).toHaveURL(/\/silences\?id=/);
    const row = page.locator('.silences tr.chosen');
    await expect(row).toContainText('instance="db-1"');
    await expect(row.locator('.silence-state')).toHaveText('active');
    await expect(row).toContainText('admin');
    await screenshot(page, 'silences');
    await row.getByRole('button', { name: 'Expire' }).click();
    await expect(row.locator('.silence-state')).toHaveText('expired');
    await expect(row.getByRole('button', { name: 'Expire' })).toHaveCount(0);

    await page.goto(consoleUrl('/alerts?filter=instance="db-1"'));
    await expect(alert.locator('.alert-state')).toHaveText('firing');
    await expect(alert.locator('.muted-by')).toHaveCount(0);
  });

  test('the silence form’s matchers, length and comment can be changed before it is made', async ({
    page,
  }) => {
    const { alert, form } = await openSilenceForm(page, 'alertname="HighErrorRate"', 'HighErrorRate');
    await form.getByRole('button', { name: 'Remove matcher severity' }).click();
    await form.getByRole('button', { name: 'Remove matcher cluster' }).click();
    await form.getByLabel('Operator of service').selectOption('=~');
    await form.getByLabel('Value of service').fill('check.*');
    await form.getByLabel('For').selectOption({ label: '4 hours' });
    await form.getByLabel('Comment').fill('rolling back the checkout deploy');
    await form.getByRole('button', { name: 'Create silence' }).click();
    await expect(alert.locator('.muted-by')).toContainText('rolling back the checkout deploy');

    await page.goto(consoleUrl('/silences?state=active'));
    const row = page.locator('.silences tbody tr', { hasText: 'rolling back the checkout deploy' });
    await expect(row.locator('.label')).toHaveText([
      'alertname="HighErrorRate"',
      'service=~"check.*"',
      'team="shop"',
    ]);
    const silences = (await (
      await fetch(consoleUrl('/api/silences'), { headers: { authorization: `Bearer ${ADMIN}` } })
    ).json()) as { comment: string; startsAt: string; endsAt: string }[];
    const made = silences.find((s) => s.comment === 'rolling back the checkout deploy')!;
    expect(Date.parse(made.endsAt) - Date.parse(made.startsAt)).toBeGreaterThan(4 * 3_600_000 - 60_000);
    expect(Date.parse(made.endsAt) - Date.parse(made.startsAt)).toBeLessThanOrEqual(4 * 3_600_000);
  });

  test('a viewer token sees alerts and silences but can neither silence nor expire', async ({ page }) => {
    const created = await fetch(consoleUrl('/api/silences'), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'alertname', value: 'QueueBacklog', isRegex: false, isEqual: true }],
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        createdBy: 'admin',
        comment: 'known backlog',
      }),
    });
    const { silenceID } = (await created.json()) as { silenceID: string };
    await signIn(page, `/silences?id=${silenceID}`, SHOP);
    const row = page.locator('.silences tr.chosen');
    await expect(row).toContainText('known backlog');
    await expect(row.getByRole('button', { name: 'Expire' })).toBeDisabled();
    await expect(page.locator('.silences-page .note')).toHaveText(
      'Silences are created and expired with an editor token; token "shop-dev" is a viewer.',
    );
    await screenshot(page, 'silences-viewer');

    await page.goto(consoleUrl('/alerts?filter=alertname="QueueBacklog"'));
    const alert = alertCard(page, 'QueueBacklog');
    await expect(alert.locator('.muted-by')).toContainText('known backlog');
    await expect(alert.getByRole('button', { name: 'Silence…' })).toBeDisabled();
    await expect(page.locator('.alerts-page .note')).toContainText('token "shop-dev" is a viewer');
  });

  test('both pages say how to enable alert rules when this Lookout does not run them', async ({ page }) => {
    // What a `lookout` without an alertRules section answers for these routes: they do not exist.
    const missing = { status: 404, json: { error: 'Route GET:/api/silences not found' } };
    await page.route(/\/api\/(alerts\/groups|silences)/, (route) => route.fulfill(missing));
    await signIn(page, '/alerts');
    await expect(page.locator('.not-running')).toContainText('Alert rules are not running in this Lookout');
    await expect(page.locator('.not-running')).toContainText('alertRules');
    await screenshot(page, 'alerts-not-running');
    await page.getByRole('link', { name: 'Silences' }).click();
    await expect(page.locator('.not-running h1')).toHaveText('Silences');
    await expect(page.locator('.not-running')).toContainText('docs/alert-rules.md');
  });
});
