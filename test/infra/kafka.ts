import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { cacheDir, cachedDir, withRunDir } from './dirs.ts';
import { run } from './exec.ts';
import { javaBinary } from './java.ts';
import { mvn } from './maven.ts';
import { freePorts } from './ports.ts';
import { launchServer, type ServerProcess } from './process.ts';

export const KAFKA_VERSION = '3.9.1';

const POM = path.join(import.meta.dirname, 'kafka', 'pom.xml');
const LOG4J_CONFIG = pathToFileURL(path.join(import.meta.dirname, 'kafka', 'log4j.properties')).href;

export interface KafkaServer extends ServerProcess {
  /** host:port of the one broker, in the form kafkajs takes. */
  brokers: string[];
}

let fetching: Promise<string> | undefined;

/** The broker's jars (Kafka's own and its runtime dependencies) in the cache; fetched with Maven once. */
export function ensureKafka(): Promise<string> {
  fetching ??= cachedDir(path.join(cacheDir(), `kafka-${KAFKA_VERSION}`, 'libs'), async (libs) => {
    await mvn([
      '-f',
      POM,
      `-Dkafka.version=${KAFKA_VERSION}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
    ]);
  });
  fetching.catch(() => {
    fetching = undefined;
  });
  return fetching;
}

/** A single-node KRaft cluster (broker and controller in one JVM) with fresh storage. */
export async function startKafka(): Promise<KafkaServer> {
  const libs = await ensureKafka();
  return withRunDir('kafka', async (runDir) => {
    const [port, controllerPort] = await freePorts(2);
    const bootstrap = `127.0.0.1:${port}`;
    const properties = path.join(runDir, 'server.properties');
    await writeFile(properties, serverProperties(port!, controllerPort!, path.join(runDir, 'data')));
    const jvm = [
      '-Xms512m',
      '-Xmx512m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=${LOG4J_CONFIG}`,
      '-cp',
      path.join(libs, '*'),
    ];
    await run(javaBinary(), [
      ...jvm,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      properties,
    ]);
    const server = await launchServer({
      name: 'kafka',
      command: javaBinary(),
      args: [...jvm, 'kafka.Kafka', properties],
      runDir,
      ready: () => brokerAnswers(bootstrap),
      readyTimeoutMs: 120_000,
      stopGraceMs: 30_000,
    });
    return { ...server, brokers: [bootstrap] };
  });
}

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'auto.create.topics.enable=true',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // One broker: internal topics cannot have more replicas, and a single partition each keeps the first
    // consumer group join and the first transaction from waiting on dozens of partition leaders.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    // Tests join a group with one consumer; the default 3s wait for more members is pure delay.
    'group.initial.rebalance.delay.ms=0',
  ].join('\n')}\n`;
}

/** A Kafka Uuid in its base64url form; one starting with '-' would read as an option on a command line. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Ready means the broker serves metadata and can coordinate consumer groups. Describing a group makes the
 * broker create the offsets topic, and fails while that is still loading; without this step the first
 * consumer of every test run would crash and restart once.
 */
async function brokerAnswers(bootstrap: string): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'lookout-test-infra',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return false;
    await admin.describeGroups(['lookout-test-infra-ready']);
    return true;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
