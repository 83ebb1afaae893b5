/**
 * The series blackbox_exporter 0.23's `/probe` shows, with its help texts
 * word for word (its quirks included: the earliest certificate's help says
 * "last chain"), so a dashboard or alert written for blackbox reads Lookout's.
 */
import type { Labels } from '../types.ts';
import type { ProbeSample } from './types.ts';

export const BLACKBOX_SERIES = {
  probe_success: 'Displays whether or not the probe was a success',
  probe_duration_seconds: 'Returns how long the probe took to complete in seconds',
  probe_dns_lookup_time_seconds: 'Returns the time taken for probe dns lookup in seconds',
  probe_ip_protocol: 'Specifies whether probe ip protocol is IP4 or IP6',
  probe_ip_addr_hash: "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
  probe_failed_due_to_regex: 'Indicates if probe failed due to regex',
  probe_http_duration_seconds: 'Duration of http request by phase, summed over all redirects',
  probe_http_content_length: 'Length of http content response',
  probe_http_uncompressed_body_length: 'Length of uncompressed response body',
  probe_http_redirects: 'The number of redirects',
  probe_http_ssl: 'Indicates if SSL was used for the final redirect',
  probe_http_status_code: 'Response HTTP status code',
  probe_http_version: 'Returns the version of HTTP of the probe response',
  probe_http_last_modified_timestamp_seconds: 'Returns the Last-Modified HTTP response header in unixtime',
  probe_ssl_earliest_cert_expiry: 'Returns last SSL chain expiry in unixtime',
  probe_ssl_last_chain_expiry_timestamp_seconds: 'Returns last SSL chain expiry in timestamp',
  probe_ssl_last_chain_info: 'Contains SSL leaf certificate information',
  probe_tls_version_info: 'Returns the TLS version used or NaN when unknown',
  probe_dns_duration_seconds: 'Duration of DNS request by phase',
  probe_dns_answer_rrs: 'Returns number of entries in the answer resource record list',
  probe_dns_authority_rrs: 'Returns number of entries in the authority resource record list',
  probe_dns_additional_rrs: 'Returns number of entries in the additional resource record list',
  probe_dns_query_succeeded: 'Displays whether or not the query was executed successfully',
  probe_dns_serial: 'Returns the serial number of the zone',
} as const;

export type BlackboxSeries = keyof typeof BLACKBOX_SERIES;

export function sample(name: BlackboxSeries, value: number, labels?: Labels): ProbeSample {
  return labels
    ? { name, help: BLACKBOX_SERIES[name], labels, value }
    : { name, help: BLACKBOX_SERIES[name], value };
}

/** Seconds between two `performance.now()` readings. */
export const secondsBetween = (startMs: number, endMs: number): number => (endMs - startMs) / 1_000;
