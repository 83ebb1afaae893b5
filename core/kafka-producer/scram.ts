import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramHash = 'sha256' | 'sha512';

/**
 * The client side of SCRAM (RFC 5802, RFC 7677): the first message, the
 * proof answering the server's challenge, and the check that the server
 * knew the password too. The password is used only to derive keys here.
 */
export class ScramClient {
  private readonly hash: ScramHash;
  private readonly username: string;
  private readonly password: string;
  private readonly nonce: string;
  private expectedServerSignature: Buffer | undefined;

  constructor(
    hash: ScramHash,
    username: string,
    password: string,
    nonce = randomBytes(24).toString('base64'),
  ) {
    this.hash = hash;
    this.username = username;
    this.password = password;
    this.nonce = nonce;
  }

  private get firstBare(): string {
    return `n=${saslName(this.username)},r=${this.nonce}`;
  }

  firstMessage(): string {
    return `n,,${this.firstBare}`;
  }

  async finalMessage(serverFirst: string): Promise<string> {
    const fields = scramFields(serverFirst);
    const nonce = fields.get('r');
    const salt = fields.get('s');
    const iterations = Number(fields.get('i'));
    if (
      !nonce?.startsWith(this.nonce) ||
      nonce === this.nonce ||
      !salt ||
      !Number.isSafeInteger(iterations)
    ) {
      throw new Error('the SCRAM challenge of the broker is not valid');
    }
    // The password's UTF-8 bytes as they are, without SASLprep: Kafka derives the stored keys the same way.
    const salted = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(
        this.password,
        Buffer.from(salt, 'base64'),
        iterations,
        hashBytes(this.hash),
        this.hash,
        (err, key) => (err ? reject(err) : resolve(key)),
      ),
    );
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const clientKey = this.hmac(salted, 'Client Key');
    const clientSignature = this.hmac(createHash(this.hash).update(clientKey).digest(), authMessage);
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ clientSignature[i]!));
    this.expectedServerSignature = this.hmac(this.hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Throws unless the server's final message proves it holds the credentials. */
  checkServerFinal(serverFinal: string): void {
    const fields = scramFields(serverFinal);
    const error = fields.get('e');
    if (error) throw new Error(`the broker ended the SCRAM exchange: ${error}`);
    const signature = Buffer.from(fields.get('v') ?? '', 'base64');
    const expected = this.expectedServerSignature;
    if (!expected || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new Error('the broker did not prove that it knows the SCRAM credentials');
    }
  }

  private hmac(key: Buffer, text: string): Buffer {
    return createHmac(this.hash, key).update(text).digest();
  }
}

function hashBytes(hash: ScramHash): number {
  return hash === 'sha256' ? 32 : 64;
}

/** A user name as SCRAM writes it: "=" and "," escaped. */
function saslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

function scramFields(message: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return fields;
}
