import { isRecord } from './fields.js';
import type { Schema } from './schema/openapi.js';

/** Top-level fields every object has; metadata is the API server's to check. */
const OBJECT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Paths of fields the kind's schema does not have, as `kubectl apply` (strict field validation)
 * reports them.
 */
export function unknownFields(doc: Record<string, unknown>, schema: Schema): string[] {
  const found: string[] = [];
  const walk = (value: unknown, node: Schema, path: string): void => {
    if (Array.isArray(value)) {
      const items = node.items as Schema | undefined;
      if (items) value.forEach((item, i) => walk(item, items, `${path}[${i}]`));
      return;
    }
    if (!isRecord(value) || node['x-kubernetes-preserve-unknown-fields'] === true) return;
    const properties = (node.properties ?? {}) as Record<string, Schema>;
    const additional = node.additionalProperties as Schema | undefined;
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!path && OBJECT_FIELDS.has(key)) continue;
      const childSchema = properties[key] ?? additional;
      if (childSchema) walk(child, childSchema, childPath);
      else found.push(childPath);
    }
  };
  walk(doc, schema, '');
  return found;
}
