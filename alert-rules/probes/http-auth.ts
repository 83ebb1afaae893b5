/**
 * The Authorization header of a module's basic_auth, authorization or
 * bearer_token settings. Files are read at each probe and trimmed, as
 * Prometheus's HTTP client reads them, so a rotated secret is picked up.
 */
import { readFile } from 'node:fs/promises';
import type { HttpProbeConfig } from './http-config.ts';

async function secret(value: string | undefined, file: string | undefined, what: string): Promise<string> {
  if (file === undefined) return value ?? '';
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    // The file name is configuration, not a secret; its content never appears here.
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export async function authorizationHeader(config: HttpProbeConfig): Promise<string | undefined> {
  const { basic_auth: basic, authorization, bearer_token, bearer_token_file } = config;
  if (basic) {
    const password = await secret(basic.password, basic.password_file, 'basic_auth password_file');
    return `Basic ${Buffer.from(`${basic.username}:${password}`).toString('base64')}`;
  }
  if (authorization) {
    const credentials = await secret(
      authorization.credentials,
      authorization.credentials_file,
      'authorization credentials_file',
    );
    return `${authorization.type} ${credentials}`;
  }
  if (bearer_token !== undefined || bearer_token_file !== undefined) {
    return `Bearer ${await secret(bearer_token, bearer_token_file, 'bearer_token_file')}`;
  }
  return undefined;
}
