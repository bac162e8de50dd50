import type { Family } from '../../api/ip.js';

/** The vxlan device as it should be, with the MTU resolved. */
export interface DesiredVxlan {
  readonly device: string;
  readonly vni: number;
  readonly port: number;
  readonly parent: string;
  readonly localIp: string;
  readonly mtu: number;
  readonly mac: string;
  /** Canonical `ip/prefix` strings. */
  readonly addresses: readonly string[];
  readonly neighbours: readonly { readonly ip: string; readonly mac: string }[];
  readonly fdb: readonly { readonly mac: string; readonly dst: string }[];
}

export interface ObservedNeighbour {
  readonly ip: string;
  readonly mac?: string;
  /** Only permanent entries are ours; the kernel's own (incomplete, stale, …) are left alone. */
  readonly permanent: boolean;
}

export interface ObservedFdb {
  readonly mac: string;
  readonly dst: string;
}

/** The link carrying our device name, whatever it is. */
export interface ObservedDevice {
  /** `vxlan`, or another kind when something else took the name. */
  readonly kind: string;
  readonly vni?: number;
  readonly port?: number;
  readonly local?: string;
  readonly parent?: string;
  readonly learning?: boolean;
  readonly mtu: number;
  readonly mac: string;
  readonly up: boolean;
  /** Canonical `ip/prefix` of global-scope addresses; link-local ones belong to the kernel. */
  readonly addresses: readonly { readonly cidr: string; readonly family: Family }[];
  readonly neighbours: readonly ObservedNeighbour[];
  readonly fdb: readonly ObservedFdb[];
}

export interface ObservedLinks {
  readonly device: string;
  readonly link?: ObservedDevice;
  /** The parent NIC (from the plan, else the device's own), for deriving the MTU. */
  readonly parent?: { readonly name: string; readonly mtu?: number };
}
