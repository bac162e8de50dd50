/**
 * Which source addresses packets to a port of the external host arrive with, counted by an nft
 * table in the external host's namespace. For traffic that gets no answer (a spoofed source).
 */
import type { Lab } from '../../labkit/lab.js';

const TABLE = 'scenario_arrivals';

export interface Arrivals {
  /** Source addresses seen since the recorder was installed. */
  sources(): Promise<string[]>;
  remove(): Promise<void>;
}

export async function recordArrivals(lab: Lab, udpPort: number): Promise<Arrivals> {
  const host = { host: 'ext' } as const;
  await lab.exec(host, ['nft', '-f', '-'], {
    input: `table inet ${TABLE} {
  set seen4 { type ipv4_addr; flags dynamic; }
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
    udp dport ${udpPort} update @seen4 { ip saddr }
  }
}
`,
  });
  return {
    async sources() {
      const r = await lab.exec(host, ['nft', '-j', 'list', 'set', 'inet', TABLE, 'seen4']);
      const out = JSON.parse(r.stdout) as { nftables: Array<{ set?: { elem?: Array<string | { elem: { val: string } }> } }> };
      const elems = out.nftables.flatMap((o) => o.set?.elem ?? []);
      return elems.map((e) => (typeof e === 'string' ? e : e.elem.val)).sort();
    },
    async remove() {
      await lab.exec(host, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    },
  };
}
