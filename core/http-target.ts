import { readFile } from 'node:fs/promises';
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import { httpUrl } from './config-types.ts';
import { tlsOptions, tlsSchema } from './tls-config.ts';

/** An HTTP endpoint of another system (Prometheus, a remote-write receiver, Alertmanager) and how to authenticate to it. */
export const httpTargetSchema = z.strictObject({
  /** Base URL; a path prefix (`https://host/prometheus`) is kept. */
  url: httpUrl().refine((value) => !new URL(value).username, {
    error: 'put credentials under auth, not in the URL',
  }),
  auth: z
    .union([
      z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
      /** Read again for every request, so a rotated secret is picked up. */
      z.strictObject({ username: z.string().min(1), passwordFile: z.string().min(1) }),
      z.strictObject({ bearerToken: z.string().min(1) }),
      /** Read again for every request, so a rotated token (a projected service-account token) is picked up. */
      z.strictObject({ bearerTokenFile: z.string().min(1) }),
    ])
    .optional(),
  tls: tlsSchema.optional(),
  /** Sent with every request (a tenant header, say); an Authorization here is replaced by auth's. */
  headers: z.record(z.string(), z.string()).default({}),
});
export type HttpTargetConfig = z.output<typeof httpTargetSchema>;

/** An endpoint ready for requests: its URLs, a connection pool, and the headers of the next request. */
export interface HttpTarget {
  /** `path` (no leading slash) under the base URL. */
  url(path: string): string;
  readonly dispatcher: Dispatcher;
  /** The configured headers and the authorization, with secret files read now. */
  headers(): Promise<Record<string, string>>;
  /** Closes the pool; again is harmless. */
  close(): Promise<void>;
}

/** Opens a pool of at most `connections` connections; TLS files are read now. */
export function openHttpTarget(config: HttpTargetConfig, connections: number): HttpTarget {
  const base = new URL(config.url);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const dispatcher = new Agent({ connections, connect: config.tls && tlsOptions(config.tls) });
  let closed: Promise<void> | undefined;
  return {
    url: (path) => new URL(path, base).toString(),
    dispatcher,
    async headers() {
      const headers = { ...config.headers };
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase() === 'authorization' && config.auth) delete headers[name];
      }
      const authorization = await authorizationHeader(config.auth);
      if (authorization) headers.authorization = authorization;
      return headers;
    },
    close: () => {
      closed ??= dispatcher.close();
      return closed;
    },
  };
}

async function authorizationHeader(auth: HttpTargetConfig['auth']): Promise<string | undefined> {
  if (!auth) return undefined;
  if ('bearerToken' in auth) return `Bearer ${auth.bearerToken}`;
  if ('bearerTokenFile' in auth) return `Bearer ${await readSecret(auth.bearerTokenFile)}`;
  const password = 'password' in auth ? auth.password : await readSecret(auth.passwordFile);
  return `Basic ${Buffer.from(`${auth.username}:${password}`).toString('base64')}`;
}

async function readSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    // The message names the file, never its content.
    throw new Error(`cannot read the credentials file: ${(err as Error).message}`);
  }
}

/** A response body larger than this many bytes is refused rather than buffered. */
export class ResponseTooLargeError extends Error {
  constructor(limit: number) {
    super(`the response is larger than the limit of ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** The whole body, but never more than `limit` bytes of it in memory: a hostile server cannot exhaust ours. */
export async function readBodyLimited(response: Dispatcher.ResponseData, limit: number): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (declared > limit) {
    response.body.destroy();
    throw new ResponseTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.body.destroy();
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
