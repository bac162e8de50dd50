/**
 * The NodePlan: everything one node's kernel must hold for the egress API, in plain data.
 * Every list is sorted, so equal input gives byte-identical JSON.
 */
import type { Family } from '../api/ip.js';
import type { PolicyKind } from '../api/model.js';
import type { ProblemReason } from '../api/problems.js';
import type { ChainPriority, NftRule } from './nft/vocabulary.js';

export interface NftSet {
  readonly name: string;
  readonly type: 'ipv4_addr' | 'ipv6_addr';
  /** Interval sets hold CIDRs and ranges; plain hash sets hold single addresses. */
  readonly interval: boolean;
  readonly elements: readonly string[];
  /**
   * Addresses learned from DNS answers: the set has `flags timeout`, the plan leaves it empty, and
   * its elements (each with the answer's TTL as its timeout) belong to the DNS forwarder, so
   * applies never diff them away.
   */
  readonly learned?: boolean;
}

export interface NftChain {
  readonly name: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** `mangle`, `srcnat - 10`, …: a standard priority and an offset. */
  readonly priority: ChainPriority;
  /** Typed statements (lib/planner/nft/vocabulary.ts); nft/render.ts turns them into text and JSON. */
  readonly rules: readonly NftRule[];
}

export interface NftTablePlan {
  readonly family: 'inet';
  readonly name: string;
  readonly sets: readonly NftSet[];
  readonly chains: readonly NftChain[];
}

export interface RouteEntry {
  readonly family: Family;
  readonly table: number;
  /** `default` or a CIDR. */
  readonly dst: string;
  readonly via: string;
  readonly dev: string;
  readonly onlink: boolean;
}

export interface RuleEntry {
  readonly family: Family;
  readonly priority: number;
  readonly fwmark: number;
  readonly mask: number;
  /** Only packets the host itself sends (`iif lo`). */
  readonly iifLo: boolean;
  /** A table id, or 254 for main. */
  readonly table: number;
}

export interface RoutingPlan {
  readonly tables: readonly number[];
  readonly routes: readonly RouteEntry[];
  readonly rules: readonly RuleEntry[];
  /** Our reserved ranges: anything of ours outside the plan is garbage-collected. */
  readonly ownedTables: { readonly min: number; readonly max: number };
  readonly ownedRulePriorities: { readonly min: number; readonly max: number };
}

export interface VxlanPeer {
  readonly node: string;
  readonly underlayIp: string;
  readonly mac: string;
  readonly tunnelIpv4?: string;
  readonly tunnelIpv6?: string;
}

export interface VxlanPlan {
  readonly device: string;
  readonly vni: number;
  readonly port: number;
  readonly parent: string;
  readonly localIp: string;
  /** 0 = derive from the parent's MTU. */
  readonly mtu: number;
  readonly mac: string;
  /** `ip/prefix` of this node's tunnel address, when it has one. */
  readonly addressV4?: string;
  readonly addressV6?: string;
  readonly peers: readonly VxlanPeer[];
}

export interface EipPlan {
  readonly ip: string;
  readonly family: Family;
  readonly interface: string;
  readonly policies: readonly string[];
}

export interface SysctlEntry {
  readonly key: string;
  readonly value: string;
}

type PolicyRole = 'gateway' | 'worker' | 'none';

export interface PolicyPlan {
  readonly key: string;
  readonly kind: PolicyKind;
  readonly namespace: string;
  readonly name: string;
  readonly priority: number;
  readonly gateway: string;
  readonly node?: string;
  readonly eipV4?: string;
  readonly eipV6?: string;
  readonly useNodeIP: boolean;
  /** Source address traffic leaves with, per family, when the policy is active. */
  readonly snatV4?: string;
  readonly snatV6?: string;
  /** What this node does for the policy. */
  readonly role: PolicyRole;
  readonly localEndpoints: number;
  readonly totalEndpoints: number;
  readonly active: boolean;
  /** Why the policy is not active, as a stable reason; its traffic then leaves by the node's normal path. */
  readonly reason?: ProblemReason;
  readonly message?: string;
  /** Prefix of the nft set names that belong to this policy. */
  readonly setPrefix: string;
}

export interface NodePlan {
  readonly node: string;
  readonly roles: { readonly worker: boolean; readonly gateway: boolean };
  readonly policies: readonly PolicyPlan[];
  readonly nft: NftTablePlan;
  readonly routing: RoutingPlan;
  readonly vxlan?: VxlanPlan;
  readonly eips: readonly EipPlan[];
  readonly sysctls: readonly SysctlEntry[];
  /** The packet mark layout, for explain/diff output. */
  readonly marks: { readonly mask: number; readonly here: number; readonly gateways: Readonly<Record<string, number>> };
  /** Firewalls in evaluation order, with their rule counts (their counters' comments come from these). */
  readonly firewalls?: readonly { readonly key: string; readonly rules: number }[];
  /** Status values from the API server that were not used (invalid now), one sentence each. */
  readonly notices?: readonly string[];
}
