import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { enrichSchema, sourceFields } from '../sidecar/enrich.ts';
import { compilePipeline, FilePipeline, pipelineSchema } from '../sidecar/parse/pipeline.ts';
import { pipelineRecords } from './log-file-records.ts';
import { logbackLine, logbackTime, xorshift } from './logback-lines.ts';

/**
 * Sidecar records as the sidecar ships them, written to a file one per line as
 * `event.id \t @timestamp ms \t Kafka key \t ECS JSON`. JSON.stringify escapes
 * tabs and newlines, so the document never holds either.
 */
export interface RecordSet {
  path: string;
  count: number;
  /** Bytes of the JSON documents alone. */
  docBytes: number;
  /** The time span of `@timestamp`: [from, to). */
  from: number;
  to: number;
  /** UTC days, and so daily indices, the records fall in. */
  days: number;
  streams: number;
  namespaces: string[];
  /** Share of lines in each namespace. */
  namespaceShare: Record<string, number>;
  /** Share of lines written in a burst of several lines of one stream within one millisecond. */
  burstShare: number;
  /** Share of lines that hold each of `SEARCH_WORDS`. */
  wordShare: Record<string, number>;
  /** Records picked uniformly at random while writing: anchors for context queries. */
  sample: SampledRecord[];
}

export interface SampledRecord {
  id: string;
  namespace: string;
  time: number;
}

/** A record as read back from a record file. */
export interface FileRecord {
  id: string;
  time: number;
  key: Buffer;
  doc: Buffer;
}

/**
 * Words of the generated messages a developer would search for, with how
 * they are found in a line (the level is upper case in the line, lower case
 * in the query).
 */
export const SEARCH_WORDS: Record<string, string> = {
  timeout: 'cause=timeout',
  placed: ' placed by ',
  authorised: ' authorised,',
  evicted: ' evicted',
  pool: 'Connection pool',
  products: '/products/',
  error: ' ERROR ',
};

// Namespaces of unequal volume, as real clusters have: the first writes five times the last.
const NAMESPACES: [string, number][] = [
  ['shop', 5],
  ['payments', 3],
  ['search', 2],
  ['identity', 2],
  ['logistics', 1],
  ['platform', 1],
];
/** Per namespace: an API deployment whose pods have an audit container besides the app, and a worker. */
const DEPLOYMENTS: { suffix: string; pods: number; containers: [string, number][] }[] = [
  {
    suffix: 'api',
    pods: 3,
    containers: [
      ['app', 4],
      ['audit', 1],
    ],
  },
  { suffix: 'worker', pods: 2, containers: [['app', 2]] },
];
const NODES = 4;
const SAMPLE_SIZE = 2_000;
const CHUNK_CHARS = 1 << 20;
const ALPHANUMERIC = 'bcdfghjklmnpqrstvwxz2456789';

interface Stream {
  namespace: string;
  key: string;
  weight: number;
  pipeline: FilePipeline;
  offset: number;
}

function streams(random: () => number): Stream[] {
  const config = compilePipeline(pipelineSchema.parse({ parser: { type: 'auto' } }));
  const enrich = enrichSchema.parse({});
  const chars = (n: number, alphabet: string) =>
    Array.from({ length: n }, () => alphabet[random() % alphabet.length]).join('');
  const out: Stream[] = [];
  let inode = 1000;
  let pods = 0;
  for (const [namespace, nsWeight] of NAMESPACES) {
    for (const deployment of DEPLOYMENTS) {
      const app = `${namespace}-${deployment.suffix}`;
      const template = chars(10, '0123456789abcdef');
      for (let p = 0; p < deployment.pods; p++) {
        const podName = `${app}-${template}-${chars(5, ALPHANUMERIC)}`;
        const podUid = [8, 4, 4, 4, 12].map((n) => chars(n, '0123456789abcdef')).join('-');
        const nodeName = `node-${pods++ % NODES}`;
        for (const [containerName, weight] of deployment.containers) {
          const source = sourceFields(
            enrich,
            { namespace, podName, podUid, containerName, nodeName, labels: { app } },
            podName,
          );
          const path = `/var/log/${containerName}/${containerName}.log`;
          const identity = {
            dev: 64768,
            ino: inode++,
            fingerprint: chars(16, '0123456789abcdef'),
            fingerprintLength: 64,
            generation: 0,
          };
          out.push({
            namespace,
            key: `${namespace}/${podName}`,
            weight: nsWeight * weight,
            pipeline: new FilePipeline(config, { source, identity, path }),
            offset: 0,
          });
        }
      }
    }
  }
  return out;
}

