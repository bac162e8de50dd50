/** Read-only looks at a node's kernel: the addresses on its NIC and sluice's nft table. */
import type { Lab } from '../../labkit/lab.js';

export async function addressesOn(lab: Lab, node: string, dev = 'eth0'): Promise<string[]> {
  const r = await lab.exec({ node }, ['ip', '-j', 'addr', 'show', 'dev', dev], { timeoutMs: 10_000 });
  const links = JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local: string }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
}

/** The nodes among `nodes` that have `ip` on their NIC. */
export async function holdersOf(lab: Lab, nodes: readonly string[], ip: string): Promise<string[]> {
  const held = await Promise.all(nodes.map(async (n) => ((await addressesOn(lab, n)).includes(ip) ? n : undefined)));
  return held.filter((n): n is string => n !== undefined);
}

/** `nft list table inet sluice` on the node ('' when the table does not exist). */
export async function sluiceTable(lab: Lab, node: string): Promise<string> {
  const r = await lab.exec({ node }, ['nft', 'list', 'table', 'inet', 'sluice'], { allowFailure: true, timeoutMs: 10_000 });
  return r.exitCode === 0 ? r.stdout : '';
}
