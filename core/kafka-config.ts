import { isIP } from 'node:net';
import { z } from 'zod';
import { duration, hostPort } from './config-types.ts';
import { tlsOptions, tlsSchema } from './tls-config.ts';

/** How to reach a Kafka cluster; the sidecar's sink and the collector's consumer share it. */
export const kafkaConnectionSchema = z.strictObject({
  brokers: z.array(hostPort()).min(1),
  clientId: z.string().default('lookout'),
  requestTimeout: duration().default(30_000),
  tls: tlsSchema.optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .optional(),
});
export type KafkaConnection = z.output<typeof kafkaConnectionSchema>;

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** The options of a `@platformatic/kafka` client (producer, consumer or admin) for a connection. */
export function kafkaClientOptions(connection: KafkaConnection) {
  return {
    clientId: connection.clientId,
    bootstrapBrokers: connection.brokers,
    timeout: connection.requestTimeout,
    requestTimeout: connection.requestTimeout,
    connectTimeout: 5_000,
    tls: connection.tls && tlsOptions(connection.tls),
    // SNI by host name, as brokers behind a TLS router need; an IP address is no server name.
    tlsServerName: connection.brokers.some((broker) => isIP(broker.slice(0, broker.lastIndexOf(':'))) === 0),
    sasl: connection.sasl && {
      mechanism: SASL_MECHANISMS[connection.sasl.mechanism],
      username: connection.sasl.username,
      password: connection.sasl.password,
    },
    // Failures surface through the caller (one warning per outage); the client's own retries stay short.
    retries: 2,
    retryDelay: 200,
  };
}

/** The connection settings of Lookout's own producer (core/kafka-producer). */
export function kafkaProducerConnection(connection: KafkaConnection) {
  return {
    brokers: connection.brokers,
    clientId: connection.clientId,
    requestTimeout: connection.requestTimeout,
    connectTimeout: 5_000,
    tls: connection.tls && tlsOptions(connection.tls),
    sasl: connection.sasl,
  };
}
