/**
 * Reads a response body as blackbox does: decompressed by the module's
 * `compression` (blackbox's `deflate` is raw DEFLATE, as Go's compress/flate),
 * counted after decompression, and stopped at the size limit so a 1 GB body
 * or a compression bomb costs at most the limit.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflateRaw } from 'node:zlib';
import { describeError } from './failure-words.ts';

const DECOMPRESSORS = { gzip: createGunzip, deflate: createInflateRaw, br: createBrotliDecompress } as const;

export interface BodyOptions {
  compression: string;
  limitBytes: number;
  /** Keep the text (for regular expressions), not only count it. */
  keep: boolean;
  signal: AbortSignal;
}

export interface Body {
  /** Bytes after decompression, at most the limit: probe_http_uncompressed_body_length. */
  length: number;
  text?: string;
  overLimit: boolean;
  /** Why the body could not be read to its end. */
  error?: string;
}

export async function readBody(body: Readable, options: BodyOptions): Promise<Body> {
  const chunks: Buffer[] = [];
  let length = 0;
  let overLimit = false;
  const decompressor = DECOMPRESSORS[options.compression as keyof typeof DECOMPRESSORS];
  const count = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      const room = options.limitBytes - length;
      const taken = chunk.length > room ? chunk.subarray(0, room) : chunk;
      length += taken.length;
      if (options.keep) chunks.push(taken);
      if (chunk.length > room) {
        overLimit = true;
        return;
      }
    }
  };
  let error: string | undefined;
  try {
    if (decompressor) await pipeline(body, decompressor(), count, { signal: options.signal });
    else await pipeline(body, count, { signal: options.signal });
  } catch (err) {
    if (options.signal.aborted) throw err;
    error = describeError(err);
  }
  return {
    length,
    overLimit,
    ...(options.keep && { text: Buffer.concat(chunks).toString('utf8') }),
    ...(error !== undefined && { error }),
  };
}
