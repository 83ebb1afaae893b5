import { expect, test } from '@playwright/test';
import { screenshot, signIn } from './console.ts';
import { SHOP } from './tokens.ts';

test('the status page lists the running components, how to enable the others, and the robots', async ({
  page,
}) => {
  await signIn(page, '/status', SHOP);
  const component = (name: string) => page.locator(`[data-component="${name}"]`);
  await expect(component('collector')).toContainText('running');
  await expect(component('alert-rules')).toContainText('running');
  // The probes of the test configuration: one target up, one down.
  await expect(component('alert-rules')).toContainText('probes_targets');
  await expect(component('sidecar')).toContainText('not running');
  await expect(component('sidecar')).toContainText('add a "sidecar" section to the configuration');
  await expect(component('event-router')).toContainText('not running');
  await expect(page.locator('p.ready')).toContainText('Ready (checks: log store, kafka)');
  // The robot the alerts of the test configuration are routed to.
  await expect(page.locator('[data-robot="oncall"]')).toContainText('dingtalk');
  await screenshot(page, 'status');
});
