import { type ConfigurationOptions, Observable, type ObservableMiddleware } from '@kubernetes/client-node';
import { describeError } from '../errors.ts';

/**
 * Per-call options that abort a request after `ms`, or when `cancel` aborts. client-node sets no timeout
 * of its own, and a request to an API server that stopped answering would otherwise wait as long as the
 * TCP connection lives.
 */
export function requestTimeout(ms: number, cancel?: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (request) => {
          const timeout = AbortSignal.timeout(ms);
          request.setSignal(cancel ? AbortSignal.any([timeout, cancel]) : timeout);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** The HTTP status the API server answered a failed request with; undefined when it did not answer. */
export function responseStatus(err: unknown): number | undefined {
  // client-node's ApiException, which it does not export; an aborted request's DOMException has a numeric
  // code too, but no response headers.
  const { code, headers } = (err ?? {}) as { code?: unknown; headers?: unknown };
  return err instanceof Error && typeof code === 'number' && typeof headers === 'object' ? code : undefined;
}

/**
 * One line for a failed request. client-node's own message packs the raw body and every response header
 * into several lines; the API server's Status message is what says what went wrong.
 */
export function describeApiError(err: unknown): string {
  const status = responseStatus(err);
  if (status === undefined) return describeError(err);
  const { body } = err as { body?: unknown };
  let message: unknown;
  try {
    message = (typeof body === 'string' ? JSON.parse(body) : body)?.message;
  } catch {
    // Not a Status object (a proxy's HTML error page, say): the status code alone it is.
  }
  return typeof message === 'string' && message ? `HTTP ${status}: ${message}` : `HTTP ${status}`;
}
