import { z } from 'zod';

const REGEX = /^\/(.+)\/([imsu]*)$/;

/**
 * One value test, written the way people write them in YAML: `shop` (exact),
 * `kube-*` or `web-?` (glob, the whole value), `/^(BackOff|Failed)$/`
 * or `/timeout/i` (regular expression, anywhere unless anchored; flags i, m, s,
 * u), or a list of those (any).
 */
export const valueMatcherSchema = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .superRefine((value, ctx) => {
    for (const pattern of Array.isArray(value) ? value : [value]) {
      const regex = REGEX.exec(pattern);
      if (!regex) continue;
      try {
        new RegExp(regex[1]!, regex[2]);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `${pattern} is not a valid regular expression: ${(err as Error).message}`,
        });
      }
    }
  });
export type ValueMatcherConfig = z.output<typeof valueMatcherSchema>;

export type ValueTest = (value: string | undefined) => boolean;

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const c of glob) {
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function compileOne(pattern: string): ValueTest {
  const regex = REGEX.exec(pattern);
  if (regex) {
    const re = new RegExp(regex[1]!, regex[2]);
    return (value) => value !== undefined && re.test(value);
  }
  if (pattern.includes('*') || pattern.includes('?')) {
    const re = globToRegExp(pattern);
    return (value) => value !== undefined && re.test(value);
  }
  return (value) => value === pattern;
}

export function compileValueMatcher(config: ValueMatcherConfig): ValueTest {
  const tests = (Array.isArray(config) ? config : [config]).map(compileOne);
  return tests.length === 1 ? tests[0]! : (value) => tests.some((test) => test(value));
}
