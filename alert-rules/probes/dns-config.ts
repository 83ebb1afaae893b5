/** The `dns:` part of a blackbox_exporter module: one query, its response code and records checked. */
import { z } from 'zod';
import { goRegexp, ipProtocolFields, sourceIpAddress } from './config-fields.ts';
import { DNS_CLASSES, DNS_RCODES, DNS_TYPES } from './dns-names.ts';
import { tlsConfigSchema } from './tls-config.ts';

const rrValidatorSchema = z.strictObject({
  fail_if_matches_regexp: z.array(goRegexp()).default([]),
  fail_if_all_match_regexp: z.array(goRegexp()).default([]),
  fail_if_not_matches_regexp: z.array(goRegexp()).default([]),
  fail_if_none_matches_regexp: z.array(goRegexp()).default([]),
});
export type RrValidator = z.output<typeof rrValidatorSchema>;

const named = (table: Record<string, number>, what: string) =>
  z.string().refine((name) => Object.hasOwn(table, name), {
    error: (issue) => `${what} ${JSON.stringify(issue.input)} is not valid`,
  });

export const dnsProbeSchema = z
  .strictObject({
    ...ipProtocolFields,
    source_ip_address: sourceIpAddress(),
    transport_protocol: z.enum(['udp', 'tcp']).default('udp'),
    dns_over_tls: z.boolean().default(false),
    tls_config: tlsConfigSchema.prefault({}),
    query_name: z.string({ error: 'query name must be set for DNS module' }).min(1, {
      error: 'query name must be set for DNS module',
    }),
    query_type: named(DNS_TYPES, 'query type').default('ANY'),
    query_class: named(DNS_CLASSES, 'query class').default('IN'),
    recursion_desired: z.boolean().default(true),
    valid_rcodes: z.array(named(DNS_RCODES, 'rcode')).default(['NOERROR']),
    validate_answer_rrs: rrValidatorSchema.prefault({}),
    validate_authority_rrs: rrValidatorSchema.prefault({}),
    validate_additional_rrs: rrValidatorSchema.prefault({}),
  })
  .refine((dns) => !dns.dns_over_tls || dns.transport_protocol === 'tcp', {
    error: 'dns_over_tls needs transport_protocol tcp',
  });
export type DnsProbeConfig = z.output<typeof dnsProbeSchema>;
