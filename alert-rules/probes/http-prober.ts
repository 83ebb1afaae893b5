/**
 * blackbox_exporter's http prober on node:http: the same checks, the same
 * series, and a reason in words for every failure.
 *
 * Built on node:http and node:http2 over sockets it opens itself (not undici): each
 * connection must go to the one address the guard returned, and the
 * resolve, connect, TLS and first-byte times are read straight off those
 * sockets, as Go's httptrace reads them for blackbox.
 */
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import type { Clock } from '../../core/clock.ts';
import { RegexpTimeoutError } from '../go-regexp/isolation.ts';
import { closeAll } from './connect.ts';
import { authorizationHeader } from './http-auth.ts';
import { type Body, readBody } from './http-body.ts';
import {
  bodyFailure,
  contentLength,
  headerFailure,
  lastModifiedSeconds,
  statusFailure,
} from './http-checks.ts';
import { type HttpProbeConfig, httpProbeSchema } from './http-config.ts';
import { type Hops, newHops, runHops } from './http-hops.ts';
import type { ProbeResponse } from './http-request.ts';
import { probeSection } from './module-config.ts';
import { type ProbeOutcome, type ProbeSteps, runProbe } from './probe-run.ts';
import { httpTargetUrl } from './probe-target.ts';
import { sample, secondsBetween } from './samples.ts';
import { tlsFacts } from './tls-facts.ts';
import type { AddressGuard, ProbeRequest, Prober, ProbeSample } from './types.ts';

export interface HttpProberOptions {
  guard: AddressGuard;
  /** Bytes of (decompressed) body read when a module sets no body_size_limit; more fails the probe. */
  maxBodyBytes?: number;
  /** Redirects followed before the probe stops (Go's client: 10). */
  maxRedirects?: number;
  /** How long one regular expression may run on a body or header before the check fails. */
  regexpTimeoutMs?: number;
  userAgent?: string;
  clock?: Clock;
}

export const HTTP_PROBER_DEFAULTS = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxRedirects: 10,
  regexpTimeoutMs: 1_000,
  userAgent: 'Lookout-Probe/1.0',
};

type Settings = Required<Omit<HttpProberOptions, 'clock'>>;

const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;

/** Phase totals over every request, as blackbox sums them; before an address is known only `resolve` exists. */
function phaseSamples(hops: Hops): ProbeSample[] {
  const totals = { resolve: hops.resolveSeconds, connect: 0, tls: 0, processing: 0, transfer: 0 };
  for (const t of hops.traces) {
    if (t.gotConn === undefined || t.dnsDone === undefined) continue;
    if (t.tls) {
      totals.connect += secondsBetween(t.dnsDone, t.connectDone!);
      totals.tls += secondsBetween(t.tlsStart!, t.tlsDone!);
    } else {
      totals.connect += secondsBetween(t.dnsDone, t.gotConn);
    }
    if (t.responseStart === undefined) continue;
    totals.processing += secondsBetween(t.gotConn, t.responseStart);
    if (t.end !== undefined) totals.transfer += secondsBetween(t.responseStart, t.end);
  }
  const phases = hops.firstResolution?.address ? PHASES : (['resolve'] as const);
  return phases.map((phase) => sample('probe_http_duration_seconds', totals[phase], { phase }));
}

interface Checked {
  failure?: string;
  failedDueToRegex: number;
  body?: Body;
}

