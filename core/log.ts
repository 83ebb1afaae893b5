import pino, { type DestinationStream, type Logger } from 'pino';
import { redactUrl, SECRET_KEY } from './config-types.ts';

export type { Logger } from 'pino';

export interface LogOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream;
}

const URL_WITH_QUERY = /\bhttps?:\/\/[^\s"'<>]+\?[^\s"'<>]*/g;

/** Strips query strings (where webhook tokens live) from every URL inside a text. */
export function scrubUrls(text: string): string {
  return text.replace(URL_WITH_QUERY, (url) => redactUrl(url));
}

/** `password=…`, `api_key: "…"`, `Authorization: Bearer …`: a secret's name, then its value. */
const SECRET_PAIR =
  /\b([\w.-]*(?:token|secret|password|passwd|api_?key|credential|authorization)[\w.-]*"?\s*[=:]\s*"?)(?:(?:bearer|basic)\s+)?[^\s"',;&]+/gi;
const BEARER = /\b(bearer|basic)\s+[\w.~+/=-]{8,}/gi;

/**
 * Free text shown to people (a log line quoted in an alert): URL query
 * strings, values after a secret's name and bearer credentials are redacted.
 */
export function scrubSecrets(text: string): string {
  return scrubUrls(text).replace(SECRET_PAIR, '$1[redacted]').replace(BEARER, '$1 [redacted]');
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubUrls(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrubUrls(value.message),
      stack: value.stack && scrubUrls(value.stack),
    };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : scrubValue(v, depth + 1);
  return out;
}

/**
 * JSON logs on stdout. Secrets are removed by key name at any depth and by
 * shape (any URL's query string, in fields and in the message), because HTTP
 * client errors quote the URL they failed on.
 */
export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOOKOUT_LOG_LEVEL ?? 'info',
      name: options.name,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubValue(object, 0) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubUrls(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Node's own warnings become log lines like the rest, instead of plain text on stderr. */
export function logProcessWarnings(log: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    log.warn({ warning: warning.name }, warning.message);
  });
}
