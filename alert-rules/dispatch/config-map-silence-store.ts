import { responseStatus } from '../../core/kube/api-requests.ts';
import type { KubeClient } from '../../core/kube/client.ts';
import { type ConfigMap, configMapsPath, readConfigMap } from '../../core/kube/objects.ts';
import {
  type LoadedSilences,
  mergeSilences,
  parseSilences,
  type Silence,
  type SilenceStore,
  serializeSilences,
} from './silence-store.ts';

export interface ConfigMapSilenceOptions {
  kube: KubeClient;
  namespace: string;
  name: string;
  /** Expired silences older than this are not carried over from what another replica wrote. */
  retentionMs: number;
  /** The stored text at most; a ConfigMap holds at most 1 MiB. */
  maxBytes: number;
  now?: () => number;
}

const KEY = 'silences.json';
const CORRUPT_KEY = 'silences.corrupt.json';
/** Conflicts in a row before a save gives up: each means another replica wrote in between. */
const SAVE_ATTEMPTS = 5;

/**
 * Silences in a ConfigMap that every replica reads and writes. A save reads
 * what is there, merges it with this replica's silences (the version updated
 * last wins, as between Alertmanager peers) and writes the result with the
 * resourceVersion it read, so a concurrent write is never overwritten
 * unseen: on a conflict it reads and merges again.
 */
export class ConfigMapSilenceStore implements SilenceStore {
  private readonly options: ConfigMapSilenceOptions;

  constructor(options: ConfigMapSilenceOptions) {
    this.options = options;
  }

  describe(): string {
    return `ConfigMap ${this.options.namespace}/${this.options.name}`;
  }

  async load(): Promise<LoadedSilences> {
    const text = (await this.read())?.data?.[KEY];
    if (text === undefined) return { silences: [] };
    try {
      return { silences: parseSilences(text) };
    } catch (err) {
      // The next save keeps the unreadable text under another key for inspection.
      return {
        silences: [],
        corrupt: { error: (err as Error).message, movedTo: `${this.describe()} key ${CORRUPT_KEY}` },
      };
    }
  }

  async save(silences: readonly Silence[]): Promise<void> {
    const { kube, namespace, name } = this.options;
    for (let attempt = 1; ; attempt++) {
      const current = await this.read();
      const text = this.merged(current?.data, silences);
      const data = { ...current?.data, [KEY]: text };
      if (Buffer.byteLength(text) > this.options.maxBytes) {
        throw new Error(
          `silences take ${Buffer.byteLength(text)} bytes, more than the ${this.options.maxBytes} allowed`,
        );
      }
      const body: ConfigMap = {
        metadata: { name, resourceVersion: current?.metadata?.resourceVersion },
        data,
      };
      try {
        if (current) await kube.put(configMapsPath(namespace, name), body);
        else await kube.post(configMapsPath(namespace), body);
        return;
      } catch (err) {
        if (responseStatus(err) !== 409 || attempt >= SAVE_ATTEMPTS) throw err;
      }
    }
  }

  /** Ours merged with what is stored; unreadable stored text is moved to its own key first. */
  private merged(data: Record<string, string> | undefined, silences: readonly Silence[]): string {
    const stored = data?.[KEY];
    let theirs: Silence[] = [];
    if (stored !== undefined) {
      try {
        theirs = parseSilences(stored);
      } catch {
        data![CORRUPT_KEY] = stored;
      }
    }
    const now = (this.options.now ?? Date.now)();
    const kept = mergeSilences(silences, theirs).filter((s) => s.endsAt + this.options.retentionMs > now);
    return serializeSilences(kept);
  }

  private read(): Promise<ConfigMap | undefined> {
    const { kube, namespace, name } = this.options;
    return readConfigMap(kube, namespace, name);
  }
}
