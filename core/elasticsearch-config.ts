import { z } from 'zod';
import { duration, httpUrl } from './config-types.ts';

/** How to reach an Elasticsearch cluster; shared by every component that writes or reads it. */
export const elasticsearchConnectionSchema = z.strictObject({
  nodes: z.array(httpUrl()).min(1),
  auth: z
    .union([
      z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
      z.strictObject({ apiKey: z.string().min(1) }),
    ])
    .optional(),
  tls: z
    .strictObject({
      /** PEM file of the CA that signed the cluster's certificate. */
      caFile: z.string().optional(),
      /** Only for test clusters: accept any certificate. */
      insecureSkipVerify: z.boolean().default(false),
    })
    .optional(),
  requestTimeout: duration().default(30_000),
});
export type ElasticsearchConnection = z.output<typeof elasticsearchConnectionSchema>;
