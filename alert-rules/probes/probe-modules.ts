import { open } from 'node:fs/promises';
import { ConfigInvalidError, parseYaml, validate } from '../../core/config.ts';
import { blackboxConfigSchema } from './module-config.ts';
import type { ProbesConfig } from './probes-config.ts';
import type { ProbeModule } from './types.ts';

async function readBounded(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes)
      throw new Error(`the file has ${size} bytes, over probes.maxModulesFileBytes (${maxBytes})`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The probe modules by name: those of the blackbox_exporter file, unchanged,
 * then those written in Lookout's configuration (which win). A broken file is
 * refused with its path and every problem, as blackbox refuses it.
 */
export async function loadProbeModules(config: ProbesConfig): Promise<Map<string, ProbeModule>> {
  const modules = new Map<string, ProbeModule>();
  const file = config.modulesFile;
  if (file) {
    let text: string;
    try {
      text = await readBounded(file, config.maxModulesFileBytes);
    } catch (err) {
      throw new ConfigInvalidError(file, [{ path: '(file)', message: (err as Error).message }]);
    }
    const yaml = parseYaml(text);
    const result = yaml.ok ? validate(blackboxConfigSchema, yaml.value ?? {}) : yaml;
    if (!result.ok) throw new ConfigInvalidError(file, result.errors);
    for (const [name, module] of Object.entries(result.value.modules)) modules.set(name, module);
  }
  for (const [name, module] of Object.entries(config.modules)) modules.set(name, module);
  return modules;
}
