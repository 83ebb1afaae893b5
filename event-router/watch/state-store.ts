import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import { describeError } from '../../core/errors.ts';
import { responseStatus } from '../../core/kube/api-requests.ts';
import type { KubeClient } from '../../core/kube/client.ts';
import { type ConfigMap, configMapsPath, readConfigMap } from '../../core/kube/objects.ts';
import type { Logger } from '../../core/log.ts';
import { limitKeys, type ResumeState } from './resume.ts';

/** Where the resume point is kept between runs (and between leaders). */
export interface StateStore {
  /** undefined when nothing was saved yet, or what was saved cannot be read. */
  load(): Promise<ResumeState | undefined>;
  save(state: ResumeState): Promise<void>;
  /** For logs: where the state lives. */
  describe(): string;
}

const resumeStateSchema = z.object({
  time: z.number(),
  keys: z.record(z.string(), z.object({ count: z.number(), lastTime: z.number() })),
});

/**
 * A state that cannot be read is reported and treated as missing: the router then starts from now, which
 * skips what happened while it was down but repeats nothing, rather than refusing to start at all.
 */
function parseState(text: string, where: string, log: Logger): ResumeState | undefined {
  try {
    return resumeStateSchema.parse(JSON.parse(text));
  } catch (err) {
    log.error(
      { where, err: describeError(err) },
      'The saved resume point cannot be read; starting from now as if it were missing',
    );
    return undefined;
  }
}

/** A JSON file, replaced atomically so that a crash leaves the old state or the new one, never a mix. */
export class FileStateStore implements StateStore {
  private readonly path: string;
  private readonly log: Logger;

  constructor(options: { path: string; log: Logger }) {
    this.path = options.path;
    this.log = options.log;
  }

  describe(): string {
    return `file ${this.path}`;
  }

  async load(): Promise<ResumeState | undefined> {
    try {
      return parseState(await readFile(this.path, 'utf8'), this.describe(), this.log);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async save(state: ResumeState): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, JSON.stringify(state));
  }
}

const STATE_KEY = 'state.json';
/** A ConfigMap holds at most 1 MiB; the rest is left for its metadata. */
const MAX_STATE_BYTES = 900_000;

/** The newest keys that fit in `maxBytes` of JSON; limitKeys moves the time past the dropped ones. */
function fitState(state: ResumeState, maxBytes: number): string {
  let fitted = state;
  let json = JSON.stringify(fitted);
  let keys = Object.keys(fitted.keys).length;
  while (Buffer.byteLength(json) > maxBytes && keys > 0) {
    // Aim a little under the limit, so one or two rounds are enough.
    keys = Math.min(keys - 1, Math.floor((keys * maxBytes * 0.95) / Buffer.byteLength(json)));
    fitted = limitKeys(fitted, keys);
    json = JSON.stringify(fitted);
  }
  return json;
}

/**
 * The state as JSON in one key of a ConfigMap, so that a new pod or a new leader resumes where the last one
 * stopped. Writes carry the resourceVersion last read: if another replica wrote in between, the conflict is
 * resolved by reading again and writing once more (only the leader saves, so that other writer was a leader
 * that has just lost its lease).
 */
export class ConfigMapStateStore implements StateStore {
  private readonly kube: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly log: Logger;
  /** resourceVersion of the ConfigMap as last read or written; undefined when it must be read first. */
  private resourceVersion: string | undefined;

  constructor(options: { kube: KubeClient; namespace: string; name: string; log: Logger }) {
    this.kube = options.kube;
    this.namespace = options.namespace;
    this.name = options.name;
    this.log = options.log;
  }

  describe(): string {
    return `ConfigMap ${this.namespace}/${this.name}`;
  }

  async load(): Promise<ResumeState | undefined> {
    const configMap = await this.read();
    const text = configMap?.data?.[STATE_KEY];
    return text === undefined ? undefined : parseState(text, this.describe(), this.log);
  }

  async save(state: ResumeState): Promise<void> {
    const json = fitState(state, MAX_STATE_BYTES);
    if (json.length < JSON.stringify(state).length) {
      this.log.warn(
        { where: this.describe(), keys: Object.keys(state.keys).length },
        'The resume point is too large for a ConfigMap; only the most recent events are kept',
      );
    }
    try {
      await this.write(json);
    } catch (err) {
      if (responseStatus(err) !== 409) throw err;
      // Someone else wrote (or created) it since we last read it.
      this.resourceVersion = undefined;
      await this.write(json);
    }
  }

  private async write(json: string): Promise<void> {
    if (this.resourceVersion === undefined && !(await this.read())) {
      const created = await this.kube.post<ConfigMap>(configMapsPath(this.namespace), {
        metadata: { name: this.name },
        data: { [STATE_KEY]: json },
      });
      this.resourceVersion = created.metadata?.resourceVersion;
      return;
    }
    const replaced = await this.kube.put<ConfigMap>(configMapsPath(this.namespace, this.name), {
      metadata: { name: this.name, resourceVersion: this.resourceVersion },
      data: { [STATE_KEY]: json },
    });
    this.resourceVersion = replaced.metadata?.resourceVersion;
  }

  private async read(): Promise<ConfigMap | undefined> {
    const configMap = await readConfigMap(this.kube, this.namespace, this.name);
    this.resourceVersion = configMap?.metadata?.resourceVersion;
    return configMap;
  }
}
