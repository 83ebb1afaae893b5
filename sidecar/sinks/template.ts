/**
 * Topic and key templates such as `logs-{kubernetes.namespace}`: literal text
 * with field references, rendered from a batch's header (the fields every
 * line of one file shares). Compiled once; rendering is a join.
 */
export function compileTemplate(
  template: string,
  fallback = 'unknown',
): (fields: Record<string, unknown>) => string {
  const parts = template.split(/\{([^}]+)\}/);
  return (fields) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 0) out += parts[i];
      else out += stringAt(fields, parts[i]!) ?? fallback;
    }
    return out;
  };
}

/** A field by its dotted name, whether the record holds it flat ("a.b") or nested ({a: {b}}). */
function stringAt(fields: Record<string, unknown>, path: string): string | undefined {
  if (path in fields) return scalar(fields[path]);
  let value: unknown = fields;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return scalar(value);
}

function scalar(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}
