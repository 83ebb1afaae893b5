/**
 * Alert label and annotation templates, expanded exactly as Prometheus
 * expands them (rules/alerting.go): the same variable prelude, data,
 * functions, output and error texts.
 */
import type { Labels, QueryApi } from '../../types.ts';
import { BUILTINS } from './builtins.ts';
import { type TemplateSettings, templateSchema } from './config.ts';
import { executeTemplate, TemplateExecError } from './exec.ts';
import { ALERT_DATA_TYPE, goStruct, stringMap } from './go-values.ts';
import { type ParsedTemplate, parseTemplate, TemplateParseError } from './parse.ts';
import { prometheusFunctions } from './prometheus-functions.ts';

export interface TemplateContext {
  labels: Labels;
  externalLabels: Labels;
  externalURL: string;
  /** The sample value ($value). */
  value: number;
  /** Evaluation time: `query` runs at it. */
  timeMs: number;
  /** For the `query` function. */
  query: QueryApi['query'];
}

export const DEFAULT_TEMPLATE_SETTINGS: TemplateSettings = templateSchema.parse(undefined);

const PRELUDE =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

const FUNCTION_NAMES: ReadonlySet<string> = new Set([
  ...BUILTINS.keys(),
  ...prometheusFunctions({ externalURL: '', regexpTimeoutMs: 0, timeMs: 0, query: async () => [] }).keys(),
]);

/** How Prometheus's text in place of a failed expansion begins. */
export const TEMPLATE_ERROR = '<error expanding template: ';

let settings = DEFAULT_TEMPLATE_SETTINGS;
const cache = new Map<string, ParsedTemplate | TemplateParseError>();

/** Replaces the limits (and empties the cache); for configuration and tests. */
export function configureTemplates(next: Partial<TemplateSettings>): void {
  settings = templateSchema.parse(next);
  cache.clear();
}

function parseCached(name: string, text: string): ParsedTemplate | TemplateParseError {
  const key = `${name}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Re-inserting keeps the most recently used entries last, so eviction drops the oldest.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let parsed: ParsedTemplate | TemplateParseError;
  try {
    parsed = parseTemplate(name, PRELUDE + text, FUNCTION_NAMES);
  } catch (e) {
    // Anything but Go's own parse errors (a bug, an exhausted stack) still must not escape.
    parsed = e instanceof TemplateParseError ? e : new TemplateParseError(`template: ${name}: ${String(e)}`);
  }
  if (cache.size >= settings.cacheSize) cache.delete(cache.keys().next().value as string);
  cache.set(key, parsed);
  return parsed;
}

/** Never throws: an error renders as Prometheus renders it, "<error expanding template: ...>". */
export async function expandTemplate(
  name: string,
  text: string,
  context: TemplateContext,
  signal?: AbortSignal,
): Promise<string> {
  const parsed = parseCached(name, text);
  if (parsed instanceof TemplateParseError) {
    return `${TEMPLATE_ERROR}error parsing template ${name}: ${parsed.message}>`;
  }
  const data = goStruct(ALERT_DATA_TYPE, {
    Labels: stringMap(context.labels),
    ExternalLabels: stringMap(context.externalLabels),
    ExternalURL: context.externalURL,
    Value: context.value,
  });
  try {
    const functions = new Map([
      ...BUILTINS,
      ...prometheusFunctions({ ...context, regexpTimeoutMs: settings.regexpTimeoutMs }),
    ]);
    return await executeTemplate(parsed, name, data, functions, settings, signal);
  } catch (e) {
    if (e instanceof TemplateExecError) {
      return `${TEMPLATE_ERROR}error executing template ${name}: ${e.message}>`;
    }
    // As Prometheus reports a panic inside a template.
    return `${TEMPLATE_ERROR}panic expanding template ${name}: ${String(e)}>`;
  }
}

/** Parse-only check used when loading rule files; returns the error text or undefined. */
export function checkTemplate(name: string, text: string): string | undefined {
  const parsed = parseCached(name, text);
  return parsed instanceof TemplateParseError ? parsed.message : undefined;
}
