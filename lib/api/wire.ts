/**
 * Wire shapes of the egress API as they travel through the Kubernetes API (JSON/YAML).
 * Field names follow spidernet EgressGateway so existing manifests need only a new apiVersion.
 * Nothing downstream of lib/api/parse-*.ts reads these: they are parsed once into the model.
 */

import type { Condition, KubeObject, LabelSelector } from './meta.js';

export type { Condition, KubeObject, LabelSelector, LabelSelectorRequirement } from './meta.js';

export interface EgressGatewayWire extends KubeObject {
  spec?: {
    clusterDefault?: boolean;
    transport?: 'vxlan' | 'native';
    nodeSelector?: { selector?: LabelSelector };
    ippools?: {
      ipv4?: string[];
      ipv6?: string[];
      ipv4DefaultEIP?: string;
      ipv6DefaultEIP?: string;
    };
  };
  status?: {
    nodeList?: GatewayNodeStatusWire[];
    ipUsage?: IpUsageWire;
    defaultEIP?: { ipv4?: string; ipv6?: string };
    conditions?: Condition[];
  };
}

/** Pool addresses that can be handed out, and those no policy holds, per family. */
export interface IpUsageWire {
  ipv4Total: number;
  ipv4Free: number;
  ipv6Total: number;
  ipv6Free: number;
}

export interface GatewayNodeStatusWire {
  name: string;
  status: string;
  eips?: { ipv4?: string; ipv6?: string; policies?: { name: string; namespace?: string }[] }[];
}

interface EgressIPWire {
  ipv4?: string;
  ipv6?: string;
  useNodeIP?: boolean;
  allocatorPolicy?: 'default' | 'rr';
}

export interface PolicySpecWire {
  egressGatewayName?: string;
  egressIP?: EgressIPWire;
  appliedTo?: {
    podSelector?: LabelSelector;
    podSubnet?: string[];
    namespaceSelector?: LabelSelector;
  };
  destSubnet?: string[];
  excludeDestSubnet?: string[];
  priority?: number;
}

export interface PolicyStatusWire {
  egressGatewayName?: string;
  eip?: { ipv4?: string; ipv6?: string };
  node?: string;
  conditions?: Condition[];
}

export interface EgressPolicyWire extends KubeObject {
  spec?: PolicySpecWire;
  status?: PolicyStatusWire;
}

export interface EndpointWire {
  ns: string;
  pod: string;
  node: string;
  ipv4?: string[];
  ipv6?: string[];
}

export interface EgressEndpointSliceWire extends KubeObject {
  endpoints?: EndpointWire[];
}

export interface EgressTunnelWire extends KubeObject {
  spec?: Record<string, never>;
  status?: {
    tunnel?: {
      ipv4?: string;
      ipv6?: string;
      mac?: string;
      parent?: { name?: string; ipv4?: string; ipv6?: string };
    };
    mark?: string;
    phase?: 'Pending' | 'Init' | 'Ready' | 'NodeNotReady' | 'NotReady' | 'Failed' | 'HeartbeatTimeout';
    /** Written by the node's own agent, never by the controller (see AppliedReportWire). */
    applied?: AppliedReportWire;
  };
}

/**
 * What a node's agent last applied to its kernel: the policies its plan gives it a part in
 * (carrying gateway, or worker with selected pods), at the generation and on the gateway node it
 * planned with, and whether that apply succeeded. The controller turns these into each policy's
 * `Programmed` condition.
 */
export interface AppliedReportWire {
  result: 'Applied' | 'Failed';
  /** The error code of the first failure (lib/errors.ts), when Failed. */
  code?: string;
  message?: string;
  /** The list was cut at APPLIED_POLICIES_MAX entries. */
  truncated?: boolean;
  policies?: AppliedPolicyWire[];
}

/** One policy in an applied report; an EgressClusterPolicy has no namespace. */
export interface AppliedPolicyWire {
  namespace?: string;
  name: string;
  generation: number;
  /** The gateway node carrying the policy, as this node applied it. */
  node: string;
}

export interface CidrListWire {
  ipv4?: string[];
  ipv6?: string[];
}

export interface EgressClusterInfoWire extends KubeObject {
  spec?: {
    autoDetect?: { podCidrMode?: 'k8s' | 'auto' | 'none'; clusterIP?: boolean; nodeIP?: boolean };
    extraCidr?: string[];
  };
  status?: {
    podCIDR?: CidrListWire;
    clusterIP?: CidrListWire;
    nodeIP?: CidrListWire;
    extraCidr?: string[];
    conditions?: Condition[];
  };
}
