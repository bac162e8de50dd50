/**
 * Parser for the subset of CEL used in CRD x-kubernetes-validations: literals, field selection, indexing,
 * calls (global and member), lists, maps, unary/binary operators, the ternary, and the macros
 * has / all / exists / exists_one / map / filter. Anything else is a CelSyntaxError.
 */
import { CelSyntaxError, tokenize, type Token } from './cel-lexer.js';
export type CelNode =
  | { kind: 'literal'; value: unknown }
  | { kind: 'ident'; name: string }
  | { kind: 'select'; operand: CelNode; field: string }
  | { kind: 'has'; operand: CelNode; field: string }
  | { kind: 'index'; operand: CelNode; index: CelNode }
  | { kind: 'call'; name: string; target?: CelNode; args: CelNode[] }
  | { kind: 'list'; items: CelNode[] }
  | { kind: 'map'; entries: Array<{ key: CelNode; value: CelNode }> }
  | { kind: 'unary'; operator: '!' | '-'; operand: CelNode }
  | { kind: 'binary'; operator: string; left: CelNode; right: CelNode }
  | { kind: 'conditional'; test: CelNode; then: CelNode; otherwise: CelNode }
  | { kind: 'comprehension'; macro: ComprehensionMacro; range: CelNode; variable: string; predicate?: CelNode; transform?: CelNode };

export type ComprehensionMacro = 'all' | 'exists' | 'exists_one' | 'map' | 'filter';

export { CelSyntaxError };

