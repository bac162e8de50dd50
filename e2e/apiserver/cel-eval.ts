/** Evaluates a parsed CEL expression against JSON data (`self`, `oldSelf`, comprehension variables). */
import { callFunction } from './cel-library.js';
import type { CelNode } from './cel-parser.js';
import { CelRuntimeError, CelUnsupportedError, celEquals, isCelMap, noOverload } from './cel-values.js';

export type CelScope = ReadonlyMap<string, unknown>;

export function evaluateCel(node: CelNode, scope: CelScope): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'ident':
      if (!scope.has(node.name)) throw new CelUnsupportedError(`undeclared reference to '${node.name}'`);
      return scope.get(node.name);
    case 'select':
      return selectField(evaluateCel(node.operand, scope), node.field);
    case 'has': {
      const operand = evaluateCel(node.operand, scope);
      if (!isCelMap(operand)) throw noOverload('has');
      return Object.hasOwn(operand, node.field);
    }
    case 'index':
      return indexValue(evaluateCel(node.operand, scope), evaluateCel(node.index, scope));
    case 'call': {
      const target = node.target ? evaluateCel(node.target, scope) : undefined;
      return callFunction(
        node.name,
        target,
        node.target !== undefined,
        node.args.map((arg) => evaluateCel(arg, scope)),
      );
    }
    case 'list':
      return node.items.map((item) => evaluateCel(item, scope));
    case 'map': {
      const map: Record<string, unknown> = {};
      for (const entry of node.entries) {
        const key = evaluateCel(entry.key, scope);
        if (typeof key !== 'string') throw new CelUnsupportedError('only string map keys are supported');
        map[key] = evaluateCel(entry.value, scope);
      }
      return map;
    }
    case 'unary':
      return evaluateUnary(node.operator, evaluateCel(node.operand, scope));
    case 'binary':
      return evaluateBinary(node, scope);
    case 'conditional': {
      const test = evaluateCel(node.test, scope);
      if (typeof test !== 'boolean') throw noOverload('_?_:_');
      return evaluateCel(test ? node.then : node.otherwise, scope);
    }
    case 'comprehension':
      return evaluateComprehension(node, scope);
  }
}

function selectField(operand: unknown, field: string): unknown {
  if (!isCelMap(operand)) throw noOverload(`.${field}`);
  if (!Object.hasOwn(operand, field)) throw new CelRuntimeError(`no such key: ${field}`);
  return operand[field];
}

function indexValue(operand: unknown, index: unknown): unknown {
  if (Array.isArray(operand)) {
    if (typeof index !== 'number' || !Number.isInteger(index)) throw noOverload('_[_]');
    if (index < 0 || index >= operand.length) throw new CelRuntimeError(`index out of bounds: ${index}`);
    return operand[index];
  }
  if (isCelMap(operand)) {
    if (typeof index !== 'string') throw noOverload('_[_]');
    if (!Object.hasOwn(operand, index)) throw new CelRuntimeError(`no such key: ${index}`);
    return operand[index];
  }
  throw noOverload('_[_]');
}

function evaluateUnary(operator: '!' | '-', value: unknown): unknown {
  if (operator === '!') {
    if (typeof value !== 'boolean') throw noOverload('!_');
    return !value;
  }
  if (typeof value !== 'number') throw noOverload('-_');
  return -value;
}

/** && and || absorb an error on one side when the other side decides the result, as CEL specifies. */
function evaluateLogical(operator: '&&' | '||', left: CelNode, right: CelNode, scope: CelScope): boolean {
  const deciding = operator === '||';
  const outcomes = [left, right].map((side) => {
    try {
      return { value: evaluateCel(side, scope) };
    } catch (error) {
      if (error instanceof CelUnsupportedError) throw error;
      return { error };
    }
  });
  if (outcomes.some((outcome) => outcome.value === deciding)) return deciding;
  for (const outcome of outcomes) if ('error' in outcome) throw outcome.error;
  if (outcomes.some((outcome) => typeof outcome.value !== 'boolean')) throw noOverload(`_${operator}_`);
  return !deciding;
}

function evaluateBinary(node: Extract<CelNode, { kind: 'binary' }>, scope: CelScope): unknown {
  if (node.operator === '&&' || node.operator === '||') return evaluateLogical(node.operator, node.left, node.right, scope);
  const left = evaluateCel(node.left, scope);
  const right = evaluateCel(node.right, scope);
  switch (node.operator) {
    case '==':
      return celEquals(left, right);
    case '!=':
      return !celEquals(left, right);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(node.operator, left, right);
    case 'in':
      if (Array.isArray(right)) return right.some((item) => celEquals(item, left));
      if (isCelMap(right) && typeof left === 'string') return Object.hasOwn(right, left);
      throw noOverload('@in');
    case '+':
      if (typeof left === 'number' && typeof right === 'number') return left + right;
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      throw noOverload('_+_');
    default:
      return arithmetic(node.operator, left, right);
  }
}

function compare(operator: string, left: unknown, right: unknown): boolean {
  const comparable =
    (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string') || (typeof left === 'boolean' && typeof right === 'boolean');
  if (!comparable) throw noOverload(`_${operator}_`);
  const a = left as number | string | boolean;
  const b = right as number | string | boolean;
  if (operator === '<') return a < b;
  if (operator === '<=') return a <= b;
  if (operator === '>') return a > b;
  return a >= b;
}

function arithmetic(operator: string, left: unknown, right: unknown): number {
  if (typeof left !== 'number' || typeof right !== 'number') throw noOverload(`_${operator}_`);
  const integers = Number.isInteger(left) && Number.isInteger(right);
  switch (operator) {
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      if (integers && right === 0) throw new CelRuntimeError('division by zero');
      return integers ? Math.trunc(left / right) : left / right;
    case '%':
      if (right === 0) throw new CelRuntimeError('modulus by zero');
      return left % right;
    default:
      throw new CelUnsupportedError(`operator ${operator} is not supported`);
  }
}

function evaluateComprehension(node: Extract<CelNode, { kind: 'comprehension' }>, scope: CelScope): unknown {
  const range = evaluateCel(node.range, scope);
  const elements = Array.isArray(range) ? range : isCelMap(range) ? Object.keys(range) : undefined;
  if (!elements) throw noOverload(node.macro);
  const run = (child: CelNode, element: unknown): unknown => evaluateCel(child, new Map([...scope, [node.variable, element]]));
  const test = (element: unknown): boolean => {
    const result = run(node.predicate as CelNode, element);
    if (typeof result !== 'boolean') throw noOverload(node.macro);
    return result;
  };
  switch (node.macro) {
    case 'all':
      return elements.every(test);
    case 'exists':
      return elements.some(test);
    case 'exists_one':
      return elements.filter(test).length === 1;
    case 'filter':
      return elements.filter(test);
    case 'map':
      return elements.filter((element) => !node.predicate || test(element)).map((element) => run(node.transform as CelNode, element));
  }
}
