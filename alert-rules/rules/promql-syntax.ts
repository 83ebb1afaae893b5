import { parser } from '@prometheus-io/lezer-promql';

const NEAR_CHARS = 20;

/**
 * The first syntax error in a PromQL expression, with its line and column
 * (1-based, within the expression); undefined when the grammar accepts it.
 * It checks syntax only: a type error such as `rate(x)` without a range passes
 * here and fails when the expression is evaluated.
 */
export function promqlSyntaxError(expr: string): string | undefined {
  let at: number | undefined;
  parser.parse(expr).iterate({
    enter: (node) => {
      if (at !== undefined) return false;
      if (node.type.isError) at = node.from;
      return undefined;
    },
  });
  if (at === undefined) return undefined;
  const rest = expr.slice(at).trimStart();
  // The grammar knows function names, so an unknown one shows as an identifier followed by a stray "(".
  const call = rest.startsWith('(') ? /(?<![\w:.])([a-zA-Z_:][\w:]*)\s*$/.exec(expr.slice(0, at)) : null;
  if (call)
    return `syntax error at ${position(expr, call.index)}: unknown function ${JSON.stringify(call[1])}`;
  if (rest === '') return `syntax error at ${position(expr, at)}: unexpected end of expression`;
  const near = rest.length > NEAR_CHARS ? `${rest.slice(0, NEAR_CHARS)}…` : rest;
  return `syntax error at ${position(expr, at)}: unexpected ${JSON.stringify(near.split('\n')[0])}`;
}

function position(expr: string, offset: number): string {
  const before = expr.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}
