/**
 * The internal, frozen model of the egress API. Spec-derived fields and status (runtime-derived)
 * are kept apart: `spec` is what the user asked for, `status` is what the controller last wrote.
 */
import type { IpInterval } from './ip.js';
import type { LabelSelector } from './wire.js';
import type { Problem } from './problems.js';

export type AllocatorPolicy = 'default' | 'rr';
export type PolicyKind = 'EgressPolicy' | 'EgressClusterPolicy';

export interface ObjectIdentity {
  readonly name: string;
  readonly uid: string;
  readonly creationTimestamp: string;
  readonly generation: number;
}

export interface Gateway extends ObjectIdentity {
  /** spec.clusterDefault: policies with no gateway of their own use it (the oldest such gateway wins). */
  readonly clusterDefault: boolean;
  readonly nodeSelector: LabelSelector;
  readonly poolV4: readonly IpInterval[];
  readonly poolV6: readonly IpInterval[];
  /** Source text of the pools, for status and error messages. */
  readonly poolTextV4: readonly string[];
  readonly poolTextV6: readonly string[];
  readonly defaultEipV4?: string;
  readonly defaultEipV6?: string;
  /** spec.transport: how workers reach the gateway's nodes (see GatewayTransport). */
  readonly transport: GatewayTransport;
  /** The user's request to rebalance (annotation; see rebalance-request.ts). */
  readonly rebalance?: RebalanceRequest;
}

/**
 * How workers send selected traffic to a gateway node: `vxlan` encapsulates it to the node's tunnel
 * address; `native` routes it to the node's LAN address as next hop (workers and gateway nodes
 * on one L2 segment).
 */
export const GATEWAY_TRANSPORTS = ['vxlan', 'native'] as const;
export type GatewayTransport = (typeof GATEWAY_TRANSPORTS)[number];

/** A rebalance request: its token, or why the annotation is not one. */
export interface RebalanceRequest {
  readonly token?: string;
  readonly invalid?: string;
}

/**
 * Where a policy's gateway comes from: its spec.egressGatewayName, its namespace's
 * DEFAULT_GATEWAY_LABEL, the cluster-default gateway, or nowhere (the name is then "").
 */
export type GatewaySource = 'spec' | 'namespace' | 'cluster' | 'none';

interface PolicySpec {
  /**
   * The EgressGateway the policy uses. The parser sets spec.egressGatewayName ("" when unset);
   * snapshots fill an unset one with the default gateway (see planner/default-gateway.ts), as
   * spidernet's webhook does in the spec itself.
   */
  readonly gatewayName: string;
  readonly gatewaySource: GatewaySource;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly useNodeIP: boolean;
  readonly allocatorPolicy: AllocatorPolicy;
  readonly podSelector?: LabelSelector;
  readonly podSubnet: readonly IpInterval[];
  readonly namespaceSelector?: LabelSelector;
  readonly destSubnet: readonly IpInterval[];
  readonly excludeDestSubnet: readonly IpInterval[];
  readonly priority: number;
}

export interface PolicyStatus {
  readonly eipV4?: string;
  readonly eipV6?: string;
  readonly node?: string;
}

export interface Policy extends ObjectIdentity {
  readonly kind: PolicyKind;
  /** Empty for EgressClusterPolicy. */
  readonly namespace: string;
  /** `namespace/name` for EgressPolicy, `name` for EgressClusterPolicy: unique across both kinds. */
  readonly key: string;
  readonly spec: PolicySpec;
  readonly status: PolicyStatus;
}

export interface Endpoint {
  readonly namespace: string;
  readonly pod: string;
  readonly node: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

export interface EndpointSlice {
  readonly name: string;
  readonly namespace: string;
  /** Key of the policy (see Policy.key); '' for a firewall's slice. */
  readonly policyKey: string;
  /** Key of the firewall (see Firewall.key) for a firewall's slice. */
  readonly firewallKey?: string;
  readonly endpoints: readonly Endpoint[];
}

export interface Tunnel {
  readonly node: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly mac?: string;
  readonly parentName?: string;
  readonly parentIpv4?: string;
  readonly parentIpv6?: string;
  /** Routing mark index of this node when it serves as a gateway (1-based). */
  readonly markIndex?: number;
  readonly phase?: string;
  /** The node's parent NIC on its LAN, as the node's agent published it (an annotation). */
  readonly lan?: LanLink;
  /** Egress IPs another host on the LAN answers for, as the node's agent found them (an annotation). */
  readonly eipConflicts?: readonly EipConflictReport[];
  /** Status fields left out because they did not validate. */
  readonly ignored?: readonly Problem[];
}

/** A node's parent NIC on its LAN: its MAC and its addresses (`ip/prefix`, the address kept, at most one per family). */
export interface LanLink {
  readonly mac: string;
  readonly addresses: readonly string[];
}

/** An egress IP that another host answered for when a node probed the LAN for it. */
export interface EipConflictReport {
  readonly ip: string;
  /** The answering host's MAC address. */
  readonly mac: string;
}

export interface ClusterInfo {
  readonly podCidrMode: 'k8s' | 'auto' | 'none';
  readonly detectClusterIP: boolean;
  readonly detectNodeIP: boolean;
  readonly extraCidr: readonly IpInterval[];
  /** The CIDRs in force, as the controller last wrote them (may be empty before its first write). */
  readonly status?: {
    readonly podCIDR: readonly string[];
    readonly clusterIP: readonly string[];
    readonly nodeIP: readonly string[];
    readonly extraCidr: readonly string[];
  };
}

export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  readonly unreachable: boolean;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly podCIDRs: readonly string[];
  /** Absent: not drained, nothing to report (see node-drain.ts). */
  readonly drain?: NodeDrain;
}

/** A node's drain state: a drained node carries no egress IP while another node can. */
export interface NodeDrain {
  readonly drained: boolean;
  /** What decided: the drain annotation, or the cordon (spec.unschedulable) alone. */
  readonly by?: 'annotation' | 'cordon';
  /** Why the annotation was ignored (an invalid value). */
  readonly invalid?: string;
}

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  /** Running, Ready, not host-network, not terminating: only such pods are endpoints. */
  readonly eligible: boolean;
}

export type FirewallKind = 'EgressFirewall' | 'EgressClusterFirewall';
export type FirewallAction = 'Allow' | 'Deny';
export type FirewallProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface FirewallPort {
  readonly protocol: FirewallProtocol;
  /** Absent: every port of the protocol. */
  readonly port?: number;
}

/** One rule: a CIDR or a DNS name (exact, or `*.` and a suffix), and optional ports. */
export interface FirewallRule {
  readonly action: FirewallAction;
  readonly cidr?: IpInterval;
  /** Lower case, without a trailing dot; `*.example.com` matches names below example.com. */
  readonly dnsName?: string;
  /** Empty: every protocol and port. */
  readonly ports: readonly FirewallPort[];
}

interface FirewallSpec {
  readonly podSelector?: LabelSelector;
  /** EgressClusterFirewall only; absent = every namespace. */
  readonly namespaceSelector?: LabelSelector;
  readonly priority: number;
  /** In order: the first matching rule decides. */
  readonly rules: readonly FirewallRule[];
  /** For external traffic of selected pods that no rule matches. */
  readonly defaultAction: FirewallAction;
}

export interface Firewall extends ObjectIdentity {
  readonly kind: FirewallKind;
  /** Empty for EgressClusterFirewall. */
  readonly namespace: string;
  /** `namespace/name` or `name`, as Policy.key (the two kinds have their own key space). */
  readonly key: string;
  readonly spec: FirewallSpec;
}
