import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Counter } from 'prom-client';
import { ByteWriter } from '../../core/bytes.ts';
import type { Logger } from '../../core/log.ts';
import type { Entry } from './sink.ts';

/**
 * Records a destination refused for good (a mapping conflict, a message over
 * the broker's size limit) are kept here, one JSON line each with the reason,
 * never dropped silently. The file rolls over once at maxBytes.
 */
export class DeadLetterFile {
  private readonly path: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly counter: Counter<'sink'>;
  private readonly sink: string;
  private readonly log: Logger;
  private ready: Promise<unknown> | undefined;

  constructor(opts: { dir: string; sink: string; maxBytes: number; counter: Counter<'sink'>; log: Logger }) {
    this.dir = opts.dir;
    this.path = join(opts.dir, `${opts.sink}.ndjson`);
    this.maxBytes = opts.maxBytes;
    this.counter = opts.counter;
    this.sink = opts.sink;
    this.log = opts.log;
  }

  async write(rejected: { entry: Entry; status: number | string; reason: string }[]): Promise<void> {
    if (rejected.length === 0) return;
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const size = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    if (size > this.maxBytes) await rename(this.path, `${this.path}.1`);
    const now = new Date().toISOString();
    const out = new ByteWriter();
    for (const r of rejected) {
      out
        .text(
          `{"time":${JSON.stringify(now)},"sink":${JSON.stringify(this.sink)},"status":${JSON.stringify(r.status)},` +
            `"reason":${JSON.stringify(r.reason)},"event.id":${JSON.stringify(r.entry.id)},"record":`,
        )
        .bytes(r.entry.doc)
        .text('}\n');
    }
    await appendFile(this.path, out.finish());
    this.counter.inc({ sink: this.sink }, rejected.length);
    this.log.warn(
      { sink: this.sink, count: rejected.length, reason: rejected[0]!.reason, file: this.path },
      'records refused by the destination were written to the dead-letter file',
    );
  }
}
