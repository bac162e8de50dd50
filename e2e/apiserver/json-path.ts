/**
 * The JSONPath subset used by additionalPrinterColumns: `.a.b`, `['a.b']`, `[0]`, `[*]`, `.*`, `[1:3]`
 * and filters `[?(@.type=="Ready")]`. Evaluation returns every match, in document order.
 */
import { isJsonObject, type Json } from './json.js';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: string[]; operator?: string; literal?: Json };

export class JsonPathSyntaxError extends Error {
  readonly code = 'APISRV_ERR_JSONPATH_SYNTAX';
}

const cache = new Map<string, Step[]>();

export function evaluateJsonPath(root: Json, expression: string): Json[] {
  let steps = cache.get(expression);
  if (!steps) {
    steps = parseJsonPath(expression);
    cache.set(expression, steps);
  }
  let current: Json[] = [root];
  for (const step of steps) current = current.flatMap((value) => applyStep(value, step));
  return current;
}

export function parseJsonPath(expression: string): Step[] {
  let text = expression.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  const steps: Step[] = [];
  let position = 0;
  while (position < text.length) {
    const char = text[position];
    if (char === '.') {
      position += 1;
      if (text[position] === '*') {
        steps.push({ kind: 'wildcard' });
        position += 1;
        continue;
      }
      const match = /^[^.[\]]+/.exec(text.slice(position));
      if (!match) throw new JsonPathSyntaxError(`invalid JSONPath ${expression}`);
      steps.push({ kind: 'field', name: match[0] });
      position += match[0].length;
    } else if (char === '[') {
      const close = findClosingBracket(text, position);
      if (close < 0) throw new JsonPathSyntaxError(`unterminated [ in JSONPath ${expression}`);
      steps.push(parseBracket(text.slice(position + 1, close).trim(), expression));
      position = close + 1;
    } else {
      throw new JsonPathSyntaxError(`unexpected ${char} in JSONPath ${expression}`);
    }
  }
  return steps;
}

function findClosingBracket(text: string, open: number): number {
  let quote: string | undefined;
  for (let index = open + 1; index < text.length; index += 1) {
    const char = text[index];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === ']') {
      return index;
    }
  }
  return -1;
}

function parseBracket(inner: string, expression: string): Step {
  if (inner === '*') return { kind: 'wildcard' };
  if (/^'.*'$|^".*"$/.test(inner)) return { kind: 'field', name: inner.slice(1, -1) };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice) {
    return {
      kind: 'slice',
      start: slice[1] ? Number(slice[1]) : undefined,
      end: slice[2] ? Number(slice[2]) : undefined,
    };
  }
  const filter = /^\?\(\s*@((?:\.[\w-]+)+)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/.exec(inner);
  if (filter) {
    const path = filter[1].split('.').slice(1);
    if (!filter[2]) return { kind: 'filter', path };
    return { kind: 'filter', path, operator: filter[2], literal: parseLiteral(filter[3], expression) };
  }
  throw new JsonPathSyntaxError(`unsupported JSONPath segment [${inner}] in ${expression}`);
}

function parseLiteral(text: string, expression: string): Json {
  if (/^'.*'$/.test(text)) return text.slice(1, -1);
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new JsonPathSyntaxError(`invalid literal ${text} in JSONPath ${expression}`);
  }
}

function applyStep(value: Json, step: Step): Json[] {
  switch (step.kind) {
    case 'field':
      return isJsonObject(value) && value[step.name] !== undefined ? [value[step.name]] : [];
    case 'index': {
      if (!Array.isArray(value)) return [];
      const index = step.index < 0 ? value.length + step.index : step.index;
      return index >= 0 && index < value.length ? [value[index]] : [];
    }
    case 'slice':
      return Array.isArray(value) ? value.slice(step.start, step.end) : [];
    case 'wildcard':
      if (Array.isArray(value)) return value;
      return isJsonObject(value) ? Object.values(value) : [];
    case 'filter':
      return Array.isArray(value) ? value.filter((item) => filterMatches(item, step)) : [];
  }
}

function filterMatches(item: Json, step: Extract<Step, { kind: 'filter' }>): boolean {
  let current: Json | undefined = item;
  for (const name of step.path) current = isJsonObject(current) ? current[name] : undefined;
  if (current === undefined) return false;
  if (!step.operator) return true;
  const literal = step.literal ?? null;
  switch (step.operator) {
    case '==':
      return current === literal;
    case '!=':
      return current !== literal;
    default:
      return compareOrdered(current, literal, step.operator);
  }
}

function compareOrdered(left: Json, right: Json, operator: string): boolean {
  if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
  const a = left as number | string;
  const b = right as number | string;
  if (operator === '<') return a < b;
  if (operator === '>') return a > b;
  if (operator === '<=') return a <= b;
  return a >= b;
}
