/** Sizes of lists the API accepts; the CRDs (lib/api/schema) and the parsers both use them. */
export const POOL_MAX_ITEMS = 64;
export const POD_SUBNET_MAX_ITEMS = 64;
export const DEST_SUBNET_MAX_ITEMS = 256;
export const EXTRA_CIDR_MAX_ITEMS = 256;
export const SLICE_MAX_ENDPOINTS = 100;
/** Addresses of one pod per family in an endpoint slice. */
export const ENDPOINT_MAX_IPS = 16;
/** Entries of one family in EgressClusterInfo status (pod CIDRs or node IPs of every node). */
export const CLUSTER_STATUS_MAX_ITEMS = 10000;
/** Entries of an EgressTunnel's eip-conflicts annotation (one agent's conflicts). */
export const EIP_CONFLICTS_MAX = 64;
/** Policies one node lists in its EgressTunnel's `status.applied` (more are cut, and the report says so). */
export const APPLIED_POLICIES_MAX = 2048;
/** Characters of the error message in `status.applied`. */
export const APPLIED_MESSAGE_MAX = 512;
/** Rules of one EgressFirewall / EgressClusterFirewall, and ports of one rule. */
export const FIREWALL_MAX_RULES = 1000;
export const FIREWALL_RULE_MAX_PORTS = 64;
