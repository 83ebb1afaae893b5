import { z } from 'zod';

// Shared value types for every component's schema. Durations and sizes are
// written the way operators write them ("30s", "64MiB") and parsed once here.

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  if (!match || unit === undefined) return undefined;
  return Math.round(Number(match[1]) * unit);
}

/** A number, or text with a unit that `parse` turns into one; the error shows what is expected. */
function withUnit(number: z.ZodNumber, parse: (text: string) => number | undefined, expected: string) {
  return z.union([number, z.string()]).transform((value, ctx) => {
    const parsed = typeof value === 'number' ? value : parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A duration such as "500ms", "30s", "5m", "1h", "7d"; a bare number means milliseconds. Parsed to ms. */
export const duration = () =>
  withUnit(z.number().nonnegative(), parseDuration, 'a duration like "30s" or "5m"');

/** A byte size such as "512KiB", "64MiB", "1GB"; a bare number means bytes. Parsed to bytes. */
export const byteSize = () =>
  withUnit(z.number().int().nonnegative(), parseSize, 'a size like "512KiB" or "64MiB"');

const HOST_PORT = /^(?:\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?):(\d{1,5})$/i;

/** "host:port", as Kafka brokers and listen addresses are written. */
export const hostPort = () =>
  z.string().refine((value) => HOST_PORT.test(value) && Number(value.split(':').at(-1)) <= 65535, {
    error: (issue) => `expected host:port, got ${JSON.stringify(issue.input)}`,
  });

export const httpUrl = () =>
  z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
    {
      error: (issue) => `expected an http(s) URL, got ${JSON.stringify(redactUrl(String(issue.input)))}`,
      // Checks chained after this one parse the URL; they must not run on one that does not parse.
      abort: true,
    },
  );

/** A regular expression written as a string; checked at load time so a typo is a config error, not a crash. */
export const regex = () =>
  z.string().refine(
    (value) => {
      try {
        new RegExp(value);
        return true;
      } catch {
        return false;
      }
    },
    { error: (issue) => `expected a valid regular expression, got ${JSON.stringify(issue.input)}` },
  );

/** Names of settings whose values are secrets: never echoed in logs or error messages. */
export const SECRET_KEY = /token|secret|password|passwd|api_?key|credential|authorization|^key$|^sign$/i;

/** Drops the query string and credentials, where chat robots and proxies keep their secrets. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = 'redacted';
    if (url.search) url.search = '?redacted';
    return url.toString();
  } catch {
    return text.replace(/\?.*$/, '?redacted');
  }
}
