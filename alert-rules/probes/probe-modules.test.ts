import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../core/config.ts';
import { loadProbeModules } from './probe-modules.ts';
import { probesSchema } from './probes-config.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-modules-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(targets: { name: string; target: string; module: string }[]) {
  const modulesFile = join(dir, 'blackbox.yml');
  await writeFile(modulesFile, 'modules:\n  http_2xx: { prober: http }\n  smtp: { prober: tcp }\n');
  return loadProbeModules(probesSchema.parse({ modulesFile, targets }));
}

describe('loadProbeModules', () => {
  it("takes the file's modules when every target of the configuration can use them", async () => {
    const modules = await load([
      { name: 'shop', target: 'https://shop.example/', module: 'http_2xx' },
      { name: 'mail', target: 'mail.example:25', module: 'smtp' },
    ]);
    expect([...modules.keys()].sort()).toEqual(['http_2xx', 'smtp']);
  });

  it('refuses targets naming a module the files lack, or that their prober cannot read, with their paths', async () => {
    const loading = load([
      { name: 'shop', target: 'https://shop.example/', module: 'icmp' },
      { name: 'passwd', target: 'file:///etc/passwd', module: 'http_2xx' },
      { name: 'mail', target: 'mail.example', module: 'smtp' },
    ]);
    await expect(loading).rejects.toBeInstanceOf(ConfigInvalidError);
    await expect(loading).rejects.toMatchObject({
      errors: [
        {
          path: 'alertRules.probes.targets[0].module',
          message: 'unknown probe module "icmp" (known: http_2xx, smtp)',
        },
        {
          path: 'alertRules.probes.targets[1].target',
          message: 'the http prober takes http:// and https:// URLs, not file:',
        },
        {
          path: 'alertRules.probes.targets[2].target',
          message: '"mail.example" is not host:port: missing port',
        },
      ],
    });
  });
});
