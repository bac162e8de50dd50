import type { Family } from '../../api/ip.js';
import type { OwnedRanges } from '../routes/route-types.js';

// Kernel objects in the shape `ip -json` / `bridge -json` print them: what the observe parsers
// read, whether the rows came from an `ip` process or straight from rtnetlink (kernel-reads.ts).

/** An entry of `addr_info`. */
export interface AddrRow {
  readonly family: string;
  readonly local?: string;
  readonly prefixlen: number;
  readonly scope?: string;
  /** IFA_RT_PRIORITY */
  readonly metric?: number;
}

export interface VxlanInfoRow {
  readonly id?: number;
  readonly port?: number;
  readonly local?: string;
  readonly local6?: string;
  /** The parent device's name. */
  readonly link?: string;
  readonly learning?: boolean;
}

/** A row of `ip -details address show`. */
export interface LinkRow {
  readonly ifname: string;
  readonly flags?: readonly string[];
  readonly mtu?: number;
  readonly address?: string;
  readonly linkinfo?: { readonly info_kind?: string; readonly info_data?: VxlanInfoRow };
  readonly addr_info?: readonly AddrRow[];
}

/** A row of `ip neigh show`. */
export interface NeighRow {
  readonly dst: string;
  readonly lladdr?: string;
  readonly state?: readonly string[];
}

/** A row of `bridge fdb show`. */
export interface FdbRow {
  readonly mac: string;
  readonly dst?: string;
}

/** A row of `ip -N -json rule list` / `ip -N -json route show table all` (numeric tables and types). */
export type RouteRow = Readonly<Record<string, unknown>>;

/** One device as `ip -details address show dev D`, `ip neigh show dev D` and `bridge fdb show dev D` print it. */
export interface DeviceRows {
  /** Absent when no link carries the name. */
  readonly link?: LinkRow;
  readonly neighbours: readonly NeighRow[];
  readonly fdb: readonly FdbRow[];
}

/** The reads the iproute2 subsystems observe the kernel with. */
export interface KernelReads {
  device(name: string): Promise<DeviceRows>;
  /**
   * Every link with its addresses (`ip address show`). A row need carry no more than the name and
   * the addresses, and may leave out those of link or host scope (never ours, never in the way of ours).
   */
  addresses(): Promise<readonly LinkRow[]>;
  /** Rules and routes of one family; those outside `owned` (rules by priority, routes by table) may be left out. */
  routing(family: Family, owned: OwnedRanges): Promise<{ readonly rules: readonly RouteRow[]; readonly routes: readonly RouteRow[] }>;
}
