import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { cacheDir, cachedDir, withRunDir } from './dirs.ts';
import { run } from './exec.ts';
import { javaBinary, javaHome, jvmTempOptions } from './java.ts';
import { mvn } from './maven.ts';
import { freePorts } from './ports.ts';
import { launchServer, type ServerProcess } from './process.ts';

export const KAFKA_VERSION = '3.9.1';

const POM = path.join(import.meta.dirname, 'kafka', 'pom.xml');
const LOG4J_CONFIG = pathToFileURL(path.join(import.meta.dirname, 'kafka', 'log4j.properties')).href;

export interface KafkaServer extends ServerProcess {
  /** host:port of the one broker, in the form kafkajs takes. */
  brokers: string[];
  /** The same broker's SASL_PLAINTEXT listener: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  saslBrokers: string[];
  /** Its SASL_SSL listener: the same mechanisms over TLS, with the certificate in `caFile`. */
  saslSslBrokers: string[];
  /** PEM of the broker's self-signed certificate (for 127.0.0.1 and localhost), to trust as the CA. */
  caFile: string;
  /** The one user every mechanism knows; the password is made at each start of a fresh broker. */
  sasl: { username: string; password: string };
}

const SASL_USERNAME = 'lookout';
const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

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

/**
 * A single-node KRaft cluster (broker and controller in one JVM) with fresh storage. Besides PLAINTEXT it
 * listens with SASL_PLAINTEXT and SASL_SSL, so the clients' authentication and TLS meet a real broker.
 */
export async function startKafka(): Promise<KafkaServer> {
  const libs = await ensureKafka();
  return withRunDir('kafka', async (runDir) => {
    const ports = await freePorts(4);
    const [port, saslPort, saslSslPort, controllerPort] = ports as [number, number, number, number];
    const bootstrap = `127.0.0.1:${port}`;
    const sasl = { username: SASL_USERNAME, password: randomBytes(18).toString('hex') };
    const tls = {
      keystore: path.join(runDir, 'broker.p12'),
      password: randomBytes(18).toString('hex'),
      caFile: path.join(runDir, 'ca.pem'),
    };
    const properties = path.join(runDir, 'server.properties');
    await writeFile(
      properties,
      serverProperties({
        port,
        saslPort,
        saslSslPort,
        controllerPort,
        dataDir: path.join(runDir, 'data'),
        sasl,
        tls,
      }),
    );
    const tmp = path.join(runDir, 'tmp');
    await mkdir(tmp);
    const jvm = [
      ...jvmTempOptions(tmp),
      '-Xms512m',
      '-Xmx512m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=${LOG4J_CONFIG}`,
      '-cp',
      path.join(libs, '*'),
    ];
    // Each is a JVM start of its own; side by side they cost the time of the slower one.
    await Promise.all([
      makeKeystore(tls, tmp),
      format([...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties], sasl),
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
    return {
      ...server,
      brokers: [bootstrap],
      saslBrokers: [`127.0.0.1:${saslPort}`],
      saslSslBrokers: [`127.0.0.1:${saslSslPort}`],
      caFile: tls.caFile,
      sasl,
    };
  });
}

/**
 * Formats the storage with the SCRAM credentials in its first metadata (KRaft has no ZooKeeper to add
 * them to later). The password is on this command line only, and is cut from the error a failure throws.
 */
async function format(args: string[], sasl: { username: string; password: string }): Promise<void> {
  const scram = SASL_MECHANISMS.filter((m) => m.startsWith('SCRAM')).flatMap((mechanism) => [
    '--add-scram',
    `${mechanism}=[name=${sasl.username},password=${sasl.password}]`,
  ]);
  try {
    await run(javaBinary(), [...args, ...scram]);
  } catch (err) {
    throw new Error((err as Error).message.replaceAll(sasl.password, '<password>'));
  }
}

/**
 * A self-signed key pair for the TLS listener, and its certificate as PEM for Node clients to trust. The
 * password travels in the environment so no command line or error message carries it.
 */
async function makeKeystore(
  tls: { keystore: string; password: string; caFile: string },
  tmp: string,
): Promise<void> {
  const keytool = path.join(javaHome(), 'bin', 'keytool');
  const env = { ...process.env, LOOKOUT_KEYSTORE_PASSWORD: tls.password };
  // Two short-lived JVMs: the quick compiler alone halves their CPU time, which on a small machine is
  // taken from the storage format running beside them.
  const common = [
    '-J-XX:TieredStopAtLevel=1',
    '-J-XX:+UseSerialGC',
    ...jvmTempOptions(tmp).map((option) => `-J${option}`),
    '-keystore',
    tls.keystore,
    '-storetype',
    'PKCS12',
    '-storepass:env',
    'LOOKOUT_KEYSTORE_PASSWORD',
    '-alias',
    'broker',
  ];
  const subject = ['-dname', 'CN=lookout-test-kafka', '-ext', 'SAN=ip:127.0.0.1,dns:localhost'];
  // EC: its key pair is ready at once, where finding the primes of an RSA one takes a while.
  const key = ['-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '365'];
  await run(keytool, ['-genkeypair', ...common, ...subject, ...key], { env });
  await run(keytool, ['-exportcert', '-rfc', ...common, '-file', tls.caFile], { env });
}

interface BrokerSettings {
  port: number;
  saslPort: number;
  saslSslPort: number;
  controllerPort: number;
  dataDir: string;
  sasl: { username: string; password: string };
  tls: { keystore: string; password: string };
}

function serverProperties(b: BrokerSettings): string {
  const clientListeners = `PLAINTEXT://127.0.0.1:${b.port},SASL_PLAINTEXT://127.0.0.1:${b.saslPort},SASL_SSL://127.0.0.1:${b.saslSslPort}`;
  // The broker reads users from JAAS, one login module per listener and mechanism: PLAIN lists its users
  // there, SCRAM finds them in the metadata written by format.
  const jaas = ['sasl_plaintext', 'sasl_ssl'].flatMap((listener) =>
    SASL_MECHANISMS.map((mechanism) => {
      const module =
        mechanism === 'PLAIN'
          ? `org.apache.kafka.common.security.plain.PlainLoginModule required user_${b.sasl.username}="${b.sasl.password}";`
          : 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
      return `listener.name.${listener}.${mechanism.toLowerCase()}.sasl.jaas.config=${module}`;
    }),
  );
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${b.controllerPort}`,
    `listeners=${clientListeners},CONTROLLER://127.0.0.1:${b.controllerPort}`,
    `advertised.listeners=${clientListeners}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    `sasl.enabled.mechanisms=${SASL_MECHANISMS.join(',')}`,
    ...jaas,
    'listener.name.sasl_ssl.ssl.keystore.type=PKCS12',
    `listener.name.sasl_ssl.ssl.keystore.location=${b.tls.keystore}`,
    `listener.name.sasl_ssl.ssl.keystore.password=${b.tls.password}`,
    `log.dirs=${b.dataDir}`,
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
