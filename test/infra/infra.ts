import {
  INFRA_CONTROL_ENV,
  INFRA_ENV,
  INFRA_SERVERS,
  type InfraServer,
  KAFKA_SECURITY_ENV,
  KUBERNETES_ENV,
} from './control.ts';
import { startControlServer } from './control-server.ts';
import { ensureElasticsearch, startElasticsearch } from './elasticsearch.ts';
import { ensureKafka, type KafkaServer, startKafka } from './kafka.ts';
import { ensureKubernetes, type KubernetesServer, startKubernetes } from './kubernetes.ts';
import type { ServerProcess } from './process.ts';
import {
  ensurePrometheusStack,
  startAlertmanager,
  startBlackboxExporter,
  startPrometheus,
} from './prometheus.ts';

export interface Infra {
  servers: Partial<Record<InfraServer, ServerProcess>>;
  /**
   * LOOKOUT_TEST_* variables: each started server's address, Kafka's authenticated listeners with their
   * user, and the control server's URL.
   */
  env: Record<string, string>;
  /** Stops every server and deletes the run directories. */
  close(): Promise<void>;
}

/** The servers LOOKOUT_TEST_INFRA names (a comma list; unset or "all" means every one). */
export function selectedServers(list = process.env.LOOKOUT_TEST_INFRA): InfraServer[] {
  if (!list || list.trim() === 'all') return [...INFRA_SERVERS];
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !INFRA_SERVERS.includes(name as InfraServer));
  if (unknown.length > 0) {
    throw new Error(`LOOKOUT_TEST_INFRA: unknown ${unknown.join(', ')}; known: ${INFRA_SERVERS.join(', ')}`);
  }
  return names as InfraServer[];
}

type Log = (line: string) => void;

async function timed<T>(log: Log, what: string, work: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  const result = await work();
  log(`${what} in ${((performance.now() - startedAt) / 1000).toFixed(1)}s`);
  return result;
}

function kafkaSecurityEnv(kafka: KafkaServer): Record<string, string> {
  return {
    [KAFKA_SECURITY_ENV.saslBrokers]: kafka.saslBrokers.join(','),
    [KAFKA_SECURITY_ENV.saslSslBrokers]: kafka.saslSslBrokers.join(','),
    [KAFKA_SECURITY_ENV.caFile]: kafka.caFile,
    [KAFKA_SECURITY_ENV.username]: kafka.sasl.username,
    [KAFKA_SECURITY_ENV.password]: kafka.sasl.password,
  };
}

function kubernetesEnv(kubernetes: KubernetesServer): Record<string, string> {
  return {
    [KUBERNETES_ENV.kubeconfig]: kubernetes.kubeconfig,
    [KUBERNETES_ENV.token]: kubernetes.token,
    [KUBERNETES_ENV.caFile]: kubernetes.caFile,
  };
}

/** Throws one error that carries every failure's message (each holds its own log tail). */
function throwIfRejected(results: PromiseSettledResult<unknown>[], what: string): void {
  const reasons = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (reasons.length === 0) return;
  const messages = reasons.map((reason) => (reason instanceof Error ? reason.message : String(reason)));
  throw new Error(`${what}:\n\n${messages.join('\n\n')}`);
}

/**
 * Fetches or installs what is missing, then starts the servers at once. If any fails, the ones that did
 * start are closed before the error (with every failed server's log tail) is thrown.
 */
export async function startInfra(names: InfraServer[], log: Log = () => {}): Promise<Infra> {
  const wanted = new Set(names);
  const fetches: Promise<unknown>[] = [];
  if (wanted.has('kafka')) fetches.push(timed(log, 'fetched Kafka', ensureKafka));
  if (wanted.has('elasticsearch')) fetches.push(timed(log, 'fetched Elasticsearch', ensureElasticsearch));
  if (['prometheus', 'alertmanager', 'blackbox'].some((name) => wanted.has(name as InfraServer))) {
    fetches.push(timed(log, 'checked Prometheus packages', ensurePrometheusStack));
  }
  if (wanted.has('kubernetes')) {
    fetches.push(timed(log, 'found or built etcd and kube-apiserver', () => ensureKubernetes(log)));
  }
  throwIfRejected(await Promise.allSettled(fetches), 'could not fetch the test servers');

  const servers: Partial<Record<InfraServer, ServerProcess>> = {};
  const env: Record<string, string> = {};
  const start = async <T extends ServerProcess>(
    name: InfraServer,
    launch: () => Promise<T>,
    address: (server: T) => string,
    more: (server: T) => Record<string, string> = () => ({}),
  ): Promise<T> => {
    const server = await timed(log, `started ${name}`, launch);
    servers[name] = server;
    env[INFRA_ENV[name]] = address(server);
    Object.assign(env, more(server));
    return server;
  };
  const closeAll = async () => {
    await Promise.allSettled(Object.values(servers).map((server) => server.close()));
  };

  const starts: Promise<unknown>[] = [];
  if (wanted.has('kafka')) {
    starts.push(start('kafka', startKafka, (kafka) => kafka.brokers.join(','), kafkaSecurityEnv));
  }
  if (wanted.has('elasticsearch')) starts.push(start('elasticsearch', startElasticsearch, (es) => es.url));
  if (wanted.has('kubernetes')) {
    starts.push(start('kubernetes', startKubernetes, (kubernetes) => kubernetes.url, kubernetesEnv));
  }
  if (wanted.has('alertmanager')) starts.push(start('alertmanager', startAlertmanager, (am) => am.url));
  // Prometheus's config names the blackbox exporter's address, so that one goes first; it is up in well
  // under a second.
  starts.push(
    (async () => {
      const blackbox = wanted.has('blackbox')
        ? await start('blackbox', startBlackboxExporter, (bb) => bb.url)
        : undefined;
      if (wanted.has('prometheus')) {
        await start(
          'prometheus',
          () => startPrometheus({ blackboxUrl: blackbox?.url }),
          (p) => p.url,
        );
      }
    })(),
  );
  try {
    throwIfRejected(await Promise.allSettled(starts), 'could not start the test servers');
    const control = await startControlServer(servers);
    env[INFRA_CONTROL_ENV] = control.url;
    return {
      servers,
      env,
      close: async () => {
        await control.close();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
