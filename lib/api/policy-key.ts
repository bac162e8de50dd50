import type { FirewallKind, PolicyKind } from './model.js';

/** Key unique across both policy kinds: `ns/name` for EgressPolicy, `name` for the cluster kind. */
export function policyKey(kind: PolicyKind, namespace: string, name: string): string {
  return kind === 'EgressPolicy' ? `${namespace}/${name}` : name;
}

/** Key unique within the firewall kinds: `ns/name` for EgressFirewall, `name` for the cluster kind. */
export function firewallKey(kind: FirewallKind, namespace: string, name: string): string {
  return kind === 'EgressFirewall' ? `${namespace}/${name}` : name;
}
