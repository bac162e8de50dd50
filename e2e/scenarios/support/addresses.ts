/** Addresses in the lab's free EIP range, by offset from its first address. */
import { rendezvousPick } from '../../../lib/planner/hrw.js';
import type { LabInfo } from '../../labkit/info.js';

export function eipV4(info: LabInfo, offset: number): string {
  const [first] = info.lan.eipRangeV4.split('-') as [string];
  const octets = first.split('.').map(Number);
  const last = octets[3]! + offset;
  if (last > 254) throw new Error(`EIP offset ${offset} leaves ${info.lan.eipRangeV4}`);
  return [...octets.slice(0, 3), last].join('.');
}

export function eipV6(info: LabInfo, offset: number): string {
  if (!info.lan.eipRangeV6) throw new Error('the lab has no IPv6 (start it with ipv6: true)');
  const [first] = info.lan.eipRangeV6.split('-') as [string];
  const cut = first.lastIndexOf(':');
  return `${first.slice(0, cut + 1)}${(parseInt(first.slice(cut + 1), 16) + offset).toString(16)}`;
}

/** The pool "first-(first+size-1)" of the family. */
export function poolV4(info: LabInfo, size: number): string {
  return `${eipV4(info, 0)}-${eipV4(info, size - 1)}`;
}

export function poolV6(info: LabInfo, size: number): string {
  return `${eipV6(info, 0)}-${eipV6(info, size - 1)}`;
}

export function nodeIp(info: LabInfo, node: string, family: 4 | 6 = 4): string {
  const n = info.nodes.find((x) => x.name === node);
  const ip = n?.ips.find((a) => a.includes(':') === (family === 6));
  if (!ip) throw new Error(`node ${node} has no IPv${family} address in the lab`);
  return ip;
}

export function podIp(info: LabInfo, pod: string, family: 4 | 6 = 4): string {
  const [namespace, name] = pod.split('/');
  const p = info.pods.find((x) => x.namespace === namespace && x.name === name);
  const ip = p?.ips.find((a) => a.includes(':') === (family === 6));
  if (!ip) throw new Error(`pod ${pod} has no IPv${family} address in the lab`);
  return ip;
}

/**
 * `perNode` addresses for each of `nodes` from the offsets [from, to), picked by the rendezvous
 * hash sluice places EIPs with (all nodes Ready); interleaved by node.
 */
export function spreadEips(info: LabInfo, nodes: readonly string[], perNode: number, from: number, to: number): Array<{ ip: string; node: string }> {
  const byNode = new Map(nodes.map((n) => [n, [] as string[]]));
  for (let offset = from; offset < to; offset++) {
    const ip = eipV4(info, offset);
    const list = byNode.get(rendezvousPick(ip, nodes)!)!;
    if (list.length < perNode) list.push(ip);
  }
  for (const [node, list] of byNode) if (list.length < perNode) throw new Error(`only ${list.length} of offsets ${from}-${to - 1} hash to ${node}`);
  return Array.from({ length: perNode }, (_, i) => nodes.map((node) => ({ ip: byNode.get(node)![i]!, node }))).flat();
}
