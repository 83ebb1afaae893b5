import { APIS, type KafkaRequest, request } from './apis.ts';
import { NONE } from './error-codes.ts';
import { KafkaBrokerError } from './errors.ts';

/** SaslHandshake v1: chooses the mechanism; the exchange itself then goes in SaslAuthenticate requests. */
export function saslHandshakeRequest(clientId: string, mechanism: string): KafkaRequest<void> {
  return request(
    APIS.saslHandshake,
    clientId,
    (writer) => writer.string(mechanism),
    (reader) => {
      const code = reader.int16();
      const enabled = reader.array((r) => r.string());
      if (code !== NONE) {
        throw new KafkaBrokerError(
          `SASL mechanism ${mechanism} refused (the broker offers ${enabled.join(', ') || 'none'})`,
          code,
        );
      }
    },
  );
}

/**
 * SaslAuthenticate v1: one step of the exchange, the broker's reply bytes
 * back. A refusal carries the broker's reason, never the bytes sent, which
 * hold the credentials.
 */
export function saslAuthenticateRequest(clientId: string, bytes: Buffer): KafkaRequest<SaslReply> {
  return request(
    APIS.saslAuthenticate,
    clientId,
    (writer) => writer.bytes(bytes),
    (reader) => {
      const code = reader.int16();
      const message = reader.nullString();
      const reply = reader.nullBytes() ?? Buffer.alloc(0);
      const sessionLifetimeMs = Number(reader.int64());
      if (code !== NONE) throw new KafkaBrokerError('SASL authentication failed', code, message);
      return { reply, sessionLifetimeMs };
    },
    64 + bytes.length,
  );
}

export interface SaslReply {
  reply: Buffer;
  /** How long the broker keeps the session before it closes the connection; 0 for as long as it lasts. */
  sessionLifetimeMs: number;
}
