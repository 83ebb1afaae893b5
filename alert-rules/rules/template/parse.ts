/** Go text/template's parser: a tree per template name, with Go's error messages and node texts. */
import { lex, type Token } from './lexer.ts';

export type ArgNode =
  | { kind: 'dot'; pos: number }
  | { kind: 'nil'; pos: number }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'string'; pos: number; quoted: string; text: string }
  | { kind: 'number'; pos: number; number: NumberLiteral }
  | { kind: 'field'; pos: number; ident: string[] }
  | { kind: 'variable'; pos: number; ident: string[] }
  | { kind: 'identifier'; pos: number; name: string }
  | { kind: 'chain'; pos: number; node: ArgNode; fields: string[] }
  | PipeNode;

export interface NumberLiteral {
  text: string;
  isInt: boolean;
  isFloat: boolean;
  int: number;
  float: number;
}

export interface CommandNode {
  kind: 'command';
  pos: number;
  args: ArgNode[];
}

export interface PipeNode {
  kind: 'pipe';
  pos: number;
  isAssign: boolean;
  decl: { pos: number; name: string }[];
  cmds: CommandNode[];
}

export type Node =
  | { kind: 'text'; pos: number; text: string }
  | { kind: 'action'; pos: number; pipe: PipeNode }
  | {
      kind: 'if' | 'with' | 'range';
      pos: number;
      pipe: PipeNode;
      list: ListNode;
      elseList: ListNode | undefined;
    }
  | { kind: 'template'; pos: number; name: string; pipe: PipeNode | undefined }
  | { kind: 'break' | 'continue'; pos: number }
  | ListNode;

export interface ListNode {
  kind: 'list';
  pos: number;
  nodes: Node[];
}

type Terminator = { kind: 'end' | 'else'; pos: number };

/** One named template: its nodes, and the text their positions point into (for error messages). */
export interface TemplateTree {
  root: ListNode;
  /** The name it was parsed under (a file's name for Alertmanager's template files). */
  parseName: string;
  text: string;
}

export interface ParsedTemplate {
  /** The top-level template under its own name, plus every {{define}} and {{block}}. */
  trees: ReadonlyMap<string, TemplateTree>;
}

export class TemplateParseError extends Error {}

const MAX_NESTING = 500;

/** Go's `%q`-ish rendering of a token in "unexpected ..." messages. */
function describeToken(t: Token): string {
  if (t.type === 'EOF') return 'EOF';
  if (t.type === 'error') return t.value;
  if (t.type === 'keyword' && t.value !== '.') return `<${t.value}>`;
  const shown = [...t.value];
  return shown.length > 10 ? `${JSON.stringify(shown.slice(0, 10).join(''))}...` : JSON.stringify(t.value);
}

