import { type Dispatcher, request } from 'undici';
import { type HttpTarget, openHttpTarget, readBodyLimited } from '../../core/http-target.ts';
import {
  type Assignment,
  assignmentSchema,
  type BatchReceipt,
  type ResultBatch,
} from '../probes/agent-protocol.ts';
import type { ProbeAgentConfig } from './config.ts';

const MAX_ERROR_BYTES = 4096;

/** The centre answered, but refused what was sent: sending it again would not help. */
export class RefusedError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export type Fetched = { changed: false } | { changed: true; etag: string; assignment: Assignment };

/** alert-rules as a probe agent talks to it: its assignment fetched, its results posted. */
export class CentreClient {
  private readonly target: HttpTarget;
  private readonly config: ProbeAgentConfig;

  constructor(config: ProbeAgentConfig) {
    this.config = config;
    this.target = openHttpTarget(config.centre, 2);
  }

  /** The location's assignment; `{changed: false}` when it is still the one of `etag`. */
  async assignment(etag: string | undefined): Promise<Fetched> {
    const query = new URLSearchParams({ location: this.config.location });
    const response = await request(this.target.url(`api/probe-agent/targets?${query}`), {
      headers: { ...(await this.target.headers()), ...(etag ? { 'if-none-match': etag } : {}) },
      dispatcher: this.target.dispatcher,
      signal: AbortSignal.timeout(this.config.requestTimeout),
    });
    if (response.statusCode === 304) {
      await response.body.dump();
      return { changed: false };
    }
    const body = await this.answer(response, this.config.maxAssignmentBytes);
    const assignment = assignmentSchema.parse(JSON.parse(body));
    return { changed: true, etag: String(response.headers.etag ?? ''), assignment };
  }

  /**
   * Posts a batch; throws RefusedError when the centre refuses it as it is,
   * another error to try again. `signal` ends the wait (a stop): the centre
   * may have taken the batch, which it recognises when it comes again.
   */
  async post(batch: ResultBatch, signal: AbortSignal): Promise<BatchReceipt> {
    const response = await request(this.target.url('api/probe-agent/results'), {
      method: 'POST',
      headers: { ...(await this.target.headers()), 'content-type': 'application/json' },
      body: JSON.stringify(batch),
      dispatcher: this.target.dispatcher,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.requestTimeout)]),
    });
    return JSON.parse(await this.answer(response, MAX_ERROR_BYTES)) as BatchReceipt;
  }

  close(): Promise<void> {
    return this.target.close();
  }

  private async answer(response: Dispatcher.ResponseData, limit: number): Promise<string> {
    const text = (await readBodyLimited(response, limit)).toString('utf8');
    const status = response.statusCode;
    if (status >= 200 && status < 300) return text;
    const detail = `HTTP ${status}: ${text.slice(0, 300)}`;
    // 400 and 413 are about what was sent; 401, 403 (a token to fix), 404, 429 and 5xx may pass.
    if (status === 400 || status === 413) throw new RefusedError(status, detail);
    throw new Error(detail);
  }
}
