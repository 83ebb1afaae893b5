import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function isNotFound(err: unknown): boolean {
  return errorCode(err) === 'ENOENT';
}

/**
 * Makes a directory's entries (a created, renamed or removed file) durable.
 * Some filesystems refuse fsync on a directory; there is nothing better to do
 * on those, so that refusal is not an error.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await handle.close();
  }
}

/** Writes and fsyncs `file`. The caller decides where it goes next (usually a rename). */
export async function writeFileSynced(file: string, data: string | Buffer): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` so that after a crash it holds either the old or the new
 * content, never a mix: tmp → fsync → rename → fsync dir. `beforeRename` runs
 * once the new content is durable and the old file is still in place.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Buffer,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await writeFileSynced(tmp, data);
    await beforeRename?.();
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(file));
}

/** Removes a file that may already be gone. */
export async function removeIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
