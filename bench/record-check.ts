import { Kafka, logLevel } from 'kafkajs';

export interface KafkaRecord {
  key: string | undefined;
  value: string;
}

/**
 * Reads a topic from its start in a throwaway group, handing each record to `visit` until it returns
 * true, the topic runs out (no record for `idleMs`) or `timeoutMs` passes.
 */
async function readTopic(
  brokers: string[],
  topic: string,
  visit: (record: KafkaRecord) => boolean,
  timeoutMs = 60_000,
  idleMs = 5_000,
): Promise<void> {
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-sample-${topic}-${Date.now()}`,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
    let done = false;
    let idle = setTimeout(stop, timeoutMs);
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (done) return;
        clearTimeout(idle);
        idle = setTimeout(stop, idleMs);
        done = visit({ key: message.key?.toString(), value: String(message.value) });
        if (done) stop();
      },
    });
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    clearTimeout(idle);
  } finally {
    await consumer.disconnect();
  }
}

/** The first `count` records of a topic. */
async function firstRecords(brokers: string[], topic: string, count: number): Promise<KafkaRecord[]> {
  const records: KafkaRecord[] = [];
  await readTopic(brokers, topic, (record) => records.push(record) >= count);
  return records;
}

/**
 * Both sides' records of one sample, read back from their topics (which are deleted afterwards) and
 * compared line by line.
 */
export async function shippedAlike(
  brokers: string[],
  admin: ReturnType<Kafka['admin']>,
  lines: number,
  topics: { lookout: string; other: string },
): Promise<RecordComparison> {
  try {
    return compareRecords(
      await firstRecords(brokers, topics.lookout, lines),
      await firstRecords(brokers, topics.other, lines),
    );
  } finally {
    await admin.deleteTopics({ topics: [topics.lookout, topics.other] }).catch(() => {});
  }
}

/** How the records one side shipped for a set of lines compare with Lookout's for the same lines. */
export interface RecordComparison {
  /** One record of each side for the same line, as shipped. */
  lookout: KafkaRecord | undefined;
  other: KafkaRecord | undefined;
  /** The other side's records that are not valid JSON objects. */
  invalid: number;
  /** Records read of each side. */
  lookoutRecords: number;
  checked: number;
  /** Dotted field names only one side has. */
  onlyLookout: string[];
  onlyOther: string[];
  /** Lines found in both samples (by file path and offset), and the fields whose values differed, with an example. */
  sameLines: number;
  differing: { field: string; lookout: unknown; other: unknown }[];
}

/** Fields both sides fill by schemes of their own: a hash of the file's identity, or of its name. */
const OWN_SCHEME = new Set(['event.id', 'log.file.id']);

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else out.set(prefix, value);
  return out;
}

function parsed(records: KafkaRecord[]): { fields: Map<string, unknown>; record: KafkaRecord }[] {
  const out: { fields: Map<string, unknown>; record: KafkaRecord }[] = [];
  for (const record of records) {
    try {
      const value = JSON.parse(record.value) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        out.push({ fields: flatten(value), record });
    } catch {
      // Counted as invalid by the caller.
    }
  }
  return out;
}

const lineOf = (fields: Map<string, unknown>) => `${fields.get('log.file.path')}@${fields.get('log.offset')}`;

export function compareRecords(lookout: KafkaRecord[], other: KafkaRecord[]): RecordComparison {
  const ours = parsed(lookout);
  const theirs = parsed(other);
  const names = (side: typeof ours) => new Set(side.flatMap((r) => [...r.fields.keys()]));
  const ourNames = names(ours);
  const theirNames = names(theirs);
  const byLine = new Map(ours.map((r) => [lineOf(r.fields), r]));
  const differing = new Map<string, { field: string; lookout: unknown; other: unknown }>();
  let sameLines = 0;
  let pair: [KafkaRecord, KafkaRecord] | undefined;
  for (const r of theirs) {
    const mine = byLine.get(lineOf(r.fields));
    if (!mine) continue;
    sameLines++;
    pair ??= [mine.record, r.record];
    for (const [field, value] of r.fields) {
      if (OWN_SCHEME.has(field) || !mine.fields.has(field) || mine.fields.get(field) === value) continue;
      if (!differing.has(field))
        differing.set(field, { field, lookout: mine.fields.get(field), other: value });
    }
    if (mine.record.key !== r.record.key && !differing.has('(Kafka key)'))
      differing.set('(Kafka key)', { field: '(Kafka key)', lookout: mine.record.key, other: r.record.key });
  }
  return {
    lookout: pair?.[0] ?? lookout[0],
    other: pair?.[1] ?? other[0],
    invalid: other.length - theirs.length,
    lookoutRecords: lookout.length,
    checked: other.length,
    onlyLookout: [...ourNames].filter((n) => !theirNames.has(n)).sort(),
    onlyOther: [...theirNames].filter((n) => !ourNames.has(n)).sort(),
    sameLines,
    differing: [...differing.values()],
  };
}

/**
 * The comparison as Markdown: the verdict, then one record of each side for the same line, byte for byte
 * but for the benchmark's temporary directory, written `$WORK` (as is and JSON-escaped the way rsyslog does).
 */
export function comparisonText(c: RecordComparison, otherName: string, work: string): string {
  const hideWork = (text: string) =>
    text.replaceAll(work, '$WORK').replaceAll(work.replaceAll('/', '\\/'), '$WORK');
  const list = (names: string[]) => (names.length ? names.map((n) => `\`${n}\``).join(', ') : 'none');
  const differing = c.differing.length
    ? c.differing
        .map(
          (d) =>
            `\`${d.field}\` (Lookout ${JSON.stringify(d.lookout)}, ${otherName} ${JSON.stringify(d.other)})`,
        )
        .join('; ')
    : 'none';
  // A text block, not JSON: the formatter would lay JSON out anew, and what is shown is the bytes shipped.
  const sample = (r: KafkaRecord | undefined) =>
    r
      ? ['```text', hideWork(r.value), '```', '', `Kafka key: \`${r.key ?? '(none)'}\``]
      : ['(no record read)'];
  return [
    `Lookout shipped ${c.lookoutRecords.toLocaleString('en-US')} records. Of the ${c.checked.toLocaleString('en-US')} records ${otherName} shipped, ${c.invalid} were not valid JSON objects, and ${c.sameLines.toLocaleString('en-US')} were paired with Lookout's record of the same line (same file and offset). Fields only Lookout writes: ${list(c.onlyLookout)}; only ${otherName}: ${list(c.onlyOther)}. Fields whose values differed for the same line (\`event.id\` and \`log.file.id\` aside, made by each side's own scheme): ${differing}.`,
    '',
    'Lookout:',
    '',
    ...sample(c.lookout),
    '',
    `${otherName}:`,
    '',
    ...sample(c.other),
  ].join('\n');
}
