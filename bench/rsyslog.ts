import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { normalizeLevel } from '../sidecar/parse/level.ts';
import { ensureCommands } from '../test/infra/debian.ts';
import { run } from '../test/infra/exec.ts';
import { MeasuredProcess } from './measure.ts';

const MODULE_DIRS = [
  '/usr/lib/x86_64-linux-gnu/rsyslog',
  '/usr/lib/aarch64-linux-gnu/rsyslog',
  '/usr/lib/rsyslog',
];
/** Level words as applications write them; each maps to what Lookout's own level parser makes of it. */
const LEVEL_WORDS = [
  'TRACE',
  'DEBUG',
  'INFO',
  'NOTICE',
  'WARN',
  'WARNING',
  'ERROR',
  'SEVERE',
  'FATAL',
  'CRITICAL',
];

/**
 * omkafka is a package of its own; mmnormalize (liblognorm) and fmhash come with rsyslog. Plugins are
 * not commands, so they are checked by their module files.
 */
export async function ensureRsyslogKafka(): Promise<void> {
  await ensureCommands({ rsyslogd: 'rsyslog' });
  const dir = MODULE_DIRS.find((d) => existsSync(join(d, 'imfile.so')));
  if (dir && existsSync(join(dir, 'omkafka.so'))) return;
  if (process.getuid?.() !== 0)
    throw new Error('rsyslog-kafka is missing; as root run: apt-get install rsyslog-kafka');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-qq', '--no-install-recommends', 'rsyslog-kafka'];
  await run('apt-get', install, { env }).catch(async () => {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', install, { env });
  });
}

