/** The egress API objects the scenarios apply, as users write them. */
import { API_VERSION } from '../../../lib/api/group.js';
import type { EgressGatewayWire, EgressPolicyWire, PolicySpecWire } from '../../../lib/api/wire.js';

export type Pools = NonNullable<NonNullable<EgressGatewayWire['spec']>['ippools']>;

export function egressGateway(name: string, nodeLabels: Record<string, string>, ippools: Pools): EgressGatewayWire {
  return { apiVersion: API_VERSION, kind: 'EgressGateway', metadata: { name }, spec: { nodeSelector: { selector: { matchLabels: nodeLabels } }, ippools } };
}

export function egressPolicy(namespace: string, name: string, spec: PolicySpecWire): EgressPolicyWire {
  return { apiVersion: API_VERSION, kind: 'EgressPolicy', metadata: { name, namespace }, spec };
}

export function egressClusterPolicy(name: string, spec: PolicySpecWire): EgressPolicyWire {
  return { apiVersion: API_VERSION, kind: 'EgressClusterPolicy', metadata: { name }, spec };
}

/** Pods by label: `app=<app>`. */
export const appSelector = (app: string): NonNullable<PolicySpecWire['appliedTo']> => ({ podSelector: { matchLabels: { app } } });