/** Parses `text` as template `name` with the given function names defined; throws TemplateParseError. */
export function parseTemplate(name: string, text: string, functions: ReadonlySet<string>): ParsedTemplate {
  const tokens = lex(text);
  const trees = new Map<string, TemplateTree>();
  let index = 0;
  let current: Token = tokens[0] as Token;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  // Go stops at 10,000 nested parentheses; the JavaScript stack needs a lower bound, covering blocks too.
  let nesting = 0;
  const nested = <T>(parse: () => T): T => {
    if (++nesting > MAX_NESTING) errorf('max expression depth exceeded');
    try {
      return parse();
    } finally {
      nesting--;
    }
  };

  const errorf = (message: string): never => {
    throw new TemplateParseError(`template: ${name}:${current.line}: ${message}`);
  };
  const next = (): Token => {
    current = tokens[Math.min(index, tokens.length - 1)] as Token;
    index++;
    return current;
  };
  const backup = (n = 1): void => {
    index -= n;
  };
  const peek = (): Token => {
    const t = next();
    backup();
    return t;
  };
  const nextNonSpace = (): Token => {
    let t = next();
    while (t.type === 'space') t = next();
    return t;
  };
  const peekNonSpace = (): Token => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (t: Token, context: string): never => {
    if (t.type === 'error') return errorf(t.value);
    return errorf(`unexpected ${describeToken(t)} in ${context}`);
  };
  const expect = (type: Token['type'], context: string): Token => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };
  const isKeyword = (t: Token, word: string): boolean => t.type === 'keyword' && t.value === word;

  const addTree = (treeName: string, root: ListNode): void => {
    const existing = trees.get(treeName);
    if (existing === undefined || isEmpty(existing.root))
      trees.set(treeName, { root, parseName: name, text });
    else if (!isEmpty(root)) errorf(`template: multiple definition of template ${JSON.stringify(treeName)}`);
  };

  const unquote = (t: Token): string => {
    const value = unquoteGo(t.value);
    if (value === undefined) errorf('invalid syntax');
    return value as string;
  };

  function itemList(): [ListNode, Terminator] {
    const list: ListNode = { kind: 'list', pos: peekNonSpace().pos, nodes: [] };
    while (peekNonSpace().type !== 'EOF') {
      const n = textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return [list, n as Terminator];
      list.nodes.push(n as Node);
    }
    return errorf('unexpected EOF');
  }

  function textOrAction(): Node | Terminator {
    const t = nextNonSpace();
    if (t.type === 'text') return { kind: 'text', pos: t.pos, text: t.value };
    if (t.type === 'leftDelim') return action();
    return unexpected(t, 'input');
  }

  function action(): Node | Terminator {
    const t = nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'block':
          return blockControl();
        case 'break':
        case 'continue':
          return loopControl(t);
        case 'else':
          return elseControl();
        case 'end':
          return { kind: 'end', pos: expect('rightDelim', 'end').pos };
        case 'if':
        case 'range':
        case 'with':
          return nested(() => control(t.value as 'if' | 'range' | 'with'));
        case 'template':
          return templateControl();
      }
    }
    backup();
    const p = peek();
    return { kind: 'action', pos: p.pos, pipe: pipeline('command', 'rightDelim') };
  }

  function loopControl(t: Token): Node {
    if (rangeDepth === 0) errorf(`{{${t.value}}} outside {{range}}`);
    const after = nextNonSpace();
    if (after.type !== 'rightDelim') unexpected(after, `{{${t.value}}}`);
    return { kind: t.value as 'break' | 'continue', pos: t.pos };
  }

  function elseControl(): Terminator {
    const p = peekNonSpace();
    // Prometheus 2.x's Go has "else if" chains but not yet "else with".
    if (isKeyword(p, 'if')) return { kind: 'else', pos: p.pos };
    return { kind: 'else', pos: expect('rightDelim', 'else').pos };
  }

  function control(kind: 'if' | 'range' | 'with'): Node {
    const savedVars = vars.length;
    const pipe = pipeline(kind, 'rightDelim');
    if (kind === 'range') rangeDepth++;
    const [list, terminator] = itemList();
    if (kind === 'range') rangeDepth--;
    let elseList: ListNode | undefined;
    if (terminator.kind === 'else') {
      const p = peek();
      if (kind === 'if' && isKeyword(p, 'if')) {
        // An "else if" chain: the nested if consumes the only {{end}}.
        next();
        elseList = { kind: 'list', pos: terminator.pos, nodes: [control('if')] };
      } else {
        const [list2, end] = itemList();
        if (end.kind !== 'end') errorf('expected end; found {{else}}');
        elseList = list2;
      }
    }
    vars = vars.slice(0, savedVars);
    return { kind, pos: pipe.pos, pipe, list, elseList };
  }

  function templateName(t: Token, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') return unexpected(t, context);
    return unquote(t);
  }

  function templateControl(): Node {
    const context = 'template clause';
    const t = nextNonSpace();
    const templateNameValue = templateName(t, context);
    let pipe: PipeNode | undefined;
    if (nextNonSpace().type !== 'rightDelim') {
      backup();
      pipe = pipeline(context, 'rightDelim');
    }
    return { kind: 'template', pos: t.pos, name: templateNameValue, pipe };
  }

  function blockControl(): Node {
    const context = 'block clause';
    const t = nextNonSpace();
    const blockName = templateName(t, context);
    const pipe = pipeline(context, 'rightDelim');
    const root = definitionBody(context);
    addTree(blockName, root);
    return { kind: 'template', pos: t.pos, name: blockName, pipe };
  }

  function definitionBody(context: string): ListNode {
    const [savedVars, savedDepth] = [vars, rangeDepth];
    vars = ['$'];
    rangeDepth = 0;
    const [root, end] = itemList();
    if (end.kind !== 'end') errorf(`unexpected {{else}} in ${context}`);
    vars = savedVars;
    rangeDepth = savedDepth;
    return root;
  }

  function parseDefinition(): void {
    const context = 'define clause';
    const t = nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') unexpected(t, context);
    const definedName = unquote(t);
    expect('rightDelim', context);
    addTree(definedName, definitionBody(context));
  }

  function pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const pipe: PipeNode = { kind: 'pipe', pos: peekNonSpace().pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = peekNonSpace();
      if (v.type !== 'variable') break;
      nextNonSpace();
      const afterVariable = peek();
      const n = peekNonSpace();
      if (n.type === 'assign' || n.type === 'declare') {
        pipe.isAssign = n.type === 'assign';
        nextNonSpace();
        pipe.decl.push({ pos: v.pos, name: v.value });
        vars.push(v.value);
        break;
      }
      if (n.type === 'char' && n.value === ',') {
        nextNonSpace();
        pipe.decl.push({ pos: v.pos, name: v.value });
        vars.push(v.value);
        if (context === 'range' && pipe.decl.length < 2) {
          const after = peekNonSpace().type;
          if (after === 'variable' || after === 'rightDelim' || after === 'rightParen') continue;
          errorf('range can only initialize variables');
        }
        errorf(`too many declarations in ${context}`);
      }
      backup(afterVariable.type === 'space' ? 2 : 1);
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.type === end) {
        checkPipeline(pipe, context);
        return pipe;
      }
      if (isOperandStart(t)) {
        backup();
        pipe.cmds.push(command());
      } else unexpected(t, context);
    }
  }

  function isOperandStart(t: Token): boolean {
    if (t.type === 'keyword') return t.value === '.' || t.value === 'nil';
    return [
      'bool',
      'charConstant',
      'field',
      'identifier',
      'number',
      'rawString',
      'string',
      'variable',
      'leftParen',
    ].includes(t.type);
  }

  function checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const first = c.args[0];
      if (first && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.kind)) {
        errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  function command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const o = operand();
      if (o) cmd.args.push(o);
      const t = next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') backup();
      else if (t.type !== 'pipe') unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) errorf('empty command');
    return cmd;
  }

  function operand(): ArgNode | undefined {
    const node = term();
    if (!node) return undefined;
    if (peek().type !== 'field') return node;
    const chainPos = peek().pos;
    const fields: string[] = [];
    while (peek().type === 'field') fields.push(next().value.slice(1));
    if (node.kind === 'field' || node.kind === 'variable') {
      return { kind: node.kind, pos: chainPos, ident: [...node.ident, ...fields] };
    }
    if (['bool', 'string', 'number', 'nil', 'dot'].includes(node.kind)) {
      errorf(`unexpected . after term ${JSON.stringify(argString(node))}`);
    }
    return { kind: 'chain', pos: chainPos, node, fields };
  }

  function term(): ArgNode | undefined {
    const t = nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!functions.has(t.value)) errorf(`function ${JSON.stringify(t.value)} not defined`);
        return { kind: 'identifier', pos: t.pos, name: t.value };
      case 'keyword':
        if (t.value === '.') return { kind: 'dot', pos: t.pos };
        if (t.value === 'nil') return { kind: 'nil', pos: t.pos };
        break;
      case 'variable': {
        const ident = t.value.split('.');
        if (!vars.includes(ident[0] as string)) errorf(`undefined variable ${JSON.stringify(ident[0])}`);
        return { kind: 'variable', pos: t.pos, ident };
      }
      case 'field':
        return { kind: 'field', pos: t.pos, ident: t.value.slice(1).split('.') };
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.value === 'true' };
      case 'charConstant':
      case 'number':
        return { kind: 'number', pos: t.pos, number: parseNumber(t) };
      case 'leftParen':
        return nested(() => pipeline('parenthesized pipeline', 'rightParen'));
      case 'string':
      case 'rawString':
        return { kind: 'string', pos: t.pos, quoted: t.value, text: unquote(t) };
    }
    backup();
    return undefined;
  }

  function parseNumber(t: Token): NumberLiteral {
    const result = parseNumberLiteral(t.value, t.type === 'charConstant');
    if (typeof result === 'string') return errorf(result);
    return result;
  }

  // The top level: {{define}} blocks become their own trees.
  const root: ListNode = { kind: 'list', pos: peek().pos, nodes: [] };
  while (peek().type !== 'EOF') {
    if (peek().type === 'leftDelim') {
      const delimAt = index;
      next();
      if (isKeyword(nextNonSpace(), 'define')) {
        parseDefinition();
        continue;
      }
      index = delimAt;
    }
    const n = textOrAction();
    if (n.kind === 'end' || n.kind === 'else') errorf(`unexpected {{${n.kind}}}`);
    else root.nodes.push(n as Node);
  }
  addTree(name, root);
  return { trees };
}

