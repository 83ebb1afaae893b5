import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import type { z } from 'zod';
import { SECRET_KEY } from './config-types.ts';

/** One problem in a config file, with the dotted path of the value it concerns. */
export interface ConfigError {
  path: string;
  message: string;
}

export type ConfigResult<T> = { ok: true; value: T } | { ok: false; errors: ConfigError[] };

export class ConfigInvalidError extends Error {
  readonly errors: ConfigError[];
  constructor(source: string, errors: ConfigError[]) {
    super(`${source}: ${errors.length} configuration error(s)\n${formatConfigErrors(errors)}`);
    this.name = 'ConfigInvalidError';
    this.errors = errors;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/**
 * Replaces ${VAR} and ${VAR:-default} in every string value; "$$" stands for a
 * literal "$". It works on parsed values, not on the file's text, so an
 * environment value can never change the YAML structure. A value that is one
 * whole reference and reads as a number or boolean becomes one, so `port: ${PORT}` is a number.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  errors: ConfigError[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    let missing = false;
    const replaced = value.replace(
      REFERENCE,
      (token, name: string | undefined, fallback: string | undefined) => {
        if (token === '$$') return '$';
        const found = env[name!];
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        missing = true;
        errors.push({
          path: formatPath(path),
          message: `environment variable ${name} is not set and has no default`,
        });
        return '';
      },
    );
    if (missing || replaced === value || !WHOLE_REFERENCE.test(value)) return replaced;
    if (/^-?\d+(\.\d+)?$/.test(replaced)) return Number(replaced);
    if (replaced === 'true' || replaced === 'false') return replaced === 'true';
    return replaced;
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, errors, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = interpolate(item, env, errors, [...path, key]);
    return out;
  }
  return value;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return JSON.stringify(value);
}

function issueToErrors(issue: z.core.$ZodIssue): ConfigError[] {
  const last = issue.path.at(-1);
  // Say what is wrong with a secret without repeating it.
  const secret = typeof last === 'string' && SECRET_KEY.test(last);
  const describe = (value: unknown) =>
    secret && value !== undefined ? 'a redacted value' : describeValue(value);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
  }
  if (issue.code === 'invalid_union') {
    // A union of shapes: report the alternative that got furthest, not every branch.
    const best = issue.errors.toSorted((a, b) => a.length - b.length)[0];
    if (best && best.length > 0 && issue.errors.every((branch) => branch.length > 0)) {
      // Branch issues are relative to the union; the union's own path comes first.
      return best.flatMap((inner) => issueToErrors({ ...inner, path: [...issue.path, ...inner.path] }));
    }
  }
  const path = formatPath(issue.path);
  if (issue.code === 'invalid_type') {
    return [{ path, message: `expected ${issue.expected}, got ${describe(issue.input)}` }];
  }
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
    return [{ path, message: `expected one of ${allowed}, got ${describe(issue.input)}` }];
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const bound = issue.code === 'too_small' ? 'at least' : 'at most';
    const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
    return [{ path, message: `expected ${bound} ${String(limit)}${unit}, got ${describe(issue.input)}` }];
  }
  return [{ path, message: issue.message }];
}

/** Validates already-parsed data against a schema, reporting every problem at once. */
export function validate<S extends z.ZodType>(schema: S, data: unknown): ConfigResult<z.output<S>> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: result.error.issues.flatMap(issueToErrors) };
}

/** Aliases a hand-written configuration needs; far below what expands into a resource exhaustion. */
const MAX_ALIAS_COUNT = 100;

/**
 * Plain values of one parsed YAML document. A syntax error or an alias bomb
 * (aliases of aliases expanding to millions of values) is an error, never an expansion.
 */
export function yamlDocumentValue(doc: YAML.Document.Parsed): ConfigResult<unknown> {
  if (doc.errors.length > 0) {
    // After the first syntax error the parser's further complaints are mostly echoes of it.
    return {
      ok: false,
      errors: doc.errors.slice(0, 1).map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)',
        message: e.message.split('\n')[0]!,
      })),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (err) {
    return {
      ok: false,
      errors: [
        {
          path: '(yaml)',
          message: `${(err as Error).message} (aliases may expand to at most ${MAX_ALIAS_COUNT} values)`,
        },
      ],
    };
  }
}

/** Parses YAML text with duplicate keys refused and aliases bounded; the first syntax error is the one reported. */
export function parseYaml(text: string): ConfigResult<unknown> {
  return yamlDocumentValue(YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true }));
}

/** Parses YAML text, interpolates the environment and validates. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  text: string,
  env: NodeJS.ProcessEnv = process.env,
): ConfigResult<z.output<S>> {
  const yaml = parseYaml(text);
  if (!yaml.ok) return yaml;
  const errors: ConfigError[] = [];
  const data = interpolate(yaml.value ?? {}, env, errors);
  const result = validate(schema, data);
  if (!result.ok) {
    // A value whose variable was missing already has its error; do not add the schema's complaint about the blank.
    const reported = new Set(errors.map((e) => e.path));
    errors.push(...result.errors.filter((e) => !reported.has(e.path)));
  }
  return errors.length > 0 ? { ok: false, errors } : result;
}

export async function loadConfig<S extends z.ZodType>(
  schema: S,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigInvalidError(file, [{ path: '(file)', message: (err as Error).message }]);
  }
  const result = parseConfig(schema, text, env);
  if (!result.ok) throw new ConfigInvalidError(file, result.errors);
  return result.value;
}
