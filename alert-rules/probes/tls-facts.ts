/**
 * What blackbox reports of a TLS connection: the earliest expiry among the
 * certificates, the verified chain's expiry, the leaf's identity and the
 * protocol version, named and formatted as Go's crypto/x509 prints them.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { sample } from './samples.ts';
import type { ProbeSample } from './types.ts';

/** Go's zero time.Time as Unix seconds: what blackbox shows for a chain it did not verify. */
const GO_ZERO_TIME_UNIX = -62135596800;

const GO_ATTRIBUTE_NAMES: Record<string, string> = {
  serialNumber: 'SERIALNUMBER',
  street: 'STREET',
  postalCode: 'POSTALCODE',
};

/** pkix.Name.String(): the relative names last to first, RFC 4514 escaping, `CN=example.com,O=Example`. */
export function goDistinguishedName(lines: string): string {
  return lines
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => {
      const at = line.indexOf('=');
      const key = line.slice(0, at);
      const value = line
        .slice(at + 1)
        .replace(/[,+"\\<>;]/g, '\\$&')
        .replace(/^[ #]/, '\\$&')
        .replace(/ $/, '\\ ');
      return `${GO_ATTRIBUTE_NAMES[key] ?? key}=${value}`;
    })
    .reverse()
    .join(',');
}

/** The certificates the handshake produced, leaf first, each once. */
function chainOf(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

const unixSeconds = (cert: X509Certificate): number => Math.floor(cert.validToDate.getTime() / 1_000);

export function tlsVersionName(protocol: string | null): string {
  const match = /^TLSv(\d)(?:\.(\d))?$/.exec(protocol ?? '');
  return match ? `TLS ${match[1]}.${match[2] ?? '0'}` : 'unknown';
}

export interface TlsFacts {
  samples: ProbeSample[];
  earliestExpiryMs?: number;
}

export function tlsFacts(socket: TLSSocket): TlsFacts {
  const chain = chainOf(socket);
  const leaf = chain[0];
  const earliest = chain.length > 0 ? Math.min(...chain.map(unixSeconds)) : 0;
  const samples = [
    sample('probe_ssl_earliest_cert_expiry', earliest),
    sample('probe_tls_version_info', 1, { version: tlsVersionName(socket.getProtocol()) }),
    // Node verifies one chain: the certificates sent, completed from the trusted store.
    sample('probe_ssl_last_chain_expiry_timestamp_seconds', socket.authorized ? earliest : GO_ZERO_TIME_UNIX),
  ];
  if (leaf) {
    samples.push(
      sample('probe_ssl_last_chain_info', 1, {
        fingerprint_sha256: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
        subject: goDistinguishedName(leaf.subject),
        issuer: goDistinguishedName(leaf.issuer),
        subjectalternative: (leaf.subjectAltName ?? '')
          .split(', ')
          .filter((name) => name.startsWith('DNS:'))
          .map((name) => name.slice(4))
          .join(','),
      }),
    );
  }
  return { samples, ...(leaf && { earliestExpiryMs: earliest * 1_000 }) };
}