function isEmpty(list: ListNode): boolean {
  return list.nodes.every((n) => n.kind === 'text' && n.text.trim() === '');
}

/**
 * Templates parsed one after another into one set, as Go's Template.Parse
 * adds them: a later definition replaces an earlier one, unless it is empty.
 */
export function mergeTemplates(...sets: readonly ParsedTemplate[]): ParsedTemplate {
  const trees = new Map<string, TemplateTree>();
  for (const set of sets) {
    for (const [name, tree] of set.trees) {
      const existing = trees.get(name);
      if (existing === undefined || !isEmpty(tree.root) || isEmpty(existing.root)) trees.set(name, tree);
    }
  }
  return { trees };
}

/** The names `{{template}}` and `{{block}}` call in a template and in those it calls, and which of them are missing. */
export function missingTemplates(set: ParsedTemplate, name: string): string[] {
  const seen = new Set<string>();
  const missing: string[] = [];
  const visit = (node: Node): void => {
    if (node.kind === 'list') node.nodes.forEach(visit);
    else if (node.kind === 'if' || node.kind === 'with' || node.kind === 'range') {
      visit(node.list);
      if (node.elseList) visit(node.elseList);
    } else if (node.kind === 'template' && !seen.has(node.name)) {
      seen.add(node.name);
      const tree = set.trees.get(node.name);
      if (tree) visit(tree.root);
      else missing.push(node.name);
    }
  };
  const root = set.trees.get(name);
  if (root) visit(root.root);
  return missing;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/**
 * strconv.Unquote for "…", `…` and '…'; undefined when Go would reject it.
 * `singleQuotedStrings`: '…' holds a string, not one rune (PromQL's strings).
 */
export function unquoteGo(quoted: string, singleQuotedStrings = false): string | undefined {
  const q = quoted[0];
  const body = quoted.slice(1, -1);
  if (q === '`') return body.replaceAll('\r', '');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      if (c === q) return undefined;
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined && (e !== "'" || q === "'") && (e !== '"' || q === '"')) {
      out += simple;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) return undefined;
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return undefined;
      out += String.fromCodePoint(cp);
      i += n;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) return undefined;
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else return undefined;
  }
  if (q === "'" && !singleQuotedStrings && [...out].length !== 1) return undefined;
  return out;
}

