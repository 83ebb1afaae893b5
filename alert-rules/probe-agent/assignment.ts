import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import { formatConfigErrors, validate } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { type Assignment, assignmentSchema } from '../probes/agent-protocol.ts';
import { probeModuleSchema } from '../probes/module-config.ts';
import type { Probed } from '../probes/probe-runner.ts';
import type { ProbeModule } from '../probes/types.ts';

const ASSIGNMENT_FILE = 'assignment.json';

const savedSchema = z.object({ etag: z.string(), assignment: assignmentSchema });
export type SavedAssignment = z.infer<typeof savedSchema>;

/**
 * The targets of an assignment, ready to probe: each module validated here
 * as the centre validated it; a target whose module this agent cannot take
 * (an older agent, a module for a newer one) is left out and logged.
 */
export function assignedTargets(assignment: Assignment, maxTargets: number, log: Logger): Probed[] {
  const modules = new Map<string, ProbeModule | undefined>();
  for (const [name, written] of Object.entries(assignment.modules)) {
    const result = validate(probeModuleSchema, written);
    if (!result.ok)
      log.error(
        { module: name, errors: formatConfigErrors(result.errors).split('\n') },
        'A probe module from the centre is not valid here; its targets are not probed',
      );
    modules.set(name, result.ok ? result.value : undefined);
  }
  const targets: Probed[] = [];
  for (const assigned of assignment.targets) {
    const module = modules.get(assigned.module);
    if (!module) continue;
    if (targets.length >= maxTargets) {
      log.error(
        { maxTargets, assigned: assignment.targets.length },
        'The centre assigns more targets than maxTargets; the rest are not probed',
      );
      break;
    }
    targets.push({
      id: assigned.id,
      target: assigned.target,
      moduleName: assigned.module,
      module,
      intervalMs: assigned.intervalMs,
      timeoutMs: Math.min(assigned.timeoutMs, assigned.intervalMs),
    });
  }
  return targets;
}

/** The last assignment, kept so that an agent restarted while the centre is away probes on. */
export class AssignmentFile {
  private readonly file: string;
  private readonly log: Logger;

  constructor(dir: string, log: Logger) {
    this.file = join(dir, ASSIGNMENT_FILE);
    this.log = log;
  }

  async load(): Promise<SavedAssignment | undefined> {
    try {
      const parsed = savedSchema.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      if (parsed.success) return parsed.data;
      this.log.error({ file: this.file }, 'The saved assignment is not understood; waiting for the centre');
    } catch (err) {
      if (!isNotFound(err))
        this.log.error(
          { file: this.file, err: (err as Error).message },
          'The saved assignment cannot be read',
        );
    }
    return undefined;
  }

  async save(saved: SavedAssignment): Promise<void> {
    try {
      await writeFileAtomic(this.file, JSON.stringify(saved));
    } catch (err) {
      this.log.warn({ file: this.file, err: (err as Error).message }, 'The assignment could not be saved');
    }
  }
}
