import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { duration, hostPort } from './config-types.ts';

/** How to reach a Kafka cluster; the sidecar's sink and the collector's consumer share it. */
export const kafkaConnectionSchema = z.strictObject({
  brokers: z.array(hostPort()).min(1),
  clientId: z.string().default('lookout'),
  requestTimeout: duration().default(30_000),
  tls: z
    .strictObject({
      caFile: z.string().optional(),
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      insecureSkipVerify: z.boolean().default(false),
    })
    .optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .optional(),
});
export type KafkaConnection = z.output<typeof kafkaConnectionSchema>;

/** Node TLS options from the configured PEM files, for either Kafka client. */
export function kafkaTlsOptions(tls: NonNullable<KafkaConnection['tls']>) {
  const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
  return {
    ca: read(tls.caFile),
    cert: read(tls.certFile),
    key: read(tls.keyFile),
    rejectUnauthorized: !tls.insecureSkipVerify,
  };
}
