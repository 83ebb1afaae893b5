import { APIS, type Api, type KafkaRequest, request } from './apis.ts';
import { NONE } from './error-codes.ts';
import { KafkaBrokerError } from './errors.ts';

export type VersionRanges = Map<number, { min: number; max: number }>;

/** ApiVersions v0: the versions of each API the broker serves. Every broker answers it, even before SASL. */
export function apiVersionsRequest(clientId: string): KafkaRequest<VersionRanges> {
  return request(
    APIS.apiVersions,
    clientId,
    () => {},
    (reader) => {
      const code = reader.int16();
      if (code !== NONE) throw new KafkaBrokerError('ApiVersions', code);
      const ranges: VersionRanges = new Map();
      reader.array((r) => ranges.set(r.int16(), { min: r.int16(), max: r.int16() }));
      return ranges;
    },
  );
}

/** The first API among `needed` the broker does not serve at the version used here, described; else undefined. */
export function unsupported(ranges: VersionRanges, needed: readonly Api[]): string | undefined {
  for (const api of needed) {
    const range = ranges.get(api.key);
    if (!range) return `${api.name} is not served at all`;
    if (api.version < range.min || api.version > range.max) {
      return `${api.name} v${api.version} is needed and v${range.min}-v${range.max} are served`;
    }
  }
  return undefined;
}
