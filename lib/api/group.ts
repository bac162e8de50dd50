export const GROUP = 'egress.sluice.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Label on endpoint slices naming the policy they belong to. */
export const POLICY_LABEL = `${GROUP}/policy`;
export const CLUSTER_POLICY_LABEL = `${GROUP}/cluster-policy`;
/** Label on endpoint slices naming the firewall they belong to (instead of a policy). */
export const FIREWALL_LABEL = `${GROUP}/firewall`;
export const CLUSTER_FIREWALL_LABEL = `${GROUP}/cluster-firewall`;
/**
 * EgressTunnel annotation: the egress IPs that another host on the LAN answered for when the
 * node's agent probed before taking them, as `ip=mac` entries separated by commas.
 */
export const EIP_CONFLICTS_ANNOTATION = `${GROUP}/eip-conflicts`;

/**
 * EgressTunnel annotation naming the node's parent NIC. Only the node's own agent knows the NIC,
 * so it publishes it here; the controller copies it into status.tunnel.parent.name.
 */
export const PARENT_INTERFACE_ANNOTATION = `${GROUP}/parent-interface`;

/**
 * EgressTunnel annotation: the node's parent NIC on its LAN, as its agent sees it: the NIC's MAC,
 * then its addresses with their prefix lengths (`mac ip/prefix [ip/prefix]`, space-separated).
 * Native-routing gateways take the MAC as the node's, and a worker and a gateway node share a
 * segment when each one's address is on the other's prefix.
 */
export const LAN_ANNOTATION = `${GROUP}/lan`;

/**
 * Namespace label naming the EgressGateway that the namespace's policies without
 * spec.egressGatewayName use (spidernet: `spidernet.io/egressgateway-default`).
 */
export const DEFAULT_GATEWAY_LABEL = `${GROUP}/egressgateway-default`;

export const KINDS = [
  'EgressGateway',
  'EgressPolicy',
  'EgressClusterPolicy',
  'EgressFirewall',
  'EgressClusterFirewall',
  'EgressEndpointSlice',
  'EgressClusterEndpointSlice',
  'EgressTunnel',
  'EgressClusterInfo',
] as const;
export type EgressKind = (typeof KINDS)[number];

export const CLUSTER_INFO_NAME = 'default';

/**
 * Node annotation: `true` drains the node (its egress IPs move to other nodes, make-before-break,
 * and it carries none while drained), `false` keeps a cordoned node eligible. Absent: a cordoned
 * (unschedulable) node is drained. See node-drain.ts.
 */
export const DRAIN_ANNOTATION = `${GROUP}/drain`;

/**
 * EgressGateway annotation: a request, named by its value, to move every policy of the gateway to
 * the node it would be placed on were it new (status.rebalance acknowledges it). See rebalance-request.ts.
 */
export const REBALANCE_ANNOTATION = `${GROUP}/rebalance`;