const MACROS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter']);

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): CelNode {
    const node = this.expression();
    if (this.peek().type !== 'eof') throw new CelSyntaxError(`unexpected token ${describe(this.peek())}`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.position];
  }

  private isOp(value: string): boolean {
    const token = this.peek();
    return token.type === 'op' && token.value === value;
  }

  private acceptOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.position += 1;
    return true;
  }

  private expectOp(value: string): void {
    if (!this.acceptOp(value)) throw new CelSyntaxError(`expected '${value}' but found ${describe(this.peek())}`);
  }

  private expression(): CelNode {
    const test = this.binaryLevel(0);
    if (!this.acceptOp('?')) return test;
    const then = this.binaryLevel(0);
    this.expectOp(':');
    return { kind: 'conditional', test, then, otherwise: this.expression() };
  }

  private static readonly LEVELS: string[][] = [['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>=', 'in'], ['+', '-'], ['*', '/', '%']];

  private binaryLevel(level: number): CelNode {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.binaryLevel(level + 1);
    for (;;) {
      const token = this.peek();
      const operator = token.type === 'op' || (token.type === 'ident' && token.value === 'in') ? token.value : undefined;
      if (!operator || !Parser.LEVELS[level].includes(operator)) return left;
      this.position += 1;
      left = { kind: 'binary', operator, left, right: this.binaryLevel(level + 1) };
    }
  }

  private unary(): CelNode {
    if (this.acceptOp('!')) return { kind: 'unary', operator: '!', operand: this.unary() };
    if (this.acceptOp('-')) {
      const next = this.peek();
      if (next.type === 'number') {
        this.position += 1;
        return this.postfix({ kind: 'literal', value: -next.value });
      }
      return { kind: 'unary', operator: '-', operand: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(start: CelNode): CelNode {
    let node = start;
    for (;;) {
      if (this.acceptOp('.')) {
        const name = this.identifier();
        if (this.acceptOp('(')) node = this.memberCall(node, name, this.argumentsUntil(')'));
        else node = { kind: 'select', operand: node, field: name };
      } else if (this.acceptOp('[')) {
        const index = this.expression();
        this.expectOp(']');
        node = { kind: 'index', operand: node, index };
      } else {
        return node;
      }
    }
  }

  private memberCall(target: CelNode, name: string, args: CelNode[]): CelNode {
    if (!MACROS.has(name)) return { kind: 'call', name, target, args };
    const variableNode = args[0];
    if (!variableNode || variableNode.kind !== 'ident') throw new CelSyntaxError(`${name}() needs a variable name first`);
    const macro = (name === 'existsOne' ? 'exists_one' : name) as ComprehensionMacro;
    if (macro === 'map') {
      if (args.length === 2) return { kind: 'comprehension', macro, range: target, variable: variableNode.name, transform: args[1] };
      if (args.length === 3) {
        return { kind: 'comprehension', macro, range: target, variable: variableNode.name, predicate: args[1], transform: args[2] };
      }
    } else if (args.length === 2) {
      return { kind: 'comprehension', macro, range: target, variable: variableNode.name, predicate: args[1] };
    }
    throw new CelSyntaxError(`wrong number of arguments to ${name}()`);
  }

  private identifier(): string {
    const token = this.peek();
    if (token.type !== 'ident') throw new CelSyntaxError(`expected a field name but found ${describe(token)}`);
    this.position += 1;
    return token.value;
  }

  private argumentsUntil(close: string): CelNode[] {
    const args: CelNode[] = [];
    if (this.acceptOp(close)) return args;
    do {
      if (this.isOp(close)) break;
      args.push(this.expression());
    } while (this.acceptOp(','));
    this.expectOp(close);
    return args;
  }

  private primary(): CelNode {
    const token = this.peek();
    this.position += 1;
    if (token.type === 'number') return { kind: 'literal', value: token.value };
    if (token.type === 'string') return { kind: 'literal', value: token.value };
    if (token.type === 'ident') {
      if (token.value === 'true') return { kind: 'literal', value: true };
      if (token.value === 'false') return { kind: 'literal', value: false };
      if (token.value === 'null') return { kind: 'literal', value: null };
      if (this.acceptOp('(')) return this.globalCall(token.value, this.argumentsUntil(')'));
      return { kind: 'ident', name: token.value };
    }
    if (token.type === 'op') {
      if (token.value === '(') {
        const inner = this.expression();
        this.expectOp(')');
        return inner;
      }
      if (token.value === '[') return { kind: 'list', items: this.argumentsUntil(']') };
      if (token.value === '{') return this.mapLiteral();
      if (token.value === '.') return this.primary();
    }
    throw new CelSyntaxError(`unexpected token ${describe(token)}`);
  }

  private globalCall(name: string, args: CelNode[]): CelNode {
    if (name !== 'has') return { kind: 'call', name, args };
    const argument = args[0];
    if (args.length !== 1 || argument.kind !== 'select') throw new CelSyntaxError('invalid argument to has() macro');
    return { kind: 'has', operand: argument.operand, field: argument.field };
  }

  private mapLiteral(): CelNode {
    const entries: Array<{ key: CelNode; value: CelNode }> = [];
    if (this.acceptOp('}')) return { kind: 'map', entries };
    do {
      if (this.isOp('}')) break;
      const key = this.expression();
      this.expectOp(':');
      entries.push({ key, value: this.expression() });
    } while (this.acceptOp(','));
    this.expectOp('}');
    return { kind: 'map', entries };
  }
}

function describe(token: Token): string {
  return token.type === 'eof' ? 'end of input' : `'${String(token.value)}'`;
}

export function parseCel(source: string): CelNode {
  return new Parser(tokenize(source)).parse();
}

export function referencesIdentifier(node: CelNode, name: string): boolean {
  switch (node.kind) {
    case 'literal':
      return false;
    case 'ident':
      return node.name === name;
    case 'select':
    case 'has':
    case 'unary':
      return referencesIdentifier(node.operand, name);
    case 'index':
      return referencesIdentifier(node.operand, name) || referencesIdentifier(node.index, name);
    case 'call':
      return (node.target !== undefined && referencesIdentifier(node.target, name)) || node.args.some((arg) => referencesIdentifier(arg, name));
    case 'list':
      return node.items.some((item) => referencesIdentifier(item, name));
    case 'map':
      return node.entries.some((entry) => referencesIdentifier(entry.key, name) || referencesIdentifier(entry.value, name));
    case 'binary':
      return referencesIdentifier(node.left, name) || referencesIdentifier(node.right, name);
    case 'conditional':
      return [node.test, node.then, node.otherwise].some((child) => referencesIdentifier(child, name));
    case 'comprehension':
      return [node.range, node.predicate, node.transform].some((child) => child !== undefined && referencesIdentifier(child, name));
  }
}
