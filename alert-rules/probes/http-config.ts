/**
 * The `http:` part of a blackbox_exporter module, with blackbox's names and
 * defaults. Options blackbox has that Lookout does not implement are named
 * in the error rather than refused as unknown.
 */
import { z } from 'zod';
import { goByteSize, goRegexp, ipProtocolFields } from './config-fields.ts';
import { tlsConfigSchema } from './tls-config.ts';

const headerMatchSchema = z.strictObject({
  header: z.string().min(1, { error: 'header name must be set for HTTP header matchers' }),
  regexp: goRegexp().min(1, { error: 'regexp must be set for HTTP header matchers' }),
  allow_missing: z.boolean().default(false),
});
export type HeaderMatch = z.output<typeof headerMatchSchema>;

const COMPRESSIONS = ['', 'identity', 'gzip', 'deflate', 'br'] as const;

/** Options of Prometheus's HTTP client that a probe through the address guard cannot honour. */
const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, { error: `${what} is not supported by Lookout's probes` })
    .optional();

export const httpProbeSchema = z
  .strictObject({
    valid_status_codes: z.array(z.number().int().min(100).max(999)).default([]),
    valid_http_versions: z.array(z.string().min(1)).default([]),
    method: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP method such as GET or POST' })
      .default('GET'),
    headers: z.record(z.string().min(1), z.string()).default({}),
    body: z.string().optional(),
    /** Most bytes of the (decompressed) body read; 0 means Lookout's ceiling, a setting of the prober. */
    body_size_limit: goByteSize().default(0),
    compression: z
      .string()
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(COMPRESSIONS))
      .default(''),
    follow_redirects: z.boolean().default(true),
    /** Blackbox's older spelling, which wins over follow_redirects when set. */
    no_follow_redirects: z.boolean().optional(),
    fail_if_ssl: z.boolean().default(false),
    fail_if_not_ssl: z.boolean().default(false),
    fail_if_body_matches_regexp: z.array(goRegexp()).default([]),
    fail_if_body_not_matches_regexp: z.array(goRegexp()).default([]),
    fail_if_header_matches: z.array(headerMatchSchema).default([]),
    fail_if_header_not_matches: z.array(headerMatchSchema).default([]),
    tls_config: tlsConfigSchema.prefault({}),
    basic_auth: z
      .strictObject({
        username: z.string().default(''),
        password: z.string().optional(),
        password_file: z.string().min(1).optional(),
      })
      .refine((auth) => auth.password === undefined || auth.password_file === undefined, {
        error: 'at most one of basic_auth password & password_file must be configured',
      })
      .optional(),
    authorization: z
      .strictObject({
        type: z.string().min(1).default('Bearer'),
        credentials: z.string().optional(),
        credentials_file: z.string().min(1).optional(),
      })
      .refine((auth) => auth.type.toLowerCase() !== 'basic', {
        error: 'authorization type cannot be set to "basic", use "basic_auth" instead',
      })
      .refine((auth) => auth.credentials === undefined || auth.credentials_file === undefined, {
        error: 'at most one of authorization credentials & credentials_file must be configured',
      })
      .optional(),
    bearer_token: z.string().optional(),
    bearer_token_file: z.string().min(1).optional(),
    /** Offer HTTP/2 over TLS (ALPN); without TLS it is HTTP/1.1, as in Go. */
    enable_http2: z.boolean().default(true),
    ...ipProtocolFields,
    oauth2: unsupported('oauth2'),
    proxy_url: unsupported('proxy_url (a proxy would connect where the address guard cannot check)'),
    proxy_connect_header: unsupported('proxy_connect_header'),
    skip_resolve_phase_with_proxy: unsupported('skip_resolve_phase_with_proxy'),
  })
  .superRefine((http, ctx) => {
    const bearer = http.bearer_token !== undefined || http.bearer_token_file !== undefined;
    if (http.basic_auth && bearer) {
      ctx.addIssue({
        code: 'custom',
        message: 'at most one of basic_auth, bearer_token & bearer_token_file',
      });
    }
    if (http.authorization && (bearer || http.basic_auth)) {
      ctx.addIssue({
        code: 'custom',
        message: 'authorization is not compatible with basic_auth, bearer_token & bearer_token_file',
      });
    }
    if (http.bearer_token !== undefined && http.bearer_token_file !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'at most one of bearer_token & bearer_token_file' });
    }
  })
  .transform(({ no_follow_redirects, ...http }) => ({
    ...http,
    follow_redirects: no_follow_redirects === undefined ? http.follow_redirects : !no_follow_redirects,
  }));
export type HttpProbeConfig = z.output<typeof httpProbeSchema>;
