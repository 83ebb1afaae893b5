import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Some filesystems refuse fsync on a directory; there is nothing better to do on those. */
function dirSyncUnsupported(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'EINVAL' || code === 'EISDIR' || code === 'EPERM';
}

export function isNotFound(err: unknown): boolean {
  return errorCode(err) === 'ENOENT';
}

/** Makes a directory's entries (a created, renamed or removed file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    if (!dirSyncUnsupported(err)) throw err;
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

/**
 * The same guarantee as writeFileAtomic for callers that must not yield
 * between deciding and writing (an append-only log being compacted while
 * appends keep coming).
 */
export function writeFileAtomicSync(file: string, data: Buffer): void {
  const tmp = `${file}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone, or never created.
    }
    throw err;
  }
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } catch (err) {
    if (!dirSyncUnsupported(err)) throw err;
  } finally {
    closeSync(dir);
  }
}

/** Removes a file that may already be gone. */
export async function removeIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
