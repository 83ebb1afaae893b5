import type { KafkaRequest } from './apis.ts';
import { saslAuthenticateRequest, saslHandshakeRequest } from './sasl-messages.ts';
import { ScramClient } from './scram.ts';

export interface SaslCredentials {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

const MECHANISM_NAMES = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

type Send = <T>(request: KafkaRequest<T>) => Promise<T>;

/**
 * Logs in on a fresh connection (SaslHandshake, then SaslAuthenticate steps).
 * Resolves with how long the broker keeps the session (0: as long as the
 * connection lasts).
 */
export async function authenticate(
  send: Send,
  clientId: string,
  credentials: SaslCredentials,
): Promise<number> {
  const { mechanism, username, password } = credentials;
  await send(saslHandshakeRequest(clientId, MECHANISM_NAMES[mechanism]));
  const step = (text: string) => send(saslAuthenticateRequest(clientId, Buffer.from(text)));
  if (mechanism === 'plain') return (await step(`\u0000${username}\u0000${password}`)).sessionLifetimeMs;
  const scram = new ScramClient(mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', username, password);
  const challenge = await step(scram.firstMessage());
  const outcome = await step(await scram.finalMessage(challenge.reply.toString()));
  scram.checkServerFinal(outcome.reply.toString());
  return outcome.sessionLifetimeMs;
}
