import type { FrameReader } from './frame-reader.ts';
import { FrameWriter } from './frame-writer.ts';

/**
 * The requests this producer sends, each at one fixed version. All are
 * non-flexible versions that Kafka 2.4 introduced or kept and Kafka 4 still
 * serves (it dropped only versions older than 2.1's), so one encoding works
 * from 2.4 to 4.x; a broker that lacks one is told apart at connect time.
 */
export const APIS = {
  produce: { key: 0, version: 8, name: 'Produce' },
  metadata: { key: 3, version: 7, name: 'Metadata' },
  saslHandshake: { key: 17, version: 1, name: 'SaslHandshake' },
  apiVersions: { key: 18, version: 0, name: 'ApiVersions' },
  initProducerId: { key: 22, version: 1, name: 'InitProducerId' },
  saslAuthenticate: { key: 36, version: 1, name: 'SaslAuthenticate' },
} as const;

export type Api = (typeof APIS)[keyof typeof APIS];

/** A request ready to send, and how to read its response body. */
export interface KafkaRequest<T> {
  api: Api;
  frames: Buffer[];
  read: (reader: FrameReader) => T;
}

/** A request whose body `write` adds to the header. */
export function request<T>(
  api: Api,
  clientId: string,
  write: (writer: FrameWriter) => void,
  read: (reader: FrameReader) => T,
  capacity?: number,
): KafkaRequest<T> {
  const writer = new FrameWriter(api.key, api.version, clientId, capacity);
  write(writer);
  return { api, frames: writer.finish(), read };
}
