/**
 * blackbox_exporter's dns prober: one query to the target server, its
 * response code and records checked, counted and timed as blackbox does.
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../core/clock.ts';
import { RegexpTimeoutError } from '../go-regexp/isolation.ts';
import { rcodeFailure, recordsFailure } from './dns-checks.ts';
import { type DnsProbeConfig, dnsProbeSchema } from './dns-config.ts';
import { exchange } from './dns-exchange.ts';
import { DNS_CLASSES, DNS_TYPES } from './dns-names.ts';
import { type DnsMessage, encodeQuery } from './dns-wire.ts';
import { probeSection } from './module-config.ts';
import { type ProbeOutcome, type ProbeSteps, runProbe } from './probe-run.ts';
import { bareHost, resolveTarget, splitHostPort } from './resolve-target.ts';
import { sample, secondsBetween } from './samples.ts';
import { nodeTlsOptions } from './tls-config.ts';
import type { AddressGuard, ProbeRequest, Prober, ProbeSample } from './types.ts';

export interface DnsProberOptions {
  guard: AddressGuard;
  /** How long one record regexp may run. */
  regexpTimeoutMs?: number;
  clock?: Clock;
}

export const DNS_PROBER_DEFAULTS = { regexpTimeoutMs: 1_000 };

type Settings = Required<Omit<DnsProberOptions, 'clock'>>;

/** `host:port`, or a host alone on port 53 (853 for DNS over TLS). */
function dnsServer(target: string, config: DnsProbeConfig): { host: string; port: number } {
  return splitHostPort(target) ?? { host: bareHost(target), port: config.dns_over_tls ? 853 : 53 };
}

async function responseFailure(response: DnsMessage, config: DnsProbeConfig, settings: Settings) {
  const sections = [
    ['answer', response.answer, config.validate_answer_rrs],
    ['authority', response.authority, config.validate_authority_rrs],
    ['additional', response.additional, config.validate_additional_rrs],
  ] as const;
  let failure = rcodeFailure(response.rcode, config.valid_rcodes);
  for (const [name, records, validator] of sections) {
    failure ??= await recordsFailure(name, records, validator, settings.regexpTimeoutMs);
  }
  return failure;
}

async function probeDns(request: ProbeRequest, settings: Settings, steps: ProbeSteps): Promise<ProbeOutcome> {
  const config = probeSection(request.module.dns, dnsProbeSchema);
  const server = dnsServer(request.target, config);
  const phases = { resolve: 0, connect: 0, request: 0 };
  let response: DnsMessage | undefined;
  let failure: string | undefined;
  steps.current = 'resolve';
  const resolution = await resolveTarget(settings.guard, server.host, config, request.signal);
  phases.resolve = resolution.lookupSeconds;
  if (resolution.address) {
    const started = performance.now();
    try {
      steps.current = 'query';
      const id = randomInt(65_536);
      const query = encodeQuery({
        id,
        name: config.query_name,
        type: DNS_TYPES[config.query_type]!,
        class: DNS_CLASSES[config.query_class]!,
        recursionDesired: config.recursion_desired,
      });
      const transport = {
        protocol: config.transport_protocol,
        sourceAddress: config.source_ip_address,
        ...(config.dns_over_tls && { tls: await nodeTlsOptions(config.tls_config, server.host) }),
      };
      const result = await exchange({
        query,
        id,
        address: resolution.address,
        port: server.port,
        transport,
        signal: request.signal,
      });
      response = result.response;
      phases.connect = result.connectSeconds;
      phases.request = result.requestSeconds;
      failure = await responseFailure(response, config, settings);
    } catch (err) {
      // As miekg/dns reports it: without a response, all the time went to connecting.
      if (!response) phases.connect = secondsBetween(started, performance.now());
      failure = err instanceof RegexpTimeoutError ? err.message : steps.failure(err);
    }
  } else {
    failure = steps.failure(resolution.error);
  }
  const samples: ProbeSample[] = [
    ...resolution.samples,
    ...Object.entries(phases).map(([phase, seconds]) =>
      sample('probe_dns_duration_seconds', seconds, { phase }),
    ),
    sample('probe_dns_answer_rrs', response?.answer.length ?? 0),
    sample('probe_dns_authority_rrs', response?.authority.length ?? 0),
    sample('probe_dns_additional_rrs', response?.additional.length ?? 0),
    sample('probe_dns_query_succeeded', response ? 1 : 0),
  ];
  if (response && config.query_type === 'SOA') {
    const serial = response.answer.findLast((record) => record.serial !== undefined)?.serial ?? 0;
    samples.push(sample('probe_dns_serial', serial));
  }
  return { ...(failure !== undefined && { failure }), samples };
}

export function createDnsProber(options: DnsProberOptions): Prober {
  const { clock, ...rest } = options;
  const settings: Settings = { ...DNS_PROBER_DEFAULTS, ...rest };
  return (request) => runProbe(request, clock, (steps) => probeDns(request, settings, steps));
}
