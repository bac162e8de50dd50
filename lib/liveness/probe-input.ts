/** The checks on what the agent gives the prober (peers, its own report); pure, shared by both threads. */
import { canonicalIp, ipFamily, isIp } from '../api/ip.js';
import { isDnsSubdomain } from '../api/names.js';
import type { SelfReport } from './liveness-types.js';
import type { Peer } from './peer-table.js';
import type { ProberConfig } from './prober-options.js';

/** A peer setPeers() left out, and why. */
export interface PeerProblem {
  readonly node: string;
  readonly address: string;
  readonly problem: string;
}

/** A node the agent gives the prober: probed unless `probe` is false (then only answered). */
export interface KnownNode extends Peer {
  readonly probe?: boolean;
}

/** The nodes that can be used (canonical addresses, `probe` kept) and the ones left out. */
export function checkPeers(config: ProberConfig, peers: readonly KnownNode[]): { accepted: KnownNode[]; problems: PeerProblem[] } {
  const problems: PeerProblem[] = [];
  const accepted: KnownNode[] = [];
  const names = new Set<string>();
  const addresses = new Set<string>();
  const families = new Set(config.addresses.map(ipFamily));
  for (const peer of peers) {
    const problem = peerProblem(config, peer, names, addresses, families);
    if (problem !== undefined) {
      problems.push({ node: peer.node, address: peer.address, problem });
      continue;
    }
    const address = canonicalIp(peer.address);
    names.add(peer.node);
    addresses.add(address);
    accepted.push(peer.probe === false ? { node: peer.node, address, probe: false } : { node: peer.node, address });
  }
  return { accepted, problems };
}

/** The report with its holds canonical, sorted and deduplicated, and the holds that are not IP addresses. */
export function checkSelf(report: SelfReport): { self: SelfReport; invalid: string[] } {
  const invalid = report.holds.filter((ip) => !isIp(ip));
  const holds = [...new Set(report.holds.filter((ip) => isIp(ip)).map(canonicalIp))].sort();
  return { self: Object.freeze({ healthy: report.healthy === true, draining: report.draining === true, holds: Object.freeze(holds) }), invalid };
}

export function sameSelf(a: SelfReport, b: SelfReport): boolean {
  return a.healthy === b.healthy && a.draining === b.draining && a.holds.join() === b.holds.join();
}

function peerProblem(config: ProberConfig, peer: { node: string; address: string }, names: Set<string>, addresses: Set<string>, families: Set<number>): string | undefined {
  if (typeof peer.node !== 'string' || !isDnsSubdomain(peer.node)) return 'node name is not a DNS-1123 subdomain';
  if (peer.node === config.node) return 'this node';
  if (names.has(peer.node)) return 'node listed twice';
  if (typeof peer.address !== 'string' || !isIp(peer.address)) return 'address is not an IP address';
  const address = canonicalIp(peer.address);
  if (addresses.has(address)) return 'address listed twice';
  if (config.addresses.includes(address)) return "this node's own address";
  if (!families.has(ipFamily(address))) return `this node has no IPv${ipFamily(address)} address to probe from`;
  return undefined;
}
