import type { Family } from '../../api/ip.js';

export interface ObservedAddress {
  readonly ip: string;
  readonly family: Family;
  readonly prefixlen: number;
  readonly ifname: string;
  /** Carries our tag on a host prefix: added by sluice, now or by an earlier run. */
  readonly ours: boolean;
}

export interface ObservedAddresses {
  /** Global-scope addresses of every interface (ours and the node's own). */
  readonly addresses: readonly ObservedAddress[];
}

/** An EIP on an interface, as given to the announcer. */
export interface HeldAddress {
  readonly ip: string;
  readonly family: Family;
  readonly ifname: string;
}
