/** Errors of sockets, TLS and the guard in the words a person reads in chat: `connection refused`. */

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  EADDRNOTAVAIL: 'cannot assign the source address',
};

const CERTIFICATE_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate signed by unknown authority (self-signed)',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate signed by unknown authority (self-signed root in the chain)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate signed by unknown authority',
  CERT_REVOKED: 'certificate has been revoked',
};

/** What went wrong, without the step it happened in (the caller says that: `connect: …`). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = (err as Error & { host?: string }).host;
    return `certificate is not valid for ${host ?? 'this name'}`;
  }
  return SOCKET_ERRORS[code] ?? CERTIFICATE_ERRORS[code] ?? err.message;
}

/** `6 days`, `1 day`, `5 hours`: how far away an expiry is, rounded down. */
export function describeTimeLeft(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  if (days >= 1) return days === 1 ? '1 day' : `${days} days`;
  const hours = Math.floor(ms / 3_600_000);
  if (hours >= 1) return hours === 1 ? '1 hour' : `${hours} hours`;
  return `${Math.max(0, Math.floor(ms / 60_000))} minutes`;
}
