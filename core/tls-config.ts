import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** TLS towards a server: its CA, a client certificate, and (for test servers only) no verification. */
export const tlsSchema = z.strictObject({
  /** PEM of the CA that signed the server's certificate. */
  caFile: z.string().optional(),
  /** PEM client certificate and key, for servers that want one. */
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
  /** Only for test servers: accept any certificate. */
  insecureSkipVerify: z.boolean().default(false),
});
export type TlsConfig = z.output<typeof tlsSchema>;

/** Node TLS options from the configured PEM files, read now. */
export function tlsOptions(tls: TlsConfig) {
  const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
  return {
    ca: read(tls.caFile),
    cert: read(tls.certFile),
    key: read(tls.keyFile),
    rejectUnauthorized: !tls.insecureSkipVerify,
  };
}
