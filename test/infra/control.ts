/**
 * For tests: where the shared servers are, and how to take one away and bring it back. The servers live in
 * the global setup's process; tests reach them through the loopback control server it exports.
 */

export const INFRA_SERVERS = [
  'kafka',
  'elasticsearch',
  'prometheus',
  'alertmanager',
  'blackbox',
  'kubernetes',
] as const;
export type InfraServer = (typeof INFRA_SERVERS)[number];

export const INFRA_ACTIONS = ['start', 'stop', 'kill', 'restart'] as const;
export type InfraAction = (typeof INFRA_ACTIONS)[number];

export type InfraStatus = Partial<Record<InfraServer, 'running' | 'stopped'>>;

/** The variable each server's address is published in; Kafka's is host:port, the others' are URLs. */
export const INFRA_ENV: Record<InfraServer, string> = {
  kafka: 'LOOKOUT_TEST_KAFKA_BROKERS',
  elasticsearch: 'LOOKOUT_TEST_ELASTICSEARCH_URL',
  prometheus: 'LOOKOUT_TEST_PROMETHEUS_URL',
  alertmanager: 'LOOKOUT_TEST_ALERTMANAGER_URL',
  blackbox: 'LOOKOUT_TEST_BLACKBOX_URL',
  kubernetes: 'LOOKOUT_TEST_KUBERNETES_URL',
};
export const INFRA_CONTROL_ENV = 'LOOKOUT_TEST_INFRA_CONTROL';

/** Where the shared Kafka's authenticated listeners, their user and its CA certificate are published. */
export const KAFKA_SECURITY_ENV = {
  saslBrokers: 'LOOKOUT_TEST_KAFKA_SASL_BROKERS',
  saslSslBrokers: 'LOOKOUT_TEST_KAFKA_SASL_SSL_BROKERS',
  caFile: 'LOOKOUT_TEST_KAFKA_CA_FILE',
  username: 'LOOKOUT_TEST_KAFKA_SASL_USERNAME',
  password: 'LOOKOUT_TEST_KAFKA_SASL_PASSWORD',
} as const;

/** Where the shared kube-apiserver's credentials are published, besides its URL. */
export const KUBERNETES_ENV = {
  kubeconfig: 'LOOKOUT_TEST_KUBECONFIG',
  token: 'LOOKOUT_TEST_KUBERNETES_TOKEN',
  caFile: 'LOOKOUT_TEST_KUBERNETES_CA_FILE',
} as const;

function required(variable: string): string {
  const value = process.env[variable];
  if (!value) {
    throw new Error(
      `${variable} is not set: run through the vitest "integration" project, whose global setup starts ` +
        'the servers, and check LOOKOUT_TEST_INFRA if it is set',
    );
  }
  return value;
}

/** A shared server's address; throws rather than let a test run against nothing. */
export function infraAddress(server: InfraServer): string {
  return required(INFRA_ENV[server]);
}

/** Kafka's bootstrap brokers in the form kafkajs takes. */
export function kafkaBrokers(): string[] {
  return infraAddress('kafka').split(',');
}

export interface KafkaSecurity {
  /** SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  saslBrokers: string[];
  /** SASL_SSL: the same mechanisms over TLS. */
  saslSslBrokers: string[];
  /** PEM certificate that verifies the SASL_SSL listener (for 127.0.0.1 and localhost). */
  caFile: string;
  /** One user known to every mechanism. */
  username: string;
  password: string;
}

/** The shared Kafka's authenticated listeners; the same broker, and topics, as kafkaBrokers(). */
export function kafkaSecurity(): KafkaSecurity {
  return {
    saslBrokers: required(KAFKA_SECURITY_ENV.saslBrokers).split(','),
    saslSslBrokers: required(KAFKA_SECURITY_ENV.saslSslBrokers).split(','),
    caFile: required(KAFKA_SECURITY_ENV.caFile),
    username: required(KAFKA_SECURITY_ENV.username),
    password: required(KAFKA_SECURITY_ENV.password),
  };
}

export interface KubernetesAccess {
  /** https://127.0.0.1:<port> of kube-apiserver. */
  url: string;
  /** Bearer token of user lookout-test, group system:masters (cluster-admin). */
  token: string;
  /** kubeconfig file with the URL, the token and the CA; for KubeConfig.loadFromFile or kubectl. */
  kubeconfig: string;
  /** PEM that verifies the apiserver's self-signed serving certificate. */
  caFile: string;
}

/** The shared kube-apiserver; restartServer('kubernetes') restarts the apiserver and keeps etcd's data. */
export function kubernetesAccess(): KubernetesAccess {
  return {
    url: infraAddress('kubernetes'),
    token: required(KUBERNETES_ENV.token),
    kubeconfig: required(KUBERNETES_ENV.kubeconfig),
    caFile: required(KUBERNETES_ENV.caFile),
  };
}

async function call(method: 'GET' | 'POST', route: string): Promise<unknown> {
  const response = await fetch(new URL(route, required(INFRA_CONTROL_ENV)), { method });
  const body = await response.text();
  if (!response.ok) throw new Error(`infra control ${method} ${route}: ${response.status} ${body}`);
  return JSON.parse(body);
}

/** Resolves once the action is done: after start and restart the server answers again. */
export async function controlServer(server: InfraServer, action: InfraAction): Promise<void> {
  await call('POST', `/${server}/${action}`);
}

export const startServer = (server: InfraServer) => controlServer(server, 'start');
export const stopServer = (server: InfraServer) => controlServer(server, 'stop');
export const killServer = (server: InfraServer) => controlServer(server, 'kill');
export const restartServer = (server: InfraServer) => controlServer(server, 'restart');

export async function infraStatus(): Promise<InfraStatus> {
  return (await call('GET', '/')) as InfraStatus;
}

/** Runs `during` with the server stopped (or killed), and brings it back afterwards whatever happens. */
export async function withServerDown<T>(
  server: InfraServer,
  during: () => Promise<T>,
  how: 'stop' | 'kill' = 'stop',
): Promise<T> {
  await controlServer(server, how);
  try {
    return await during();
  } finally {
    await startServer(server);
  }
}
