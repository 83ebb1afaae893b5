import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigInvalidError, loadConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { type RoutingConfig, routingSchema } from './config.ts';

/** Route robots that no `robots` entry defines, as config errors with their paths. */
export function unknownRobots(routing: RoutingConfig, known: readonly string[]) {
  const errors: { path: string; message: string }[] = [];
  const visit = (route: RoutingConfig['route'], path: string) => {
    route.robots?.forEach((robot, i) => {
      if (!known.includes(robot))
        errors.push({ path: `${path}.robots[${i}]`, message: `no robot named ${JSON.stringify(robot)}` });
    });
    route.routes?.forEach((child, i) => {
      visit(child, `${path}.routes[${i}]`);
    });
  };
  visit(routing.route, 'route');
  return errors;
}

/** Reads and checks a routing file; throws ConfigInvalidError naming the file and each bad path. */
export async function loadRoutingFile(file: string, robots: readonly string[]): Promise<RoutingConfig> {
  const routing = await loadConfig(routingSchema, file);
  const errors = unknownRobots(routing, robots);
  if (errors.length > 0) throw new ConfigInvalidError(file, errors);
  return routing;
}

/**
 * Watches a routing file and hands each good version to `apply`. Editors and
 * ConfigMap volumes replace the file rather than write it, so the folder is
 * watched, and a burst of changes is read once. A bad version is logged with
 * its error paths and the routing in force stays.
 */
export class RoutingFileWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;
  private readonly reload: () => Promise<void>;

  constructor(file: string, reload: () => Promise<void>) {
    this.file = file;
    this.reload = reload;
  }

  start(log: Logger): void {
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      // Kubernetes swaps a mounted ConfigMap through a `..data` link, so any change in the folder may be it.
      if (changed !== null && changed !== name && !changed.startsWith('..')) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), 200);
    });
    this.watcher.on('error', (err) => log.warn({ err, file: this.file }, 'cannot watch the routing file'));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
