/** Field selectors (`metadata.name=x,spec.nodeName!=y`) against the fields a kind makes selectable. */
import { badRequest } from './api-error.js';
import { getPath, type JsonObject } from './json.js';

export interface FieldRequirement {
  field: string;
  operator: 'equals' | 'notequals';
  value: string;
}

export const ALWAYS_SELECTABLE = ['metadata.name', 'metadata.namespace'];

export function parseFieldSelector(selector: string, selectable: readonly string[]): FieldRequirement[] {
  const requirements: FieldRequirement[] = [];
  for (const term of splitUnescaped(selector, ',')) {
    if (term.trim() === '') continue;
    const match = /^(.*?)(==|!=|=)(.*)$/s.exec(term);
    if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = match[1].trim();
    if (!ALWAYS_SELECTABLE.includes(field) && !selectable.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    requirements.push({ field, operator: match[2] === '!=' ? 'notequals' : 'equals', value: unescape(match[3]) });
  }
  return requirements;
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\' && index + 1 < text.length) {
      current += char + text[index + 1];
      index += 1;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

export function fieldValue(object: JsonObject, field: string): string {
  const value = getPath(object, field);
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function fieldsMatch(requirements: FieldRequirement[], object: JsonObject): boolean {
  return requirements.every((requirement) => {
    const equal = fieldValue(object, requirement.field) === requirement.value;
    return requirement.operator === 'equals' ? equal : !equal;
  });
}
