/** The `tcp:` part of a blackbox_exporter module: connect, optionally TLS, optionally a line dialogue. */
import { z } from 'zod';
import { goRegexp, ipProtocolFields, sourceIpAddress } from './config-fields.ts';
import { tlsConfigSchema } from './tls-config.ts';

const queryResponseSchema = z.strictObject({
  /** A line matching this is waited for; `send` may use its groups (`${1}`). */
  expect: goRegexp().optional(),
  send: z.string().optional(),
  starttls: z.boolean().default(false),
});
export type QueryResponse = z.output<typeof queryResponseSchema>;

export const tcpProbeSchema = z.strictObject({
  ...ipProtocolFields,
  source_ip_address: sourceIpAddress(),
  query_response: z.array(queryResponseSchema).default([]),
  tls: z.boolean().default(false),
  tls_config: tlsConfigSchema.prefault({}),
});
export type TcpProbeConfig = z.output<typeof tcpProbeSchema>;
