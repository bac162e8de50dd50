import type { Gateway, GatewaySource, NamespaceInfo, Policy } from '../api/model.js';
import { DEFAULT_GATEWAY_LABEL } from '../api/group.js';
import { isDnsSubdomain } from '../api/names.js';
import { compareGateways } from './order.js';

/**
 * The cluster-default gateway: the oldest gateway with spec.clusterDefault (then by name), so
 * that a second one asking for it moves nothing. The others are reported on their status.
 */
export function clusterDefaultGateway(gateways: readonly Gateway[]): Gateway | undefined {
  let best: Gateway | undefined;
  for (const g of gateways) if (g.clusterDefault && (!best || compareGateways(g, best) < 0)) best = g;
  return best;
}

function resolved(policy: Policy, gatewayName: string, gatewaySource: GatewaySource): Policy {
  if (policy.spec.gatewayName === gatewayName && policy.spec.gatewaySource === gatewaySource) return policy;
  return Object.freeze({ ...policy, spec: Object.freeze({ ...policy.spec, gatewayName, gatewaySource }) });
}

/**
 * Fills in the gateway of policies without spec.egressGatewayName, as spidernet's webhook does:
 * an EgressPolicy takes the gateway its namespace's label names (even one that does not exist:
 * the label is the user's choice, and the policy then reports GatewayNotFound), else the
 * cluster default (an empty label value counts as none, as in spidernet); an
 * EgressClusterPolicy takes the cluster default. Without either the name
 * stays "" (source "none"); a label value that cannot be a gateway name leaves it "" with source
 * "namespace". The defaults are read as they are now: relabelling a namespace or moving
 * clusterDefault moves the policies that name no gateway (naming one pins a policy).
 */
export function withDefaultGateways(policies: readonly Policy[], gateways: readonly Gateway[], namespaces: readonly NamespaceInfo[]): readonly Policy[] {
  if (policies.every((p) => p.spec.gatewaySource === 'spec')) return policies;
  const clusterDefault = clusterDefaultGateway(gateways)?.name;
  const labels = new Map<string, string>();
  for (const ns of namespaces) {
    const value = ns.labels[DEFAULT_GATEWAY_LABEL];
    if (value) labels.set(ns.name, value);
  }
  return policies.map((p) => {
    if (p.spec.gatewaySource === 'spec') return p;
    const label = p.kind === 'EgressPolicy' ? labels.get(p.namespace) : undefined;
    if (label !== undefined) return resolved(p, isDnsSubdomain(label) ? label : '', 'namespace');
    return clusterDefault ? resolved(p, clusterDefault, 'cluster') : resolved(p, '', 'none');
  });
}
