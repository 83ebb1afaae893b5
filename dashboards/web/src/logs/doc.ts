/** A log line as the search API returns it. */
export interface Hit {
  id: string;
  cursor: string;
  doc: Record<string, unknown>;
  anchor?: true;
  truncated?: true;
}

/** A field of a document by its dotted name, whether the document nests it or spells the dots. */
export function field(doc: Record<string, unknown>, name: string): unknown {
  if (name in doc) return doc[name];
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  // The longest prefix first: `log.file.path` may be nested as log → file.path or log.file → path.
  for (let at = name.lastIndexOf('.'); at > 0; at = name.lastIndexOf('.', at - 1)) {
    const inner = doc[name.slice(0, at)];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const found = field(inner as Record<string, unknown>, name.slice(at + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Every leaf of a document as dotted name and value, in the document's order. */
export function flatten(
  doc: Record<string, unknown>,
  prefix = '',
  out: [string, unknown][] = [],
): [string, unknown][] {
  for (const [key, value] of Object.entries(doc)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      flatten(value as Record<string, unknown>, name, out);
    } else out.push([name, value]);
  }
  return out;
}

/** The level's colour class: the usual words, whatever their case or abbreviation. */
export function levelClass(level: string): string {
  const l = level.toLowerCase();
  if (/^(fatal|crit|critical|emerg|alert|panic|error|err|severe)$/.test(l)) return 'level-error';
  if (/^(warn|warning)$/.test(l)) return 'level-warn';
  if (/^(info|notice|information)$/.test(l)) return 'level-info';
  if (/^(debug|trace|fine|finer|finest|dbg)$/.test(l)) return 'level-debug';
  return 'level-other';
}

/** The message as a JSON object, when it is one. */
export function jsonMessage(message: string): Record<string, unknown> | undefined {
  const trimmed = message.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(trimmed) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hourCycle: 'h23',
});

export function formatTime(value: unknown): string {
  const ms = typeof value === 'number' ? value : Date.parse(String(value));
  return Number.isFinite(ms) ? TIME.format(ms) : text(value);
}
