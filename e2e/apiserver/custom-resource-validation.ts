/** The write-time pipeline for a custom resource: prune (or report) unknown fields, default, validate, run CEL. */
import { evaluateValidationRules, type SkippedRuleReporter } from './cel-rules.js';
import type { JsonObject } from './json.js';
import type { ValidationContext, ValidationOutcome } from './resource-type.js';
import { applyDefaults, pruneUnknownFields } from './schema-prune-default.js';
import type { SchemaProps } from './schema-types.js';
import { validateAgainstSchema } from './schema-validate.js';

export function validateCustomResource(object: JsonObject, schema: SchemaProps, context: ValidationContext, onSkippedRule: SkippedRuleReporter): ValidationOutcome {
  const unknownFields = pruneUnknownFields(object, schema);
  applyDefaults(object, schema);
  const errors = validateAgainstSchema(object, schema);
  errors.push(...evaluateValidationRules(object, context.old, schema, onSkippedRule));
  return { errors, unknownFields };
}
