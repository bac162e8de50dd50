/**
 * Runs x-kubernetes-validations over a custom resource. Rules the evaluator cannot handle are skipped and
 * reported once through `onSkippedRule`; evaluation failures become field errors worded like the real server.
 */
import { evaluateCel } from './cel-eval.js';
import { parseCel, referencesIdentifier, type CelNode } from './cel-parser.js';
import { CelRuntimeError, CelUnsupportedError } from './cel-values.js';
import type { FieldError, FieldErrorType } from './field-error.js';
import { isJsonObject, type Json } from './json.js';
import { additionalPropertiesSchema, childPath, indexPath, type SchemaProps, type ValidationRule } from './schema-types.js';

interface CompiledRule {
  program?: CelNode;
  usesOldSelf: boolean;
  unsupported?: string;
}

const compiled = new Map<string, CompiledRule>();
const reportedSkips = new Set<string>();

export type SkippedRuleReporter = (rule: string, reason: string) => void;

function compile(source: string): CompiledRule {
  let rule = compiled.get(source);
  if (!rule) {
    try {
      const program = parseCel(source);
      rule = { program, usesOldSelf: referencesIdentifier(program, 'oldSelf') };
    } catch (error) {
      rule = { usesOldSelf: false, unsupported: (error as Error).message };
    }
    compiled.set(source, rule);
  }
  return rule;
}

function reportOnce(report: SkippedRuleReporter, rule: string, reason: string): void {
  const key = `${rule}\u0000${reason}`;
  if (reportedSkips.has(key)) return;
  reportedSkips.add(key);
  report(rule, reason);
}

/** The real server prints `<nil>` as the field of errors raised at the resource root. */
function displayPath(path: string): string {
  return path === '' ? '<nil>' : path;
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message?.trim() ? rule.message.trim() : rule.rule.trim();
}

function withFieldPath(path: string, fieldPath: string | undefined): string {
  if (!fieldPath) return displayPath(path);
  const relative = fieldPath.replace(/^\./, '').replace(/\['([^']*)'\]/g, '.$1');
  return path ? `${path}.${relative}` : relative;
}

function errorForReason(reason: string | undefined, field: string, typeName: string, detail: string): FieldError {
  const types: Record<string, FieldErrorType> = {
    FieldValueForbidden: 'FieldValueForbidden',
    FieldValueRequired: 'FieldValueRequired',
    FieldValueDuplicate: 'FieldValueDuplicate',
  };
  const type = (reason && types[reason]) || 'FieldValueInvalid';
  return type === 'FieldValueDuplicate' ? { type, field, badValue: typeName } : { type, field, badValue: typeName, detail };
}

function messageFor(rule: ValidationRule, scope: Map<string, unknown>, report: SkippedRuleReporter): string {
  if (rule.messageExpression) {
    const message = compile(rule.messageExpression);
    if (message.program) {
      try {
        const text = evaluateCel(message.program, scope);
        if (typeof text === 'string' && text.trim() !== '') return text.trim();
      } catch (error) {
        if (error instanceof CelUnsupportedError) reportOnce(report, rule.messageExpression, error.message);
      }
    } else {
      reportOnce(report, rule.messageExpression, message.unsupported ?? 'unsupported');
    }
  }
  return rule.message?.trim() ? rule.message.trim() : `failed rule: ${rule.rule.trim()}`;
}

function runRules(value: Json, old: Json | undefined, schema: SchemaProps, path: string, errors: FieldError[], report: SkippedRuleReporter): void {
  const typeName = schema.type ?? (schema['x-kubernetes-int-or-string'] ? 'integer-or-string' : '');
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const compiledRule = compile(rule.rule);
    if (!compiledRule.program) {
      reportOnce(report, rule.rule, compiledRule.unsupported ?? 'unsupported');
      continue;
    }
    if (compiledRule.usesOldSelf && old === undefined && !rule.optionalOldSelf) continue;
    const scope = new Map<string, unknown>([['self', value]]);
    if (old !== undefined) scope.set('oldSelf', old);
    let result: unknown;
    try {
      result = evaluateCel(compiledRule.program, scope);
    } catch (error) {
      if (error instanceof CelRuntimeError) {
        errors.push({
          type: 'FieldValueInvalid',
          field: displayPath(path),
          badValue: typeName,
          detail: `${error.message} evaluating rule: ${ruleErrorString(rule)}`,
        });
      } else {
        reportOnce(report, rule.rule, (error as Error).message);
      }
      continue;
    }
    if (result === true) continue;
    if (result !== false) {
      reportOnce(report, rule.rule, 'rule did not evaluate to a boolean');
      continue;
    }
    errors.push(errorForReason(rule.reason, withFieldPath(path, rule.fieldPath), typeName, messageFor(rule, scope, report)));
  }
}

function walk(value: Json | undefined, old: Json | undefined, schema: SchemaProps, path: string, errors: FieldError[], report: SkippedRuleReporter): void {
  if (value === undefined || value === null) return;
  runRules(value, old, schema, path, errors, report);
  for (const branch of schema.allOf ?? []) runRules(value, old, branch, path, errors, report);
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    value.forEach((item, index) => walk(item, correlatedListItem(item, old, schema), items, indexPath(path, index), errors, report));
    return;
  }
  if (!isJsonObject(value)) return;
  const oldObject = isJsonObject(old) ? old : undefined;
  const additional = additionalPropertiesSchema(schema);
  for (const [key, child] of Object.entries(value)) {
    if (path === '' && key === 'metadata') continue;
    const childSchema = schema.properties?.[key] ?? additional;
    if (childSchema) walk(child, oldObject?.[key], childSchema, childPath(path, key), errors, report);
  }
}

/** Only list-type=map items can be paired with their previous version (by their keys), as in the real server. */
function correlatedListItem(item: Json, old: Json | undefined, schema: SchemaProps): Json | undefined {
  if (schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old) || !isJsonObject(item)) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  return old.find((candidate) => isJsonObject(candidate) && keys.every((key) => candidate[key] === item[key]));
}

export function evaluateValidationRules(object: Json, old: Json | undefined, schema: SchemaProps, report: SkippedRuleReporter): FieldError[] {
  const errors: FieldError[] = [];
  walk(object, old, schema, '', errors, report);
  return errors;
}
