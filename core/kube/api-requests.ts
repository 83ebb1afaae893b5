import { describeError } from '../errors.ts';

/** The API server answered with an error status; `message` is its Status object's message when it sent one. */
export class KubeApiError extends Error {
  readonly status: number;
  /** The Status object's reason (NotFound, Conflict, Expired, …), when there was one. */
  readonly reason: string | undefined;

  constructor(status: number, statusMessage: string | undefined, reason?: string) {
    super(statusMessage ? `HTTP ${status}: ${statusMessage}` : `HTTP ${status}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }

  /** From an answer's body: a Status object as a rule, but a proxy in between may answer with HTML. */
  static fromResponse(status: number, body: string): KubeApiError {
    let parsed: { message?: unknown; reason?: unknown } | undefined;
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      // Not a Status object: the status code alone it is.
    }
    const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
    return new KubeApiError(status, text(parsed?.message), text(parsed?.reason));
  }
}

/** The HTTP status the API server answered a failed request with; undefined when it did not answer. */
export function responseStatus(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.status : undefined;
}

/** One line for a failed request: the status and the API server's own words, or what kept it from answering. */
export function describeApiError(err: unknown): string {
  return err instanceof KubeApiError ? err.message : describeError(err);
}
