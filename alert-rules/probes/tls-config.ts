/**
 * blackbox_exporter's `tls_config` (Prometheus's common TLS settings) and the
 * Node TLS options it becomes. Files are read at each probe, as blackbox
 * does, so a renewed CA or client certificate is used without a reload.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

export const tlsConfigSchema = z
  .strictObject({
    insecure_skip_verify: z.boolean().default(false),
    ca_file: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    server_name: z.string().min(1).optional(),
    min_version: z.enum(Object.keys(TLS_VERSIONS) as (keyof typeof TLS_VERSIONS)[]).optional(),
  })
  .refine((tls) => (tls.cert_file === undefined) === (tls.key_file === undefined), {
    error: 'cert_file and key_file go together: a client certificate needs its key',
  });
export type TlsConfig = z.output<typeof tlsConfigSchema>;

async function readNamed(file: string | undefined, what: string): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * Options for tls.connect towards `name` (the host the certificate must
 * name, unless `server_name` says otherwise). An IP address is checked
 * against the certificate but not sent as SNI, which RFC 6066 forbids.
 */
export async function nodeTlsOptions(config: TlsConfig, name: string): Promise<ConnectionOptions> {
  const serverName = config.server_name ?? name;
  const [ca, cert, key] = await Promise.all([
    readNamed(config.ca_file, 'ca_file'),
    readNamed(config.cert_file, 'cert_file'),
    readNamed(config.key_file, 'key_file'),
  ]);
  return {
    host: serverName,
    servername: isIP(serverName) ? undefined : serverName,
    ca,
    cert,
    key,
    rejectUnauthorized: !config.insecure_skip_verify,
    minVersion: config.min_version ? TLS_VERSIONS[config.min_version] : 'TLSv1.2',
  };
}
