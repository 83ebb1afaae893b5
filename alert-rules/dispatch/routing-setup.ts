import { readFile } from 'node:fs/promises';
import { type ConfigError, ConfigInvalidError } from '../../core/config.ts';
import { parseAlertmanagerConfig } from './alertmanager-config.ts';
import { type ReceiverTarget, robotReceiver } from './dispatcher.ts';
import { Inhibitor } from './inhibit.ts';
import { RouteTree } from './route-tree.ts';
import type { TimeIntervals } from './time-intervals.ts';

/** What an Alertmanager configuration file sets up, ready for the dispatcher. */
export interface Routing {
  tree: RouteTree;
  inhibitor: Inhibitor;
  timeIntervals: TimeIntervals;
  receiver(name: string): ReceiverTarget | undefined;
  /** Lines worth logging that do not stop the file from working (receivers' integrations, which are not used). */
  warnings: string[];
}

/**
 * Reads the Alertmanager file and checks that every receiver its routes name
 * reaches robots that exist: a typo is an error at load, not a group that is
 * never told.
 */
export async function loadRouting(
  file: string,
  receivers: Readonly<Record<string, ReceiverTarget>>,
  robots: readonly string[],
): Promise<Routing> {
  const config = parseAlertmanagerConfig(await readFile(file, 'utf8'), file);
  const tree = new RouteTree(config.route);
  const receiver = (name: string) => receivers[name] ?? robotReceiver(name);
  const errors: ConfigError[] = [];
  const known = new Set(robots);
  for (const name of new Set(tree.routes().map((route) => route.receiver))) {
    const missing = receiver(name).robots.filter((robot) => !known.has(robot));
    if (missing.length > 0) {
      errors.push({
        path: `receivers.${name}`,
        message: receivers[name]
          ? `names robots that are not configured: ${missing.join(', ')}`
          : `is not mapped to robots under alertRules.routing.receivers, and no robot is named "${name}"`,
      });
    }
  }
  if (errors.length > 0) throw new ConfigInvalidError(file, errors);
  return {
    tree,
    inhibitor: new Inhibitor(config.inhibitRules),
    timeIntervals: config.timeIntervals,
    receiver,
    warnings: config.warnings,
  };
}
