import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { SavedFile } from './saved-file.ts';
import type { ProbeTargetInput } from './target-config.ts';

export const API_TARGETS_FILE = 'probe-targets.json';

const targetsFileSchema = z.object({
  version: z.literal(1),
  savedAtMs: z.number(),
  targets: z.array(z.object({ id: z.string(), spec: z.record(z.string(), z.unknown()) })),
});

/**
 * The targets created through the API, as they were posted (after
 * validation), in the data directory: they are validated again at start
 * against the modules then in force. Every change is written before the API
 * answers (a failed write is logged, counted and done again with the next
 * change); changes made while a write is under way share the next one, so
 * ten thousand targets posted at once are not ten thousand writes of the
 * whole file.
 */
export class ApiTargets {
  private readonly specs = new Map<string, ProbeTargetInput>();
  private readonly file: SavedFile<z.infer<typeof targetsFileSchema>>;
  private writing: Promise<void> = Promise.resolve();
  /** The write not yet begun, which every change made meanwhile waits for. */
  private next: Promise<void> | undefined;

  constructor(options: { dataDir: string; maxBytes: number; log: Logger; metrics: Metrics }) {
    this.file = new SavedFile({
      path: join(options.dataDir, API_TARGETS_FILE),
      name: 'targets',
      schema: targetsFileSchema,
      maxBytes: options.maxBytes,
      log: options.log,
      metrics: options.metrics,
    });
  }

  async load(): Promise<Map<string, ProbeTargetInput>> {
    const saved = await this.file.load();
    for (const { id, spec } of saved?.targets ?? []) this.specs.set(id, spec as ProbeTargetInput);
    return new Map(this.specs);
  }

  has(id: string): boolean {
    return this.specs.has(id);
  }

  get(id: string): ProbeTargetInput | undefined {
    return this.specs.get(id);
  }

  async set(id: string, spec: ProbeTargetInput): Promise<void> {
    this.specs.set(id, spec);
    await this.save();
  }

  async delete(id: string): Promise<void> {
    this.specs.delete(id);
    await this.save();
  }

  /** Writes run one after another, each of the whole set as it is when the write begins. */
  private save(): Promise<void> {
    this.next ??= this.writing.then(() => {
      this.next = undefined;
      return this.file.save([
        () => ({
          version: 1,
          savedAtMs: Date.now(),
          targets: Array.from(this.specs, ([id, spec]) => ({ id, spec })),
        }),
      ]);
    });
    this.writing = this.next;
    return this.next;
  }
}
