/** Label selectors in the string syntax of k8s.io/apimachinery/pkg/labels.Parse. */
import { badRequest } from './api-error.js';

export type LabelRequirement =
  | { key: string; operator: 'exists' | 'notexists' }
  | { key: string; operator: 'equals' | 'notequals'; value: string }
  | { key: string; operator: 'in' | 'notin'; values: string[] }
  | { key: string; operator: 'gt' | 'lt'; value: number };

export type Labels = Record<string, string>;

const KEY = '([A-Za-z0-9][-A-Za-z0-9_./]*)';
const VALUE = '([-A-Za-z0-9_.]*)';
const EXISTS = new RegExp(`^${KEY}$`);
const NOT_EXISTS = new RegExp(`^!\\s*${KEY}$`);
const EQUALITY = new RegExp(`^${KEY}\\s*(==|=|!=)\\s*${VALUE}$`);
const SET = new RegExp(`^${KEY}\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const ORDER = new RegExp(`^${KEY}\\s*(>|<)\\s*(-?\\d+)$`);

export function parseLabelSelector(selector: string): LabelRequirement[] {
  return splitTopLevel(selector).map(parseRequirement);
}

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

function parseRequirement(text: string): LabelRequirement {
  let match = NOT_EXISTS.exec(text);
  if (match) return { key: match[1], operator: 'notexists' };
  match = EXISTS.exec(text);
  if (match) return { key: match[1], operator: 'exists' };
  match = EQUALITY.exec(text);
  if (match) return { key: match[1], operator: match[2] === '!=' ? 'notequals' : 'equals', value: match[3] };
  match = SET.exec(text);
  if (match) {
    const values = match[3]
      .split(',')
      .map((value) => value.trim())
      .filter((value) => value.length > 0);
    return { key: match[1], operator: match[2] as 'in' | 'notin', values };
  }
  match = ORDER.exec(text);
  if (match) return { key: match[1], operator: match[2] === '>' ? 'gt' : 'lt', value: Number(match[3]) };
  throw badRequest(`unable to parse requirement: invalid label selector "${text}"`);
}

export function labelsMatch(requirements: LabelRequirement[], labels: Labels): boolean {
  return requirements.every((requirement) => requirementMatches(requirement, labels));
}

function requirementMatches(requirement: LabelRequirement, labels: Labels): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case 'exists':
      return present;
    case 'notexists':
      return !present;
    case 'equals':
      return present && value === requirement.value;
    case 'notequals':
      return !present || value !== requirement.value;
    case 'in':
      return present && requirement.values.includes(value);
    case 'notin':
      return !present || !requirement.values.includes(value);
    case 'gt':
    case 'lt': {
      if (!present || !/^-?\d+$/.test(value)) return false;
      const number = Number(value);
      return requirement.operator === 'gt' ? number > requirement.value : number < requirement.value;
    }
  }
}
