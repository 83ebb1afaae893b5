import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCommands } from '../../../test/infra/debian.ts';
import { LookoutProcess, writeConfig } from '../../../test/support/lookout-process.ts';
import { startProbedSite } from './probe-targets.ts';
import { ADMIN, INGEST, SHOP } from './tokens.ts';

/**
 * A real `lookout all` on its embedded store, with tokens: the console's tests drive it as a person
 * would. Its address reaches the tests as LOOKOUT_CONSOLE_URL.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await ensureCommands({ chromium: 'chromium' });
  const dir = await mkdtemp(join(tmpdir(), 'lookout-console-'));
  const site = await startProbedSite();
  process.env.LOOKOUT_PROBED_SITE = site.url;
  const file = await writeConfig(
    dir,
    `
http:
  listen: "127.0.0.1:0"
  auth:
    tokens:
      - { name: admin, token: ${ADMIN}, role: admin }
      - { name: shop-dev, token: ${SHOP}, role: viewer, namespaces: [shop] }
      - { name: sidecars, token: ${INGEST}, role: editor }
dataDir: ${join(dir, 'data')}
collector:
  tail: { interval: 200ms }
  search: { exportMaxRows: 50 } # small, so that a test reaches it
alertRules:
  prometheus: { url: "http://127.0.0.1:9" } # no rules: never queried
  probes:
    allow: ["127.0.0.1"] # the probed site of the tests, and no other internal address
    modules:
      http_2xx: { prober: http, timeout: 2s }
    targets:
      - { name: site-up, target: "${site.url}/up", module: http_2xx, interval: 1s }
      - { name: site-down, target: "${site.url}/down", module: http_2xx, interval: 1s, failuresBeforeDown: 1 }
`,
  );
  const lookout = new LookoutProcess('all', file);
  process.env.LOOKOUT_CONSOLE_URL = await lookout.start();
  return async () => {
    await lookout.stop();
    await site.close();
    await rm(dir, { recursive: true, force: true });
  };
}