/** Blackbox's checks in blackbox's order; the first that fails gives the reason. */
async function checkResponse(
  response: ProbeResponse,
  hops: Hops,
  config: HttpProbeConfig,
  settings: Settings,
  signal: AbortSignal,
  steps: ProbeSteps,
): Promise<Checked> {
  const { status } = response;
  const stoppedNote = hops.stopped ? ` (${hops.stopped})` : '';
  const statusWords = statusFailure(status, config.valid_status_codes);
  let failure = statusWords && `${statusWords}${stoppedNote}`;
  let failedDueToRegex = 0;
  const bodyRegexps =
    config.fail_if_body_matches_regexp.length + config.fail_if_body_not_matches_regexp.length;
  const headerRegexps = config.fail_if_header_matches.length + config.fail_if_header_not_matches.length;
  try {
    if (!failure && headerRegexps > 0) {
      failure = await headerFailure(response, config, settings.regexpTimeoutMs);
      failedDueToRegex = failure ? 1 : 0;
    }
    if (hops.stopped) {
      if (!failure && bodyRegexps > 0) {
        failedDueToRegex = 1;
        failure = `body not read${stoppedNote}`;
      }
      return { failure, failedDueToRegex };
    }
    steps.current = 'reading the body';
    const limitBytes = config.body_size_limit || settings.maxBodyBytes;
    const keep = !failure && bodyRegexps > 0;
    const body = await readBody(response.body, { compression: config.compression, limitBytes, keep, signal });
    if (body.overLimit) {
      const limit = config.body_size_limit
        ? 'body_size_limit'
        : "Lookout's limit for modules without body_size_limit";
      failure ??= `body larger than ${limitBytes} bytes (${limit})`;
      if (keep) failedDueToRegex = 1;
    }
    if (body.error) failure ??= `reading the body: ${body.error}`;
    if (!failure && keep && body.text !== undefined) {
      failure = await bodyFailure(body.text, config, settings.regexpTimeoutMs);
      failedDueToRegex = failure ? 1 : 0;
    }
    return { failure, failedDueToRegex, body };
  } catch (err) {
    if (!(err instanceof RegexpTimeoutError)) throw err;
    return { failure: err.message, failedDueToRegex: 1 };
  }
}

async function probeHttp(
  request: ProbeRequest,
  settings: Settings,
  steps: ProbeSteps,
): Promise<ProbeOutcome> {
  const config = probeSection(request.module.http, httpProbeSchema);
  let url: URL;
  try {
    url = httpTargetUrl(request.target);
  } catch (err) {
    return { failure: `invalid target: ${(err as Error).message}`, samples: [] };
  }
  const hops = newHops();
  let failure: string | undefined;
  let checked: Checked = { failedDueToRegex: 0 };
  let version = 0;
  const extra: ProbeSample[] = [];
  let certificateExpiresAtMs: number | undefined;
  try {
    const authorization = await authorizationHeader(config);
    await runHops(url, config, { ...settings, authorization }, request.signal, steps, hops);
    const final = hops.final!;
    checked = await checkResponse(final.response, hops, config, settings, request.signal, steps);
    failure = checked.failure;
    hops.traces.at(-1)!.end = performance.now();
    version = Number(final.response.version) || 0;
    const proto = `HTTP/${final.response.version}`;
    if (!failure && config.valid_http_versions.length > 0 && !config.valid_http_versions.includes(proto)) {
      failure = `${proto} is not one of valid_http_versions (${config.valid_http_versions.join(', ')})`;
    }
    const lastModified = lastModifiedSeconds(final.response);
    if (lastModified !== undefined)
      extra.push(sample('probe_http_last_modified_timestamp_seconds', lastModified));
    if (final.socket instanceof TLSSocket) {
      const facts = tlsFacts(final.socket);
      extra.push(...facts.samples);
      certificateExpiresAtMs = facts.earliestExpiryMs;
      if (config.fail_if_ssl) failure ??= 'the final response came over TLS (fail_if_ssl)';
    } else if (config.fail_if_not_ssl) {
      failure ??= 'the final response did not come over TLS (fail_if_not_ssl)';
    }
  } catch (err) {
    failure ??= steps.failure(err);
  } finally {
    hops.final?.response.close();
    closeAll(hops.sockets);
  }
  const final = hops.final;
  const samples = [
    ...(hops.firstResolution?.samples ?? []),
    sample('probe_failed_due_to_regex', checked.failedDueToRegex),
    sample('probe_http_content_length', final ? contentLength(final.response, final.method) : 0),
    sample('probe_http_uncompressed_body_length', checked.body?.length ?? 0),
    ...phaseSamples(hops),
    sample('probe_http_redirects', hops.redirects),
    sample('probe_http_ssl', final?.socket instanceof TLSSocket ? 1 : 0),
    sample('probe_http_status_code', final?.response.status ?? 0),
    sample('probe_http_version', version),
    ...extra,
  ];
  return {
    ...(failure !== undefined && { failure }),
    samples,
    ...(certificateExpiresAtMs && { certificateExpiresAtMs }),
  };
}

export function createHttpProber(options: HttpProberOptions): Prober {
  const { clock, ...rest } = options;
  const settings: Settings = { ...HTTP_PROBER_DEFAULTS, ...rest };
  return (request) => runProbe(request, clock, (steps) => probeHttp(request, settings, steps));
}
