import type { PolicyKind } from './model.js';

/** Key unique across both policy kinds: `ns/name` for EgressPolicy, `name` for the cluster kind. */
export function policyKey(kind: PolicyKind, namespace: string, name: string): string {
  return kind === 'EgressPolicy' ? `${namespace}/${name}` : name;
}
