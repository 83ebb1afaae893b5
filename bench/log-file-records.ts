import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { LogRecord } from '../core/record/log-record.ts';
import { enrichSchema, sidecarSourceFields, withFileService } from '../sidecar/enrich.ts';
import { compilePipeline, FilePipeline, pipelineSchema } from '../sidecar/parse/pipeline.ts';
import { decodePayload, type PayloadEntry } from '../sidecar/record.ts';
import type { LogFileSet } from './logback-lines.ts';
import { shipperEnv } from './lookout-sidecar.ts';

/** The records of a pipeline's entries, as the sidecar's queue holds them. */
export function pipelineRecords(pipeline: FilePipeline, entries: PayloadEntry[]): LogRecord[] {
  const payload = pipeline.payload(64 * 1024, Number.POSITIVE_INFINITY);
  for (const entry of entries) payload.add(entry);
  return decodePayload(payload.finish()).entries;
}

/**
 * The records a sidecar with the default pipeline makes of a file set, in the record-file format the bulk
 * loader reads (`event.id \t @timestamp ms \t Kafka key \t ECS JSON`, see sidecar-records.ts): the same
 * documents the sidecar sends, but for `log.file.id` and `event.id`, which hash a file identity made up
 * here. Returns the bytes of the documents.
 */
export async function writeFileRecords(files: LogFileSet, path: string): Promise<number> {
  const enrich = enrichSchema.parse({});
  const env = shipperEnv('sidecar');
  const pod = await sidecarSourceFields(enrich, env);
  const key = `${env[enrich.env.namespace]}/${env[enrich.env.podName]}`;
  const compiled = compilePipeline(pipelineSchema.parse({}));
  const out = createWriteStream(path);
  let docBytes = 0;
  for (const [ino, file] of files.paths.entries()) {
    const identity = { dev: 0, ino, fingerprint: '', fingerprintLength: 0, generation: 0 };
    const pipeline = new FilePipeline(compiled, { source: withFileService(pod, file), identity, path: file });
    let offset = 0;
    let chunk = '';
    const write = async (entries: PayloadEntry[]) => {
      for (const e of pipelineRecords(pipeline, entries)) {
        docBytes += e.doc.length;
        chunk += `${e.id}\t${e.time}\t${key}\t${e.doc}\n`;
      }
      if (chunk.length < 1 << 20) return;
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    };
    for await (const text of createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      const end = offset + Buffer.byteLength(text) + 1;
      const now = Date.now();
      await write(pipeline.push({ text, offset, end, truncated: false, readAt: now, receivedAt: now }));
      offset = end;
    }
    await write(pipeline.flush(Date.now(), true));
    if (chunk && !out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return docBytes;
}
