import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCommands } from '../../../test/infra/debian.ts';
import { LookoutProcess, writeConfig } from '../../../test/support/lookout-process.ts';
import { ADMIN, INGEST, SHOP } from './tokens.ts';

/**
 * A real `lookout all` on its embedded store, with tokens: the console's tests drive it as a person
 * would. Its address reaches the tests as LOOKOUT_CONSOLE_URL.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await ensureCommands({ chromium: 'chromium' });
  const dir = await mkdtemp(join(tmpdir(), 'lookout-console-'));
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
`,
  );
  const lookout = new LookoutProcess('all', file);
  process.env.LOOKOUT_CONSOLE_URL = await lookout.start();
  return async () => {
    await lookout.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
