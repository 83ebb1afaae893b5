import { open } from 'node:fs/promises';
import { type ConfigError, ConfigInvalidError, parseYaml, validate } from '../../core/config.ts';
import { blackboxConfigSchema } from './module-config.ts';
import { targetAddress } from './probe-target.ts';
import type { ProbesConfig } from './probes-config.ts';
import { unknownModule } from './target-config.ts';
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
 * Each target of the configuration names one of the modules and is a target
 * its prober reads (an http URL, `host:port`); refused with the setting's
 * path. Checked with the files, so that a SIGHUP bringing a modules file
 * without a module a target uses leaves the probes in force running.
 */
function checkConfigTargets(config: ProbesConfig, modules: ReadonlyMap<string, ProbeModule>): void {
  const errors: ConfigError[] = [];
  config.targets.forEach((spec, index) => {
    const path = `alertRules.probes.targets[${index}]`;
    const module = modules.get(spec.module);
    if (!module) {
      errors.push({ path: `${path}.module`, message: unknownModule(spec.module, modules) });
      return;
    }
    try {
      targetAddress(spec.target, module.prober);
    } catch (err) {
      errors.push({ path: `${path}.target`, message: (err as Error).message });
    }
  });
  if (errors.length > 0) throw new ConfigInvalidError('probe targets', errors);
}

/**
 * The probe modules by name: those of the blackbox_exporter file, unchanged,
 * then those written in Lookout's configuration (which win). A broken file is
 * refused with its path and every problem, as blackbox refuses it, and so is
 * a target of the configuration that the modules cannot probe.
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
  checkConfigTargets(config, modules);
  return modules;
}
