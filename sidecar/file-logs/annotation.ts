/** One entry of a pod's file-logs annotation: the files matching `pattern` in the emptyDir `volume`. */
export interface FileLogEntry {
  volume: string;
  /** Absolute: the path as the container that mounts the volume sees it. Relative: inside the volume. */
  pattern: string;
}

export type Judged<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A volume's name is a DNS label, as the API server requires. */
const VOLUME_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Entries end at a newline, or at a comma outside braces: `{info,error}.log` is one pattern. Empty
 * entries (a trailing comma or newline) are nothing; unbalanced braces make the annotation unreadable.
 */
function splitEntries(value: string): string[] | undefined {
  const entries: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    const char = value[i];
    if (char === '{') depth++;
    else if (char === '}' && --depth < 0) return undefined;
    else if (char === undefined || char === '\n' || (char === ',' && depth === 0)) {
      if (char === '\n' && depth !== 0) return undefined;
      entries.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  return depth === 0 ? entries.filter(Boolean) : undefined;
}

/** Why a pattern cannot be read safely, or undefined when it can. */
function patternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'has no pattern after the volume';
  if (/[\\\0]/.test(pattern)) return 'has a backslash or NUL in its pattern';
  const segments = (pattern.startsWith('/') ? pattern.slice(1) : pattern).split('/');
  if (segments.includes('')) return 'has an empty path segment (// or a trailing /)';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a . or .. path segment';
  return undefined;
}

/**
 * Reads the annotation `volume:pattern[, volume:pattern …]` (commas or newlines between entries).
 * All or nothing: one bad entry refuses the whole annotation, with the reason. Repeated entries count once.
 */
export function parseFileLogsAnnotation(value: string, maxEntries: number): Judged<FileLogEntry[]> {
  const texts = splitEntries(value);
  if (!texts) return { ok: false, reason: 'its braces are unbalanced' };
  if (texts.length === 0) return { ok: false, reason: 'it names no file logs' };
  const entries = new Map<string, FileLogEntry>();
  for (const text of texts) {
    const colon = text.indexOf(':');
    if (colon < 0) return { ok: false, reason: `entry "${text}" is not <volume>:<pattern>` };
    const volume = text.slice(0, colon).trim();
    const pattern = text.slice(colon + 1).trim();
    if (!VOLUME_NAME.test(volume)) return { ok: false, reason: `entry "${text}" has no valid volume name` };
    const problem = patternProblem(pattern);
    if (problem) return { ok: false, reason: `entry "${text}" ${problem}` };
    entries.set(`${volume}:${pattern}`, { volume, pattern });
  }
  if (entries.size > maxEntries) {
    return { ok: false, reason: `it has ${entries.size} entries, more than the ${maxEntries} allowed` };
  }
  return { ok: true, value: [...entries.values()] };
}
