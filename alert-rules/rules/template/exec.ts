import { describeError } from '../../../core/errors.ts';
/** Executes a parsed template the way Go's text/template does (missingkey=zero), within limits. */
import {
  type CallEnvironment,
  type FunctionMap,
  GoCallError,
  PARAM_TYPE_NAMES,
  type ParamType,
  type TemplateFunction,
} from './functions.ts';
import { formatValue } from './go-fmt.ts';
import {
  GoInt,
  GoMap,
  GoSample,
  GoSlice,
  GoStruct,
  GoTime,
  type GoValue,
  goTypeName,
  ownMethod,
  QUERY_RESULT_TYPE,
  sortedKeys,
  truth,
  utf8Length,
} from './go-values.ts';
import {
  type ArgNode,
  argString,
  type CommandNode,
  type ListNode,
  type Node,
  nodeString,
  type ParsedTemplate,
  type PipeNode,
  type TemplateTree,
} from './parse.ts';
import { timeMethod } from './time-methods.ts';

export interface ExecutionLimits {
  maxOutputBytes: number;
  /** Nodes visited plus range iterations. */
  maxSteps: number;
  maxTemplateDepth: number;
}

export class TemplateExecError extends Error {}

const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;
class BreakSignal {}
class ContinueSignal {}

type AnyNode = Node | CommandNode | ArgNode;

export async function executeTemplate(
  parsed: ParsedTemplate,
  name: string,
  data: GoValue,
  functions: FunctionMap,
  limits: ExecutionLimits,
  signal: AbortSignal | undefined,
): Promise<string> {
  const tree = parsed.trees.get(name);
  if (tree === undefined)
    throw new TemplateExecError(`template: ${name}: "${name}" is an incomplete or empty template`);
  const state = new ExecState(parsed, tree, name, functions, limits, signal);
  state.vars.push({ name: '$', value: data });
  await state.walk(data, tree.root);
  return state.output();
}

class ExecState {
  vars: { name: string; value: GoValue }[] = [];
  private readonly chunks: string[] = [];
  private outputLength = 0;
  private steps = 0;
  private depth = 0;
  private node: AnyNode | undefined;
  private readonly env: CallEnvironment;
  private readonly parseName: string;
  private templateName: string;
  /** The tree being walked: error positions point into its text. */
  private tree: TemplateTree;
  private readonly parsed: ParsedTemplate;
  private readonly functions: FunctionMap;
  private readonly limits: ExecutionLimits;
  private readonly signal: AbortSignal | undefined;

  constructor(
    parsed: ParsedTemplate,
    tree: TemplateTree,
    name: string,
    functions: FunctionMap,
    limits: ExecutionLimits,
    signal: AbortSignal | undefined,
  ) {
    this.parsed = parsed;
    this.tree = tree;
    this.parseName = tree.parseName;
    this.templateName = name;
    this.functions = functions;
    this.limits = limits;
    this.signal = signal;
    this.env = { signal };
  }

  output(): string {
    return this.chunks.join('');
  }

  private write(s: string): void {
    this.outputLength += utf8Length(s);
    if (this.outputLength > this.limits.maxOutputBytes) {
      this.fail(`output exceeds ${this.limits.maxOutputBytes} bytes`);
    }
    this.chunks.push(s);
  }

  private step(): void {
    if (++this.steps > this.limits.maxSteps) this.fail(`execution exceeds ${this.limits.maxSteps} steps`);
    // The reason says which deadline ended it (the query timeout, a stop).
    if (this.signal?.aborted) this.fail(`execution aborted: ${describeError(this.signal.reason)}`);
  }

  private fail(message: string): never {
    throw new TemplateExecError(`template: ${this.parseName}: ${message}`);
  }

  private at(node: AnyNode): void {
    this.node = node;
  }