export async function rsyslogVersion(): Promise<string> {
  return (await run('rsyslogd', ['-v']))
    .split('\n')[0]!
    .replace(/ compiled with:.*/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * What rsyslog ships:
 * - `raw`: the line as it was in the file, one imfile input per file.
 * - `ecs`: Lookout's sidecar record for the same line, one imfile input per file (as a pod's sidecar
 *   configuration names its files), Kubernetes fields from the environment.
 * - `node`: Lookout's node-mode record for CRI lines under `<root>/containers/*.log`, one wildcard input,
 *   Kubernetes fields from the file's name.
 */
export type RsyslogShape =
  | { kind: 'raw'; files: string[] }
  | { kind: 'ecs'; files: string[] }
  | { kind: 'node'; root: string };

export interface KafkaTarget {
  broker: string;
  topic: string;
}

/** Writes rsyslog.conf and what it refers to into `dir`; returns the configuration's path. */
export async function writeRsyslogConfig(
  dir: string,
  shape: RsyslogShape,
  kafka: KafkaTarget,
): Promise<string> {
  const work = join(dir, 'work');
  await mkdir(work, { recursive: true });
  const file = (name: string) => join(dir, name);
  const lines = [
    `global(workDirectory="${work}")`,
    'module(load="imfile" mode="inotify")',
    'module(load="omkafka")',
  ];
  const kafkaAction = (template: string, key: string) =>
    `action(type="omkafka" broker=["${kafka.broker}"] topic="${kafka.topic}" template="${template}" ${key}
         confParam=["compression.codec=none"] topicConfParam=["request.required.acks=-1"]
         resubmitOnFailure="on" action.resumeRetryCount="-1")`;
  const state = 'readMode="0" freshStartTail="off" persistStateInterval="10000"';
  if (shape.kind === 'raw') {
    lines.push(
      ...shape.files.map(
        (path, i) => `input(type="imfile" file="${path}" tag="app${i}" ruleset="ship" ${state})`,
      ),
      'template(name="raw" type="string" string="%msg%")',
      `ruleset(name="ship") {\n  ${kafkaAction('raw', '')}\n}`,
    );
    await writeFile(file('rsyslog.conf'), `${lines.join('\n')}\n`);
    return file('rsyslog.conf');
  }
  await writeFile(file('logback.rb'), LOGBACK_RULES);
  await writeFile(file('levels.json'), levelTable());
  lines.push(
    'module(load="mmnormalize")',
    'module(load="fmhash")',
    `lookup_table(name="levels" file="${file('levels.json')}")`,
  );
  const fields = [
    `  set $.level = lookup("levels", $!level);`,
    // Lookout's event.id is a hash of the file's identity and the line's offset: the same line read again
    // gets the same id. rsyslog knows the file by its name only.
    '  set $.fileid = hash64($!metadata!filename);',
  ];
  if (shape.kind === 'ecs') {
    lines.push(
      // The tag is service.name: the file's name up to its first dot, as Lookout names the service.
      ...shape.files.map(
        (path) =>
          `input(type="imfile" file="${path}" tag="${basename(path).split('.')[0]}" ruleset="ship" addMetadata="on" ${state})`,
      ),
      listTemplate('ecs', SIDECAR_RECORD),
      'ruleset(name="ship") {',
      `  action(type="mmnormalize" rulebase="${file('logback.rb')}")`,
      ...fields,
      `  ${kafkaAction('ecs', 'key=`echo $POD_NAMESPACE/$POD_NAME`')}`,
      '}',
    );
  } else {
    await writeFile(file('cri.rb'), CRI_RULES);
    await writeFile(file('path.rb'), containerPathRules(join(shape.root, 'containers')));
    lines.push(
      `input(type="imfile" file="${join(shape.root, 'containers', '*.log')}" tag="node" ruleset="ship" addMetadata="on" ${state})`,
      listTemplate('ecs', NODE_RECORD),
      'template(name="key" type="string" string="%$!namespace%/%$!pod%")',
      'ruleset(name="ship") {',
      `  action(type="mmnormalize" rulebase="${file('cri.rb')}")`,
      `  action(type="mmnormalize" rulebase="${file('logback.rb')}" variable="$!line")`,
      `  action(type="mmnormalize" rulebase="${file('path.rb')}" variable="$!metadata!filename")`,
      ...fields,
      `  ${kafkaAction('ecs', 'dynaKey="on" key="key"')}`,
      '}',
    );
  }
  await writeFile(file('rsyslog.conf'), `${lines.join('\n')}\n`);
  return file('rsyslog.conf');
}

/** rsyslogd in the foreground; a configuration it would only warn about stops the benchmark instead. */
export async function startRsyslog(
  config: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MeasuredProcess> {
  const check = await run('rsyslogd', ['-N1', '-f', config], { env }).catch((err: Error) => err.message);
  if (/error|warning/i.test(check)) throw new Error(`rsyslog refuses ${config}: ${check}`);
  return new MeasuredProcess('rsyslogd', ['-n', '-f', config, '-i', join(config, '..', 'rsyslogd.pid')], env);
}

// liblognorm rule bases. A Logback line: `2026-11-23 03:12:00.007 [main] INFO  c.e.Logger - text`.
const LOGBACK_RULES = `version=2
rule=:%date:date-iso% %time:word% [%-:char-to{"extradata":"]"}%] %level:word% %-:rest%
`;

// A CRI line: `2026-12-03T10:00:00.000000000Z stdout F <line>`.
const CRI_RULES = `version=2
rule=:%cri_time:word% %stream:word% %cri_tag:word% %line:rest%
`;

/**
 * `<pod>_<namespace>_<container>-<64 hex>.log` under the containers directory. A container name with a
 * "-" would need a regular expression instead: liblognorm cannot look ahead to the id.
 */
function containerPathRules(dir: string): string {
  const literal = dir.replaceAll('%', '%%');
  return `version=2
rule=:${literal}/%pod:char-to{"extradata":"_"}%_%namespace:char-to{"extradata":"_"}%_%container:char-to{"extradata":"-"}%-%cid:char-to{"extradata":"."}%.log
`;
}

function levelTable(): string {
  const table = LEVEL_WORDS.map((word) => ({ index: word, value: normalizeLevel(word) }));
  return JSON.stringify({ version: 1, nomatch: '', type: 'string', table });
}

// ── the JSON records, as rsyslog list templates ─────────────────────────────

type Piece = string | { property: string } | { env: string };
/** A JSON string made of pieces, or a bare number. */
type Leaf = { string: Piece[] } | { number: Piece };
interface Shape {
  [key: string]: Shape | Leaf;
}

const property = (name: string): Piece => ({ property: name });
const str = (...pieces: Piece[]): Leaf => ({ string: pieces });
const fromEnv = (name: string): Leaf => ({ string: [{ env: name }] });
const offset = property('$!metadata!fileoffset');
const fileId = property('$.fileid');
const timestamp = str(property('$!date'), 'T', property('$!time'), 'Z');
const file = { path: str(property('$!metadata!filename')), id: str(fileId) };
const hostName = { name: str(property('hostname')) };
const event = { id: str(fileId, '-', offset) };

/** The fields in the order Lookout writes them. */
const SIDECAR_RECORD: Shape = {
  '@timestamp': timestamp,
  message: str(property('msg')),
  log: { level: str(property('$.level')), file, offset: { number: offset } },
  kubernetes: { namespace: fromEnv('POD_NAMESPACE'), pod: { name: fromEnv('POD_NAME') } },
  host: hostName,
  service: { name: str(property('syslogtag')) },
  event,
};

/** kubernetes.pod.uid is missing: Lookout reads it from the link's target, which rsyslog does not see. */
const NODE_RECORD: Shape = {
  '@timestamp': timestamp,
  message: str(property('$!line')),
  log: {
    level: str(property('$.level')),
    iostream: str(property('$!stream')),
    file,
    offset: { number: offset },
  },
  kubernetes: {
    namespace: str(property('$!namespace')),
    pod: { name: str(property('$!pod')) },
    container: { name: str(property('$!container')) },
  },
  container: { id: str(property('$!cid')) },
  host: hostName,
  service: { name: str(property('$!container')) },
  event,
};

/**
 * A list template writing `shape` as one line of JSON. Properties are JSON-escaped by rsyslog
 * (format="json"); environment values are read once at start (backticks) and taken as they are.
 */
function listTemplate(name: string, shape: Shape): string {
  const out: string[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push(`constant(value="${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}")`);
    text = '';
  };
  const piece = (p: Piece, json: boolean) => {
    if (typeof p === 'string') text += p;
    else {
      flush();
      out.push(
        'env' in p
          ? `constant(value=\`echo $${p.env}\`)`
          : `property(name="${p.property}"${json ? ' format="json"' : ''})`,
      );
    }
  };
  const write = (s: Shape) => {
    text += '{';
    Object.entries(s).forEach(([key, value], i) => {
      text += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`;
      if ('number' in value) piece(value.number as Piece, false);
      else if ('string' in value) {
        text += '"';
        for (const p of value.string as Piece[]) piece(p, true);
        text += '"';
      } else write(value as Shape);
    });
    text += '}';
  };
  write(shape);
  flush();
  return `template(name="${name}" type="list") {\n  ${out.join('\n  ')}\n}`;
}