function parseGoInt(text: string): number | undefined {
  const clean = text.replaceAll('_', '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/.exec(clean);
  if (!m) return undefined;
  let digits = m[2] as string;
  let value: bigint;
  if (/^0[oO]/.test(digits)) digits = `0o${digits.slice(2)}`;
  else if (/^0[0-7]/.test(digits)) digits = `0o${digits.slice(1)}`;
  value = BigInt(digits);
  if (m[1] === '-') value = -value;
  if (value > 9223372036854775807n || value < -9223372036854775808n) return undefined;
  return Number(value);
}

function parseNumberLiteral(text: string, isChar: boolean): NumberLiteral | string {
  if (isChar) {
    const rune = unquoteGo(text);
    if (rune === undefined) {
      const oneRune =
        /^'(\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|[abfnrtv\\'"])|[^\\'])/u.exec(text);
      return oneRune && text.slice(oneRune[0].length) !== "'"
        ? `malformed character constant: ${text}`
        : 'invalid syntax';
    }
    const cp = rune.codePointAt(0) ?? 0;
    return { text, isInt: true, isFloat: true, int: cp, float: cp };
  }
  if (text.endsWith('i')) return `complex constants are not supported: ${JSON.stringify(text)}`;
  const int = parseGoInt(text);
  if (int !== undefined) return { text, isInt: true, isFloat: true, int, float: int };
  const float = parseGoFloat(text);
  if (float !== undefined && Number.isFinite(float)) {
    if (!/[.eEpP]/.test(text)) return `integer overflow: ${JSON.stringify(text)}`;
    const isInt = Number.isInteger(float) && Math.abs(float) < 2 ** 63;
    return { text, isInt, isFloat: true, int: isInt ? float : 0, float };
  }
  return `illegal number syntax: ${JSON.stringify(text)}`;
}

/** strconv.ParseFloat's syntax (decimal, hexadecimal, Inf, NaN); undefined on a syntax error. */
export function parseGoFloat(text: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (/^[+-]?(\d(_?\d)*\.?(\d(_?\d)*)?|\.\d(_?\d)*)([eE][+-]?\d+)?$/.test(text) && !text.includes('_')) {
    return Number(text);
  }
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(text);
  if (hex && (hex[2] || hex[3])) {
    const mantissa = Number.parseInt(`${hex[2]}${hex[3]}` || '0', 16) / 16 ** (hex[3] as string).length;
    const value = mantissa * 2 ** Number(hex[4]);
    return hex[1] === '-' ? -value : value;
  }
  return undefined;
}

/** The source-like text Go's nodes print in error messages. */
export function argString(n: ArgNode): string {
  switch (n.kind) {
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'string':
      return n.quoted;
    case 'number':
      return n.number.text;
    case 'field':
      return n.ident.map((f) => `.${f}`).join('');
    case 'variable':
      return n.ident.join('.');
    case 'identifier':
      return n.name;
    case 'chain':
      return (
        (n.node.kind === 'pipe' ? `(${argString(n.node)})` : argString(n.node)) +
        n.fields.map((f) => `.${f}`).join('')
      );
    case 'pipe':
      return pipeString(n);
  }
}

export function commandString(c: CommandNode): string {
  return c.args.map((a) => (a.kind === 'pipe' ? `(${argString(a)})` : argString(a))).join(' ');
}

export function pipeString(p: PipeNode): string {
  const decl =
    p.decl.length > 0 ? `${p.decl.map((d) => d.name).join(', ')}${p.isAssign ? ' = ' : ' := '}` : '';
  return decl + p.cmds.map(commandString).join(' | ');
}

export function nodeString(n: Node | CommandNode | ArgNode): string {
  switch (n.kind) {
    case 'text':
      return n.text;
    case 'action':
      return `{{${pipeString(n.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range': {
      const elsePart = n.elseList ? `{{else}}${nodeString(n.elseList)}` : '';
      return `{{${n.kind} ${pipeString(n.pipe)}}}${nodeString(n.list)}${elsePart}{{end}}`;
    }
    case 'template':
      return `{{template ${JSON.stringify(n.name)}${n.pipe ? ` ${pipeString(n.pipe)}` : ''}}}`;
    case 'break':
    case 'continue':
      return `{{${n.kind}}}`;
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'command':
      return commandString(n);
    default:
      return argString(n);
  }
}
