import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

const NEAR_CHARS = 20;

/**
 * The argument that must be a range vector (`x[5m]` or a subquery), by
 * function; every other function argument, aggregation operand and binary
 * operand must not be one.
 */
const RANGE_ARGUMENT: Record<string, number> = {
  rate: 0,
  irate: 0,
  increase: 0,
  delta: 0,
  idelta: 0,
  deriv: 0,
  predict_linear: 0,
  holt_winters: 0,
  double_exponential_smoothing: 0,
  changes: 0,
  resets: 0,
  avg_over_time: 0,
  min_over_time: 0,
  max_over_time: 0,
  sum_over_time: 0,
  count_over_time: 0,
  quantile_over_time: 1,
  stddev_over_time: 0,
  stdvar_over_time: 0,
  last_over_time: 0,
  first_over_time: 0,
  present_over_time: 0,
  absent_over_time: 0,
  mad_over_time: 0,
  ts_of_min_over_time: 0,
  ts_of_max_over_time: 0,
  ts_of_first_over_time: 0,
  ts_of_last_over_time: 0,
};

const EXPRESSIONS = new Set([
  'AggregateExpr',
  'BinaryExpr',
  'FunctionCall',
  'MatrixSelector',
  'NumberDurationLiteral',
  'NumberLiteral',
  'OffsetExpr',
  'ParenExpr',
  'StepInvariantExpr',
  'StringLiteral',
  'SubqueryExpr',
  'UnaryExpr',
  'VectorSelector',
]);
/** Nodes that are their one inner expression as far as its type goes. */
const TRANSPARENT = new Set(['ParenExpr', 'OffsetExpr', 'StepInvariantExpr']);
/** Nodes whose operands must not be range vectors. */
const NO_RANGE_OPERANDS = new Set(['BinaryExpr', 'UnaryExpr', 'AggregateExpr']);
const TYPE_CHECKED = new Set([...NO_RANGE_OPERANDS, 'FunctionCall', 'MatrixSelector']);

/**
 * What is wrong with a PromQL expression, with its line and column (1-based,
 * within the expression); undefined when there is nothing. Syntax comes from
 * Prometheus's own grammar; of the type rules only where range vectors may
 * stand is checked (`rate(x)` without a range is refused, as Prometheus does),
 * other type errors pass here and fail when the expression is evaluated.
 */
export function promqlError(expr: string): string | undefined {
  const tree = parser.parse(expr);
  let syntaxAt: number | undefined;
  let typeError: string | undefined;
  tree.iterate({
    enter: (ref) => {
      if (syntaxAt !== undefined) return false;
      if (ref.type.isError) syntaxAt = ref.from;
      // Only a few kinds of node are checked; making a node object for every one would double the time.
      else if (typeError === undefined && TYPE_CHECKED.has(ref.name))
        typeError = rangePlacementError(ref.node, expr);
      return undefined;
    },
  });
  return syntaxAt === undefined ? typeError : syntaxError(expr, syntaxAt);
}

function syntaxError(expr: string, at: number): string {
  const rest = expr.slice(at).trimStart();
  // The grammar knows function names, so an unknown one shows as an identifier followed by a stray "(".
  const call = rest.startsWith('(') ? /(?<![\w:.])([a-zA-Z_:][\w:]*)\s*$/.exec(expr.slice(0, at)) : null;
  if (call)
    return `syntax error at ${position(expr, call.index)}: unknown function ${JSON.stringify(call[1])}`;
  if (rest === '') return `syntax error at ${position(expr, at)}: unexpected end of expression`;
  const near = rest.length > NEAR_CHARS ? `${rest.slice(0, NEAR_CHARS)}…` : rest;
  return `syntax error at ${position(expr, at)}: unexpected ${JSON.stringify(near.split('\n')[0])}`;
}

function rangePlacementError(node: SyntaxNode, expr: string): string | undefined {
  // The grammar reads `1 + x[5m]` as `(1 + x)[5m]`; Prometheus allows a plain range on a selector only.
  if (node.name === 'MatrixSelector' && node.firstChild?.name !== 'VectorSelector') {
    const range = node.getChild('DurationExpr');
    const at = expr.lastIndexOf('[', range?.from ?? node.to);
    return `type error at ${position(expr, at)}: a range like [5m] applies to a series selector only; an expression needs a subquery like [5m:]`;
  }
  if (node.name === 'FunctionCall') {
    const name = expr.slice(node.firstChild!.from, node.firstChild!.to);
    const args = expressions(node.getChild('FunctionCallBody'));
    for (const [i, arg] of args.entries()) {
      const wanted = RANGE_ARGUMENT[name] === i;
      if (wanted === isRange(arg)) continue;
      const needs = wanted ? 'needs a range vector (like x[5m])' : 'cannot take a range vector';
      return `type error at ${position(expr, arg.from)}: ${name}() ${needs} as argument ${i + 1}`;
    }
    return undefined;
  }
  if (!NO_RANGE_OPERANDS.has(node.name)) return undefined;
  const operands =
    node.name === 'AggregateExpr' ? expressions(node.getChild('FunctionCallBody')) : expressions(node);
  const range = operands.find(isRange);
  if (!range) return undefined;
  const what = node.name === 'AggregateExpr' ? 'an aggregation' : 'an operator';
  return `type error at ${position(expr, range.from)}: ${what} cannot take a range vector; wrap it in a function such as rate()`;
}

/** The children of a node that are expressions, leaving out operators, modifiers and durations. */
function expressions(node: SyntaxNode | null): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node?.firstChild; child; child = child.nextSibling) {
    if (EXPRESSIONS.has(child.name)) out.push(child);
  }
  return out;
}

function isRange(node: SyntaxNode): boolean {
  if (node.name === 'MatrixSelector' || node.name === 'SubqueryExpr') return true;
  const inner = TRANSPARENT.has(node.name) ? expressions(node)[0] : undefined;
  return inner ? isRange(inner) : false;
}

function position(expr: string, offset: number): string {
  const before = expr.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}
