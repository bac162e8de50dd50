import type { Snapshot } from './snapshot.js';
import { resolveCluster } from './resolve.js';
import { exclusionText } from './pools.js';

export interface CrossProblem {
  readonly object: string;
  readonly reason: string;
  readonly message: string;
}

/**
 * Problems that need more than one object: a policy naming a missing gateway (or, naming none,
 * finding no default: an EgressPolicy only when the input holds its Namespace), an EIP outside the
 * pool, not unicast, a node or pod address, or taken by another policy, an exhausted pool;
 * gateways whose pools overlap an older gateway's or hold node, pod or non-unicast addresses
 * (node and pod addresses only when the input holds the Nodes). Node readiness is not a
 * validation error.
 */
export function crossCheck(snapshot: Snapshot): CrossProblem[] {
  const out: CrossProblem[] = [];
  const { assignment } = resolveCluster(snapshot);
  for (const gateway of [...snapshot.gateways].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const pools = assignment.pools.get(gateway.name);
    if (!pools) continue;
    const object = `EgressGateway "${gateway.name}"`;
    if (pools.rejected) out.push({ object, reason: pools.rejected.reason, message: pools.rejected.message });
    for (const reason of ['ReservedAddress', 'ClusterAddress'] as const) {
      const excluded = pools.excluded.filter((e) => e.reason === reason);
      if (excluded.length) out.push({ object, reason, message: `spec.ippools: ${exclusionText(excluded)} are never handed out` });
    }
  }
  const namespaces = new Set(snapshot.namespaces.map((n) => n.name));
  for (const policy of snapshot.policies) {
    const a = assignment.policies.get(policy.key);
    if (!a || a.active || !a.reason || a.reason === 'NoReadyGatewayNode' || a.reason === 'NoNodeIP') continue;
    // a label on a Namespace the input does not hold may name its default gateway
    if (policy.spec.gatewaySource === 'none' && policy.kind === 'EgressPolicy' && !namespaces.has(policy.namespace)) continue;
    out.push({ object: `${policy.kind} "${policy.key}"`, reason: a.reason, message: a.message ?? a.reason });
  }
  return out;
}
