/** Value types shared by the probers' configuration schemas, written as blackbox_exporter writes them. */
import { z } from 'zod';
import { compileGoRegexp } from '../go-regexp/regexp.ts';
import { parseGoByteSize, parseGoDuration } from './go-units.ts';

/** A Go (RE2) regular expression, compiled at load time so a broken one is a configuration error with Go's message. */
export const goRegexp = () =>
  z.string().superRefine((pattern, ctx) => {
    try {
      compileGoRegexp(pattern);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** Text turned into a number by `parse`, whose error message becomes the issue. */
const parsedText = (parse: (text: string) => number) =>
  z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** A Go duration (`5s`, `1m30s`), in milliseconds. */
export const goDuration = () => parsedText(parseGoDuration);

/** A size (`10MB`, `512KiB`) or a number of bytes. */
export const goByteSize = () => z.union([z.number().int().nonnegative(), parsedText(parseGoByteSize)]);

/** Which address family to try first, and whether the other one may be used when the name has none of it. */
export const ipProtocolFields = {
  preferred_ip_protocol: z.enum(['ip4', 'ip6']).default('ip6'),
  ip_protocol_fallback: z.boolean().default(true),
};

export const sourceIpAddress = () => z.union([z.ipv4(), z.ipv6()]).optional();
