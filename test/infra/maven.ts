import { onPath, run } from './exec.ts';

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs mvn in batch mode. Calls are serialised: Maven 3.8 does not lock its local repository, and two
 * builds downloading the same plugin at once can leave a corrupt jar behind.
 */
export function mvn(args: string[]): Promise<string> {
  if (!onPath('mvn')) throw new Error('mvn not found: install Maven (Debian package "maven")');
  const next = queue.then(() => run('mvn', ['-B', '-q', ...args]));
  queue = next.catch(() => {});
  return next;
}
