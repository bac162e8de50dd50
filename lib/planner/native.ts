import { selectorMatches } from '../api/labels.js';
import { parseCidr, parseIp, type Family } from '../api/ip.js';
import type { Gateway, NodeInfo } from '../api/model.js';
import type { NodeDirectoryEntry } from './resolve.js';

/**
 * Native routing: a worker sends a gateway node's traffic to the node's LAN address as next hop,
 * with no encapsulation. The path needs a routing table per gateway node, chosen by the node's
 * mark, so a node has one transport for all the gateways it serves.
 */

/** Gateway-capable nodes reached by native routing, and why others are not although a gateway asks. */
export interface NativeNodes {
  readonly nodes: ReadonlySet<string>;
  readonly notices: readonly string[];
}

/**
 * A node is reached natively when every EgressGateway whose nodeSelector matches it asks for
 * `transport: native`. A node that gateways of both transports select is reached by VXLAN (it has
 * one table per worker), and the plan says so.
 */
export function nativeNodes(nodes: readonly NodeInfo[], gateways: readonly Gateway[]): NativeNodes {
  const out = new Set<string>();
  const notices: string[] = [];
  for (const n of [...nodes].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const mine = gateways.filter((g) => selectorMatches(g.nodeSelector, n.labels));
    const native = mine.filter((g) => g.transport === 'native');
    if (native.length === 0) continue;
    if (native.length === mine.length) out.add(n.name);
    else {
      const vxlan = mine.filter((g) => g.transport !== 'native').map((g) => g.name);
      notices.push(
        `node "${n.name}": gateways ${native.map((g) => `"${g.name}"`).join(', ')} ask for transport native, ${vxlan.map((g) => `"${g}"`).join(', ')} for vxlan; ` +
          'workers reach the node by VXLAN for all of them',
      );
    }
  }
  return { nodes: out, notices };
}

/** A node's LAN address of one family, with its prefix length: the one its agent published that is also its node address. */
function lanAddress(d: NodeDirectoryEntry, family: Family): { ip: string; prefix: number } | undefined {
  const nodeIp = family === 4 ? d.parentIpv4 : d.parentIpv6;
  if (!nodeIp || !d.lan) return undefined;
  for (const a of d.lan.addresses) {
    const [ip, prefix] = a.split('/');
    if (ip === nodeIp) return { ip, prefix: Number(prefix) };
  }
  return undefined;
}

function inPrefix(ip: string, on: { ip: string; prefix: number }): boolean {
  const net = parseCidr(`${on.ip}/${on.prefix}`, false);
  const { value } = parseIp(ip);
  return value >= net.start && value <= net.end;
}

/**
 * Whether two nodes share an L2 segment in a family, as far as their published LAN addresses tell:
 * each node's address is on the other's prefix. Undefined with the reason when they do not.
 */
export function segmentProblem(a: NodeDirectoryEntry, b: NodeDirectoryEntry, family: Family): string | undefined {
  const la = lanAddress(a, family);
  const lb = lanAddress(b, family);
  if (!la || !lb) {
    const missing = [!la ? a.node : undefined, !lb ? b.node : undefined].filter((n): n is string => n !== undefined);
    return `no IPv${family} LAN address of ${missing.map((n) => `"${n}"`).join(' and ')} is known (its agent publishes it)`;
  }
  if (!inPrefix(lb.ip, la) || !inPrefix(la.ip, lb)) return `${a.node} ${la.ip}/${la.prefix} and ${b.node} ${lb.ip}/${lb.prefix} are not on one prefix`;
  return undefined;
}

/** One gateway node a worker reaches natively: its mark and, per family, its LAN address as next hop. */
export interface NativePath {
  readonly markIndex: number;
  readonly nextHop: Partial<Record<Family, string>>;
}