  private errorf(message: string): never {
    if (this.node === undefined) throw new TemplateExecError(`template: ${this.templateName}: ${message}`);
    const before = this.tree.text.slice(0, this.node.pos);
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const column = utf8Length(before.slice(lineStart));
    const context = nodeString(this.node);
    throw new TemplateExecError(
      `template: ${this.tree.parseName}:${line}:${column}: executing ${JSON.stringify(this.templateName)} at <${context}>: ${message}`,
    );
  }

  async walk(dot: GoValue, node: Node): Promise<void> {
    this.step();
    this.at(node);
    switch (node.kind) {
      case 'text':
        this.write(node.text);
        return;
      case 'action': {
        const value = await this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, value);
        return;
      }
      case 'list':
        for (const n of node.nodes) await this.walk(dot, n);
        return;
      case 'if':
      case 'with':
        return this.walkIfOrWith(node.kind, dot, node.pipe, node.list, node.elseList);
      case 'range':
        return this.walkRange(dot, node.pipe, node.list, node.elseList);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private async walkIfOrWith(
    kind: 'if' | 'with',
    dot: GoValue,
    pipe: PipeNode,
    list: ListNode,
    elseList: ListNode | undefined,
  ): Promise<void> {
    const mark = this.vars.length;
    try {
      const value = await this.evalPipeline(dot, pipe);
      if (truth(value)) await this.walk(kind === 'with' ? value : dot, list);
      else if (elseList) await this.walk(dot, elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private async walkRange(
    dot: GoValue,
    pipe: PipeNode,
    list: ListNode,
    elseList: ListNode | undefined,
  ): Promise<void> {
    const outerMark = this.vars.length;
    try {
      const value = await this.evalPipeline(dot, pipe);
      const mark = this.vars.length;
      const entries: [GoValue, GoValue][] = [];
      if (value instanceof GoSlice)
        for (const [i, item] of value.items.entries()) entries.push([new GoInt(i), item]);
      else if (value instanceof GoMap)
        for (const k of sortedKeys(value)) entries.push([k, value.entries.get(k)]);
      else if (value !== undefined && value !== null)
        this.errorf(`range can't iterate over ${formatValue(value)}`);
      for (const [index, elem] of entries) {
        this.step();
        if (pipe.decl.length > 0) this.setTopVar(1, elem);
        if (pipe.decl.length > 1) this.setTopVar(2, index);
        try {
          await this.walk(elem, list);
        } catch (e) {
          if (e instanceof BreakSignal) break;
          if (!(e instanceof ContinueSignal)) throw e;
        } finally {
          this.vars.length = mark;
        }
      }
      if (entries.length === 0 && elseList) await this.walk(dot, elseList);
    } finally {
      this.vars.length = outerMark;
    }
  }

  private async walkTemplate(dot: GoValue, node: Extract<Node, { kind: 'template' }>): Promise<void> {
    this.at(node);
    const tree = this.parsed.trees.get(node.name);
    if (tree === undefined) this.errorf(`template ${JSON.stringify(node.name)} not defined`);
    if (this.depth >= this.limits.maxTemplateDepth) {
      this.errorf(`exceeded maximum template depth (${this.limits.maxTemplateDepth})`);
    }
    const newDot = node.pipe ? await this.evalPipeline(dot, node.pipe) : undefined;
    const saved = { vars: this.vars, name: this.templateName, tree: this.tree };
    this.vars = [{ name: '$', value: newDot }];
    this.templateName = node.name;
    this.tree = tree as TemplateTree;
    this.depth++;
    try {
      await this.walk(newDot, this.tree.root);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.templateName = saved.name;
      this.tree = saved.tree;
    }
  }

  private printValue(node: Node, value: GoValue): void {
    this.at(node);
    if (value === undefined || value === null) this.write('<no value>');
    else if (value instanceof GoSample)
      this.write(`{${formatValue(value.labels, 1)} ${formatValue(value.value)}}`);
    else this.write(formatValue(value));
  }

  private setTopVar(n: number, value: GoValue): void {
    const v = this.vars[this.vars.length - n];
    if (v) v.value = value;
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    return this.errorf(`undefined variable: ${name}`);
  }

  private async evalPipeline(dot: GoValue, pipe: PipeNode): Promise<GoValue> {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = await this.evalCommand(dot, cmd, value);
      // Go digs a value out of an empty interface: a nil one becomes no value.
      if (value === null) value = undefined;
    }
    const result = value === MISSING ? undefined : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.name, result);
      else this.vars.push({ name: d.name, value: result });
    }
    return result;
  }

  private async evalCommand(dot: GoValue, cmd: CommandNode, final: Final): Promise<GoValue> {
    const first = cmd.args[0] as ArgNode;
    switch (first.kind) {
      case 'field':
        this.at(first);
        return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${argString(args[0] as ArgNode)}`);
    }
  }

  private idealConstant(n: Extract<ArgNode, { kind: 'number' }>): GoValue {
    this.at(n);
    const { number } = n;
    const looksFloat =
      /[.eEpP]/.test(number.text) && !/^[+-]?0[xX]/.test(number.text) && !number.text.startsWith("'");
    if (number.isFloat && looksFloat) return number.float;
    if (number.isInt) return new GoInt(number.int);
    return this.errorf(`${number.text} overflows int`);
  }

  private async evalChainNode(
    dot: GoValue,
    chain: Extract<ArgNode, { kind: 'chain' }>,
    args: readonly ArgNode[],
    final: Final,
  ): Promise<GoValue> {
    this.at(chain);
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${argString(chain)}`);
    const receiver = await this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.fields, args, final);
  }

