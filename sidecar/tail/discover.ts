import { type FSWatcher, watch } from 'node:fs';
import { glob } from 'node:fs/promises';
import { dirname, isAbsolute, matchesGlob, resolve, sep } from 'node:path';

export interface InputPatterns {
  paths: readonly string[];
  exclude: readonly string[];
}

/** The directory part of a glob before its first wildcard: where to watch. */
export function globBase(pattern: string): string {
  const parts = pattern.split(sep);
  const fixed: string[] = [];
  for (const part of parts) {
    if (/[*?[\]{}]/.test(part)) break;
    fixed.push(part);
  }
  const base = fixed.join(sep) || sep;
  return fixed.length === parts.length ? dirname(base) : base;
}

/** Every file the patterns match now, minus the excluded ones. Symlinks are returned as their link paths. */
export async function findFiles(input: InputPatterns): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of input.paths) {
    const absolute = isAbsolute(pattern) ? pattern : resolve(pattern);
    for await (const path of glob(absolute)) {
      if (!input.exclude.some((ex) => matchesGlob(path, ex) || matchesGlob(path.split(sep).at(-1)!, ex))) {
        found.add(path);
      }
    }
  }
  return [...found];
}

/**
 * Wakes the tailer as soon as something changes under the patterns' base
 * directories. inotify can miss events (overflow, some network filesystems),
 * so the tailer also scans on an interval; this only makes it prompter.
 */
export class DirectoryWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly onChange: () => void;

  constructor(onChange: () => void) {
    this.onChange = onChange;
  }

  /**
   * Watches the bases of these patterns that exist now, and no others; called again on every scan to
   * pick up directories created since and let go of those no pattern needs any more.
   */
  update(patterns: readonly string[]): void {
    const bases = new Map<string, boolean>();
    for (const pattern of patterns) {
      const base = globBase(isAbsolute(pattern) ? pattern : resolve(pattern));
      bases.set(base, bases.get(base) === true || pattern.includes('**'));
    }
    for (const [base, watcher] of this.watchers) {
      if (bases.has(base)) continue;
      watcher.close();
      this.watchers.delete(base);
    }
    for (const [base, recursive] of bases) {
      if (this.watchers.has(base)) continue;
      try {
        const watcher = watch(base, { recursive, persistent: false }, this.onChange);
        watcher.on('error', () => {
          watcher.close();
          this.watchers.delete(base);
        });
        this.watchers.set(base, watcher);
      } catch {
        // Base directory missing or not watchable: the periodic scan covers it.
      }
    }
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}
