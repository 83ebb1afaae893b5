import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Where fetched servers are kept between runs; outside the repo so `git clean` and fresh clones don't lose it. */
export function cacheDir(): string {
  const { LOOKOUT_CACHE_DIR, XDG_CACHE_HOME } = process.env;
  if (LOOKOUT_CACHE_DIR) return LOOKOUT_CACHE_DIR;
  return path.join(XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'lookout');
}

/**
 * Returns `dir`, filling it first if it is missing. The filling happens in a sibling directory that is
 * renamed into place at the end, so an interrupted fetch is never taken for a complete one and two runs
 * fetching at once don't trip over each other.
 */
export async function cachedDir(dir: string, fill: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(dir)) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = await mkdtemp(`${dir}.partial-`);
  try {
    await fill(tmp);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (existsSync(dir)) return dir;
    throw err;
  }
  return dir;
}

/** A fresh directory for one server's data, config and log; the server handle deletes it on close(). */
export function makeRunDir(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `lookout-infra-${name}-`));
}

/** Runs `prepare` with a fresh run directory, deleting the directory again if `prepare` fails. */
export async function withRunDir<T>(name: string, prepare: (runDir: string) => Promise<T>): Promise<T> {
  const runDir = await makeRunDir(name);
  try {
    return await prepare(runDir);
  } catch (err) {
    await rm(runDir, { recursive: true, force: true });
    throw err;
  }
}