  private async evalVariableNode(
    dot: GoValue,
    variable: Extract<ArgNode, { kind: 'variable' }>,
    args: readonly ArgNode[],
    final: Final,
  ): Promise<GoValue> {
    this.at(variable);
    const value = this.varValue(variable.ident[0] as string);
    if (variable.ident.length === 1) {
      this.notAFunction(args.length > 0 ? args : [variable], final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private async evalFieldChain(
    dot: GoValue,
    receiver: GoValue,
    node: ArgNode,
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): Promise<GoValue> {
    let value = receiver;
    for (const [i, name] of ident.entries()) {
      const last = i === ident.length - 1;
      value = await this.evalField(dot, name, node, last ? args : [], last ? final : MISSING, value);
    }
    return value;
  }

  private async evalField(
    dot: GoValue,
    name: string,
    node: ArgNode,
    args: readonly ArgNode[],
    final: Final,
    receiver: GoValue,
  ): Promise<GoValue> {
    if (receiver === undefined) return undefined;
    const method = timeMethod(receiver, name) ?? ownMethod(receiver, name);
    if (method) return this.evalCall(dot, method, node, name, args, final);
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    const field = structField(receiver, name);
    if (field !== NO_FIELD) {
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
      return field;
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      return receiver.entries.has(name) ? receiver.entries.get(name) : receiver.zero;
    }
    return this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private async evalFunction(
    dot: GoValue,
    ident: Extract<ArgNode, { kind: 'identifier' }>,
    node: AnyNode,
    args: readonly ArgNode[],
    final: Final,
  ): Promise<GoValue> {
    this.at(ident);
    const fn = this.functions.get(ident.name) as TemplateFunction;
    return this.evalCall(dot, fn, node, ident.name, args, final);
  }

  private async evalCall(
    dot: GoValue,
    fn: TemplateFunction,
    node: AnyNode,
    name: string,
    args: readonly ArgNode[],
    final: Final,
  ): Promise<GoValue> {
    const argNodes = args.slice(1);
    const numIn = argNodes.length + (final === MISSING ? 0 : 1);
    const numFixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < numFixed)
        this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    if (name === 'and' || name === 'or') {
      let v: GoValue;
      for (const arg of argNodes) {
        v = await this.evalArg(dot, 'value', arg);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, 'value');
      return v;
    }
    const argv: GoValue[] = [];
    for (const [i, arg] of argNodes.entries()) {
      argv.push(await this.evalArg(dot, i < numFixed ? fn.params[i] : fn.variadic, arg));
    }
    if (final !== MISSING) {
      const last = argv.length < numFixed ? fn.params[argv.length] : (fn.variadic ?? fn.params.at(-1));
      argv.push(this.validateType(final, last));
    }
    try {
      return await fn.call(argv, this.env);
    } catch (e) {
      if (!(e instanceof GoCallError)) throw e;
      this.at(node);
      return this.errorf(`error calling ${name}: ${e.message}`);
    }
  }

  private async evalArg(dot: GoValue, type: ParamType | undefined, n: ArgNode): Promise<GoValue> {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (type === undefined || ['any', 'value', 'sample', 'queryResult'].includes(type)) return null;
        return this.errorf(`cannot assign nil to ${PARAM_TYPE_NAMES[type]}`);
      case 'field':
        return this.validateType(await this.evalFieldChain(dot, dot, n, n.ident, [n], MISSING), type);
      case 'variable':
        return this.validateType(await this.evalVariableNode(dot, n, [], MISSING), type);
      case 'pipe':
        return this.validateType(await this.evalPipeline(dot, n), type);
      case 'identifier':
        return this.validateType(await this.evalFunction(dot, n, n, [n], MISSING), type);
      case 'chain':
        return this.validateType(await this.evalChainNode(dot, n, [], MISSING), type);
    }
    switch (type) {
      case 'bool':
        return n.kind === 'bool' ? n.value : this.errorf(`expected bool; found ${argString(n)}`);
      case 'float64':
        return n.kind === 'number' && n.number.isFloat
          ? n.number.float
          : this.errorf(`expected float; found ${argString(n)}`);
      case 'int':
      case 'duration':
        return n.kind === 'number' && n.number.isInt
          ? new GoInt(n.number.int, type === 'int' ? 'int' : 'time.Duration')
          : this.errorf(`expected integer; found ${argString(n)}`);
      case 'string':
        return n.kind === 'string' ? n.text : this.errorf(`expected string; found ${argString(n)}`);
      case 'any':
      case 'value':
      case undefined:
        if (n.kind === 'bool') return n.value;
        if (n.kind === 'string') return n.text;
        return this.idealConstant(n);
      default:
        return this.errorf(`can't handle ${argString(n)} for arg of type ${PARAM_TYPE_NAMES[type]}`);
    }
  }

  private validateType(value: GoValue, type: ParamType | undefined): GoValue {
    if (type === undefined || type === 'value') return value;
    if (value === undefined || value === null) {
      if (type === 'any' || type === 'sample' || type === 'queryResult') return null;
      return this.errorf(`invalid value; expected ${PARAM_TYPE_NAMES[type]}`);
    }
    if (!matchesType(value, type)) {
      this.errorf(`wrong type for value; expected ${PARAM_TYPE_NAMES[type]}; got ${goTypeName(value)}`);
    }
    return value;
  }
}

function matchesType(value: GoValue, type: ParamType): boolean {
  switch (type) {
    case 'any':
    case 'value':
      return true;
    case 'string':
      return typeof value === 'string';
    case 'float64':
      return typeof value === 'number';
    case 'int':
      return value instanceof GoInt && value.type === 'int';
    case 'duration':
      return value instanceof GoInt && value.type === 'time.Duration';
    case 'strings':
      return value instanceof GoSlice && value.type === '[]string';
    case 'time':
      // Go passes the time a *time.Time points to.
      return value instanceof GoTime;
    case 'bool':
      return typeof value === 'boolean';
    case 'sample':
      return value instanceof GoSample;
    case 'queryResult':
      return value instanceof GoSlice && value.type === QUERY_RESULT_TYPE;
  }
}

const NO_FIELD = Symbol('no field');

function structField(receiver: GoValue, name: string): GoValue | typeof NO_FIELD {
  if (receiver instanceof GoStruct && receiver.fields.has(name)) return receiver.fields.get(name);
  if (receiver instanceof GoSample) {
    if (name === 'Labels') return receiver.labels;
    if (name === 'Value') return receiver.value;
  }
  return NO_FIELD;
}
