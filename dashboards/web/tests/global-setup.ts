import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCommands, ensureFiles } from '../../../test/infra/debian.ts';
import { startRobotServer } from '../../../test/robots/robot-server.ts';
import { LookoutProcess, writeConfig } from '../../../test/support/lookout-process.ts';
import { ALERTMANAGER, RULES, SAMPLES } from './alert-fixtures.ts';
import { startProbedSite } from './probe-targets.ts';
import { startFixedPrometheus } from './prometheus-fixture.ts';
import { ADMIN, INGEST, SHOP } from './tokens.ts';

/**
 * A real `lookout all` on its embedded store, with tokens, alert rules
 * evaluated against a fixed Prometheus and routed to a robot test double, and
 * probes of a local site: the
 * console's tests drive it as a person would. Its address reaches the tests as
 * LOOKOUT_CONSOLE_URL.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await ensureCommands({ chromium: 'chromium' });
  // Chinese log lines are drawn as boxes in the screenshots without a font that has their characters.
  await ensureFiles({ '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc': 'fonts-wqy-microhei' });
  const dir = await mkdtemp(join(tmpdir(), 'lookout-console-'));
  const prometheus = await startFixedPrometheus(SAMPLES);
  const robots = await startRobotServer();
  const oncall = robots.dingtalk({ name: 'oncall' });
  await writeFile(join(dir, 'rules.yaml'), RULES);
  await writeFile(join(dir, 'alertmanager.yml'), ALERTMANAGER);
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
robots:
  oncall: { type: dingtalk, baseUrl: "${oncall.baseUrl}", accessToken: "${oncall.accessToken}" }
alertRules:
  ruleFiles: [rules.yaml]
  ruleFilesDir: ${dir}
  prometheus: { url: "${prometheus.url}" }
  evaluationInterval: 1s
  externalLabels: { cluster: console-test }
  routing:
    alertmanagerConfigFile: ${join(dir, 'alertmanager.yml')}
    receivers: { db-team: { robots: [oncall] } }
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
    await Promise.all([prometheus.close(), robots.close(), site.close()]);
    await rm(dir, { recursive: true, force: true });
  };
}
