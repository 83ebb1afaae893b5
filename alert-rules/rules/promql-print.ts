import { parser } from '@prometheus-io/lezer-promql';
import { formatPrometheusDuration, parsePrometheusDuration } from '../duration.ts';
import { formatFloat } from './template/go-float.ts';
import { quote } from './template/go-fmt.ts';
import { unquoteGo } from './template/parse.ts';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Something Prometheus 2.42's parser has no such form for (newer syntax): the expression is shown as written. */
class NotPrintable extends Error {}

/**
 * An expression as Prometheus 2.42 prints its parsed form, which is what its
 * rules API shows as a rule's query and what alerts link to: keywords in
 * lower case, `sum by (job) (…)`, `on (a) group_left (b)`, sorted label
 * matchers, numbers and durations normalised, offset after `@`. An
 * expression that does not parse, or uses syntax newer than that, is
 * returned as written.
 *
 * The grammar binds postfix modifiers (`[5m:1m]`, `offset`, `@`) to the
 * whole expression on their left where Prometheus binds them to the
 * selector; printed in place, the text is the same either way.
 */
export function printPromQL(expr: string): string {
  const tree = parser.parse(expr);
  let broken = false;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) broken = true;
      return !broken;
    },
  });
  const top = tree.topNode.firstChild;
  if (broken || !top) return expr;
  try {
    return new Printer(expr).expr(top);
  } catch (err) {
    if (err instanceof NotPrintable) return expr;
    throw err;
  }
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

const isExpr = (node: SyntaxNode) => node.type.is('Expr');

class Printer {
  private readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  private text(node: SyntaxNode): string {
    return this.source.slice(node.from, node.to);
  }

