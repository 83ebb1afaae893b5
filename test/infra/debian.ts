import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { onPath, run } from './exec.ts';

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

let queue: Promise<unknown> = Promise.resolve();

/**
 * Installs the Debian packages whose commands are missing from PATH. Takes a map of command to package.
 * Installs are serialised because dpkg holds a lock.
 */
export function ensureCommands(packageByCommand: Record<string, string>): Promise<void> {
  return ensure(packageByCommand, (command) => onPath(command) !== undefined);
}

/** Installs the Debian packages whose files (fonts, data) are missing. Takes a map of path to package. */
export function ensureFiles(packageByPath: Record<string, string>): Promise<void> {
  return ensure(packageByPath, existsSync);
}

function ensure(packageByWhat: Record<string, string>, present: (what: string) => boolean): Promise<void> {
  const missing = Object.entries(packageByWhat)
    .filter(([what]) => !present(what))
    .map(([, pkg]) => pkg);
  const next = queue.then(() => installMissing(missing));
  queue = next.catch(() => {});
  return next;
}

async function installMissing(missing: string[]): Promise<void> {
  if (missing.length === 0) return;
  const packages = [...new Set(missing)];
  const howTo = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (!onPath('apt-get'))
    throw new Error(`missing commands and no apt-get here; install: ${packages.join(' ')}`);
  if (process.getuid?.() !== 0) throw new Error(`missing packages; as root run: ${howTo}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await withServiceStartsDenied(async () => {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
  });
}

/**
 * These packages' maintainer scripts start their services; the tests start their own copies on other
 * ports, so a policy-rc.d that answers "denied" (101) keeps the daemons from starting at install time.
 */
async function withServiceStartsDenied(install: () => Promise<void>): Promise<void> {
  if (existsSync(POLICY_RC_D)) return install();
  await writeFile(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    await install();
  } finally {
    await rm(POLICY_RC_D, { force: true });
  }
}