/**
 * Writes `count` records over [from, to): logback-style lines from the eight
 * containers of five pods in each of six namespaces, through the sidecar's own
 * parse and record pipeline (auto parser, timestamp and level from the line,
 * Kubernetes fields as the Downward API gives them). Lines come in bursts of
 * one stream within one millisecond, as a service logs a request's lines, and
 * the streams interleave in time order, as Kafka receives them.
 */
export async function writeRecordSet(
  path: string,
  count: number,
  from: number,
  to: number,
  seed: number,
): Promise<RecordSet> {
  const random = xorshift(seed);
  const all = streams(random);
  const totalWeight = all.reduce((sum, s) => sum + s.weight, 0);
  const pickStream = () => {
    let r = (random() / 2 ** 32) * totalWeight;
    for (const stream of all) {
      r -= stream.weight;
      if (r < 0) return stream;
    }
    return all.at(-1)!;
  };
  const out = createWriteStream(path);
  const words = Object.entries(SEARCH_WORDS);
  const wordHits = new Array<number>(words.length).fill(0);
  const sample: SampledRecord[] = [];
  const days = new Set<number>();
  const perNamespace = new Map<string, number>();
  let chunk = '';
  let docBytes = 0;
  let inBursts = 0;
  let written = 0;
  const span = to - from;
  while (written < count) {
    const stream = pickStream();
    // Half the bursts are a single line; the others up to 16 lines in one millisecond.
    const burst = Math.min(count - written, random() % 2 ? 1 + (random() % 16) : 1);
    const time = from + Math.floor((written / count) * span);
    const at = logbackTime(time);
    days.add(Math.floor(time / 86_400_000));
    if (burst > 1) inBursts += burst;
    perNamespace.set(stream.namespace, (perNamespace.get(stream.namespace) ?? 0) + burst);
    for (let b = 0; b < burst; b++) {
      const text = logbackLine(at, random);
      const end = stream.offset + text.length + 1;
      const entries = stream.pipeline.push({
        text,
        offset: stream.offset,
        end,
        truncated: false,
        readAt: time,
        receivedAt: time,
      });
      stream.offset = end;
      words.forEach(([, needle], i) => {
        if (text.includes(needle)) wordHits[i]!++;
      });
      for (const entry of pipelineRecords(stream.pipeline, entries)) {
        // Reservoir sampling: every record is equally likely to be an anchor, whatever the count.
        const sampled = { id: entry.id, namespace: stream.namespace, time: entry.time };
        if (sample.length < SAMPLE_SIZE) sample.push(sampled);
        else {
          const slot = random() % (written + 1);
          if (slot < SAMPLE_SIZE) sample[slot] = sampled;
        }
        docBytes += entry.doc.length;
        chunk += `${entry.id}\t${entry.time}\t${stream.key}\t${entry.doc}\n`;
        written++;
      }
    }
    if (chunk.length > CHUNK_CHARS) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return {
    path,
    count,
    docBytes,
    from,
    to,
    days: days.size,
    streams: all.length,
    namespaces: NAMESPACES.map(([name]) => name),
    namespaceShare: Object.fromEntries(
      NAMESPACES.map(([name]) => [name, (perNamespace.get(name) ?? 0) / count]),
    ),
    burstShare: inBursts / count,
    wordShare: Object.fromEntries(words.map(([word], i) => [word, wordHits[i]! / count])),
    sample,
  };
}

const TAB = 0x09;
const NEWLINE = 0x0a;

/** The records of a record file in batches of about `batchBytes` of documents, in file order. */
export async function* readRecords(path: string, batchBytes: number): AsyncGenerator<FileRecord[]> {
  let rest: Buffer = Buffer.alloc(0);
  let batch: FileRecord[] = [];
  let bytes = 0;
  for await (const data of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buffer: Buffer = rest.length > 0 ? Buffer.concat([rest, data as Buffer]) : (data as Buffer);
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE); end >= 0; end = buffer.indexOf(NEWLINE, start)) {
      const idEnd = buffer.indexOf(TAB, start);
      const timeEnd = buffer.indexOf(TAB, idEnd + 1);
      const keyEnd = buffer.indexOf(TAB, timeEnd + 1);
      const doc = buffer.subarray(keyEnd + 1, end);
      batch.push({
        id: buffer.toString('latin1', start, idEnd),
        time: Number(buffer.toString('latin1', idEnd + 1, timeEnd)),
        key: buffer.subarray(timeEnd + 1, keyEnd),
        doc,
      });
      bytes += doc.length;
      start = end + 1;
      if (bytes >= batchBytes) {
        yield batch;
        batch = [];
        bytes = 0;
      }
    }
    rest = buffer.subarray(start);
  }
  if (batch.length > 0) yield batch;
}