  expr(node: SyntaxNode): string {
    switch (node.name) {
      case 'ParenExpr':
        return `(${this.expr(this.operands(node)[0]!)})`;
      case 'BinaryExpr':
        return this.binary(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'FunctionCall': {
        const name = this.text(node.getChild('FunctionIdentifier')!);
        return `${name}(${this.arguments(node).join(', ')})`;
      }
      case 'NumberDurationLiteral':
        return this.number(this.text(node));
      case 'StringLiteral':
        return quote(this.string(node));
      case 'UnaryExpr': {
        const op = this.text(node.getChild('UnaryOp')!);
        const [operand] = this.operands(node);
        // Prometheus's parser folds the sign into a number.
        if (operand?.name === 'NumberDurationLiteral') return this.number(op + this.text(operand));
        return `${op}${this.expr(operand!)}`;
      }
      case 'VectorSelector':
        return this.selector(node);
      case 'MatrixSelector': {
        const [inner] = this.operands(node);
        return `${this.expr(inner!)}[${this.duration(node.getChild('DurationExpr')!)}]`;
      }
      case 'SubqueryExpr': {
        const [inner] = this.operands(node);
        const [range, step] = node.getChildren('DurationExpr');
        const stepText = step ? this.duration(step) : '0s';
        return `${this.expr(inner!)}[${this.duration(range!)}:${stepText === '0s' ? '' : stepText}]`;
      }
      case 'OffsetExpr':
      case 'StepInvariantExpr':
        return this.modified(node);
      default:
        throw new NotPrintable(node.name);
    }
  }

  private operands(node: SyntaxNode): SyntaxNode[] {
    return children(node).filter(isExpr);
  }

  private arguments(node: SyntaxNode): string[] {
    return this.operands(node.getChild('FunctionCallBody')!).map((arg) => this.expr(arg));
  }

  private binary(node: SyntaxNode): string {
    const [lhs, rhs] = this.operands(node);
    const op = children(node).find(
      (c) => !isExpr(c) && c.name !== 'BoolModifier' && !c.name.endsWith('Clause'),
    );
    if (!op || op.name === 'TrimUpper' || op.name === 'TrimLower' || node.getChild('FillModifier'))
      throw new NotPrintable('binary operator');
    const bool = node.getChild('BoolModifier') ? ' bool' : '';
    return `${this.expr(lhs!)} ${this.text(op).toLowerCase()}${bool}${this.matching(node)} ${this.expr(rhs!)}`;
  }

  /** Prometheus prints the matching only with `on` or with labels, and then group_x with its labels. */
  private matching(node: SyntaxNode): string {
    const clause = node.getChild('MatchingModifierClause');
    if (!clause) return '';
    const on = clause.getChild('On') !== null;
    const [matchOn, include] = clause.getChildren('GroupingLabels').map((g) => this.labelNames(g));
    if (!on && matchOn!.length === 0) return '';
    let text = ` ${on ? 'on' : 'ignoring'} (${matchOn!.join(', ')})`;
    const side = clause.getChild('GroupLeft') ? 'left' : clause.getChild('GroupRight') ? 'right' : undefined;
    if (side) text += ` group_${side} (${(include ?? []).join(', ')})`;
    return text;
  }

  private labelNames(grouping: SyntaxNode): string[] {
    if (grouping.getChild('QuotedLabelName')) throw new NotPrintable('quoted label name');
    return grouping.getChildren('LabelName').map((label) => this.text(label));
  }

  private aggregate(node: SyntaxNode): string {
    let text = this.text(node.getChild('AggregateOp')!).toLowerCase();
    const modifier = node.getChild('AggregateModifier');
    if (modifier) {
      const labels = this.labelNames(modifier.getChild('GroupingLabels')!).join(', ');
      if (modifier.getChild('Without')) text += ` without (${labels}) `;
      else if (labels !== '') text += ` by (${labels}) `;
    }
    return `${text}(${this.arguments(node).join(', ')})`;
  }

  /** Metric name and matchers, sorted as text; the matcher of the metric name itself is left out. */
  private selector(node: SyntaxNode): string {
    const identifier = node.getChild('Identifier');
    const name = identifier ? this.text(identifier) : '';
    const matchers: string[] = [];
    for (const matcher of node.getChild('LabelMatchers') ? children(node.getChild('LabelMatchers')!) : []) {
      if (matcher.name !== 'UnquotedLabelMatcher') throw new NotPrintable('quoted label name');
      const label = this.text(matcher.getChild('LabelName')!);
      const op = this.text(matcher.getChild('MatchOp')!);
      const value = this.string(matcher.getChild('StringLiteral')!);
      if (label === '__name__' && op === '=' && value === name) continue;
      matchers.push(`${label}${op}${quote(value)}`);
    }
    if (matchers.length === 0) return name;
    return `${name}{${matchers.sort().join(',')}}`;
  }

  /** Offset and `@` as Prometheus prints them: `@` first, whatever order they were written in. */
  private modified(node: SyntaxNode): string {
    let at = '';
    let offset = '';
    let inner = node;
    while (inner.name === 'OffsetExpr' || inner.name === 'StepInvariantExpr') {
      if (inner.name === 'OffsetExpr') offset ||= this.offset(inner.getChild('OffsetDurationExpr')!);
      else at ||= this.at(inner);
      inner = this.operands(inner)[0]!;
    }
    return `${this.expr(inner)}${at}${offset}`;
  }

  private offset(node: SyntaxNode): string {
    const sign = node.getChild('UnaryOp');
    const ms = this.durationMs(sign ? node.getChild('OffsetDurationExpr')! : node);
    if (ms === 0) return '';
    const negative = sign !== null && this.text(sign) === '-';
    return ` offset ${negative ? '-' : ''}${formatPrometheusDuration(ms)}`;
  }

  private at(node: SyntaxNode): string {
    const preprocessor = node.getChild('AtModifierPreprocessors');
    if (preprocessor) return preprocessor.getChild('AtStart') ? ' @ start()' : ' @ end()';
    const time = node.getChild('NumberDurationLiteral');
    if (!time) throw new NotPrintable('@');
    return ` @ ${(Math.round(this.numberValue(this.text(time)) * 1000) / 1000).toFixed(3)}`;
  }

  private duration(node: SyntaxNode): string {
    return formatPrometheusDuration(this.durationMs(node));
  }

  /** Only plain durations: arithmetic on durations is newer than Prometheus 2.42. */
  private durationMs(node: SyntaxNode): number {
    const literal = children(node);
    if (literal.length !== 1 || literal[0]!.name !== 'NumberDurationLiteralInDurationContext')
      throw new NotPrintable('duration expression');
    const text = this.text(literal[0]!);
    if (!/^(\d+[a-z]+)+$/.test(text)) throw new NotPrintable('duration as a number');
    return parsePrometheusDuration(text);
  }

  private string(node: SyntaxNode): string {
    const value = unquoteGo(this.text(node), true);
    if (value === undefined) throw new NotPrintable('string');
    return value;
  }

  private numberValue(text: string): number {
    const sign = text.startsWith('-') ? -1 : 1;
    const digits = text.replace(/^[-+]/, '');
    const lower = digits.toLowerCase();
    if (lower === 'inf') return sign * Number.POSITIVE_INFINITY;
    if (lower === 'nan') return Number.NaN;
    if (lower.startsWith('0x')) return sign * Number.parseInt(lower.slice(2), 16);
    if (!/^(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/.test(lower)) throw new NotPrintable('number');
    return sign * Number(lower);
  }

  /** Go's %v of the float. */
  private number(text: string): string {
    return formatFloat(this.numberValue(text), 'g', -1);
  }
}
