/**
 * Partitions between two nodes of the lab: the LAN bridge stops forwarding frames between their
 * ports, in both directions (IPv4, IPv6, ARP, everything), while both still reach every other
 * host. One lab-owned nft table in the LAN namespace holds the cut port pairs in a set; nothing
 * outside the lab's namespaces is touched.
 */
import { run } from './run.js';
import type { LabState, NodeState } from './state.js';

const TABLE = 'labpartition';
/** Bridge port names are the lab's own namespace names: letters, digits and dashes. */
const PORT = /^[a-z0-9-]{1,15}$/;

// Declaring the table, set and chain again is a no-op; the rule is written once, after a flush.
const RULESET = `table bridge ${TABLE} {
  set cut {
    type ifname . ifname
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
  }
}
flush chain bridge ${TABLE} forward
add rule bridge ${TABLE} forward iifname . oifname @cut drop
`;

function pairs(a: NodeState, b: NodeState): string {
  for (const p of [a.lanPort, b.lanPort]) if (!PORT.test(p)) throw new Error(`unexpected bridge port name ${JSON.stringify(p)}`);
  if (a.lanPort === b.lanPort) throw new Error(`cannot partition node ${a.name} from itself`);
  return `{ "${a.lanPort}" . "${b.lanPort}", "${b.lanPort}" . "${a.lanPort}" }`;
}

export async function partitionNodes(s: LabState, a: NodeState, b: NodeState): Promise<void> {
  await run(['nft', '-f', '-'], { netns: s.netns.lan, input: `${RULESET}add element bridge ${TABLE} cut ${pairs(a, b)}\n` });
}

export async function healPartition(s: LabState, a: NodeState, b: NodeState): Promise<void> {
  const listed = await run(['nft', 'list', 'table', 'bridge', TABLE], { netns: s.netns.lan, allowFailure: true });
  if (listed.exitCode !== 0) return;
  // Deleting an element that is not there fails; `destroy` needs nft 1.0.8+, so check first.
  const present = listed.stdout.includes(`"${a.lanPort}" . "${b.lanPort}"`) || listed.stdout.includes(`${a.lanPort} . ${b.lanPort}`);
  if (present) await run(['nft', 'delete', 'element', 'bridge', TABLE, 'cut', pairs(a, b)], { netns: s.netns.lan });
}

/** The node pairs cut now, as "a|b" of bridge port names. */
export async function partitionedPorts(s: LabState): Promise<string[]> {
  const r = await run(['nft', '-j', 'list', 'set', 'bridge', TABLE, 'cut'], { netns: s.netns.lan, allowFailure: true });
  if (r.exitCode !== 0) return [];
  const json = JSON.parse(r.stdout) as { nftables: Array<{ set?: { elem?: Array<{ concat: string[] }> } }> };
  return json.nftables.flatMap((o) => o.set?.elem ?? []).map((e) => e.concat.join('|'));
}
