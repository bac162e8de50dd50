import type { ParsedObject } from '../api/parse-document.js';
import type { ClusterInfo, EndpointSlice, Firewall, Gateway, NamespaceInfo, NodeInfo, PodInfo, Policy, Tunnel } from '../api/model.js';
import type { AgentConfig } from './config.js';
import type { Snapshot } from './snapshot.js';
import { withDefaultGateways } from './default-gateway.js';

/**
 * Groups parsed objects into a snapshot; pods are included when any Pod object was given. Policies
 * without a gateway get the default one, as in the store's snapshots.
 */
export function snapshotFromObjects(objects: readonly ParsedObject[], config: AgentConfig): Snapshot {
  const nodes: NodeInfo[] = [];
  const namespaces: NamespaceInfo[] = [];
  const pods: PodInfo[] = [];
  const gateways: Gateway[] = [];
  const policies: Policy[] = [];
  const firewalls: Firewall[] = [];
  const slices: EndpointSlice[] = [];
  const firewallSlices: EndpointSlice[] = [];
  const tunnels: Tunnel[] = [];
  let clusterInfo: ClusterInfo | undefined;
  for (const o of objects) {
    switch (o.kind) {
      case 'Node':
        nodes.push(o.value);
        break;
      case 'Namespace':
        namespaces.push(o.value);
        break;
      case 'Pod':
        pods.push(o.value);
        break;
      case 'EgressGateway':
        gateways.push(o.value);
        break;
      case 'EgressPolicy':
      case 'EgressClusterPolicy':
        policies.push(o.value);
        break;
      case 'EgressFirewall':
      case 'EgressClusterFirewall':
        firewalls.push(o.value);
        break;
      case 'EgressEndpointSlice':
      case 'EgressClusterEndpointSlice':
        (o.value.firewallKey === undefined ? slices : firewallSlices).push(o.value);
        break;
      case 'EgressTunnel':
        tunnels.push(o.value);
        break;
      case 'EgressClusterInfo':
        clusterInfo = o.value;
        break;
    }
  }
  const usePods = pods.length > 0 || slices.length === 0;
  return {
    nodes,
    namespaces,
    ...(usePods ? { pods } : {}),
    gateways,
    policies: withDefaultGateways(policies, gateways, namespaces),
    firewalls,
    slices,
    firewallSlices,
    tunnels,
    ...(clusterInfo ? { clusterInfo } : {}),
    config,
  };
}
