/**
 * Waiting for sluice's dataplane without sending a packet, so a scenario can then probe once and
 * tell "not applied yet" from "applied, and the packets die anyway".
 */
import type { Lab } from '../../labkit/lab.js';
import { holdersOf, sluiceTable } from './node-state.js';
import { waitFor } from './wait.js';

const APPLIED_TIMEOUT_MS = 30_000;

/**
 * Until every pod address is in the nft table of every node given and the EIP is on the gateway
 * node. Agents apply routes and rules before nft, and EIPs last, so by then both are in place.
 */
export async function waitApplied(lab: Lab, opts: { gatewayNode: string; eip: string; nodes: readonly string[]; podIps: readonly string[] }): Promise<void> {
  await waitFor(`sluice to apply ${opts.podIps.join(', ')} → ${opts.eip} on ${opts.nodes.join(', ')}`, APPLIED_TIMEOUT_MS, async () => {
    for (const node of opts.nodes) {
      const table = await sluiceTable(lab, node);
      const missing = opts.podIps.filter((ip) => !table.includes(ip));
      if (missing.length) throw new Error(`${missing.join(', ')} not in ${node}'s table yet`);
    }
    if ((await holdersOf(lab, [opts.gatewayNode], opts.eip)).length === 0) throw new Error(`${opts.eip} not on ${opts.gatewayNode} yet`);
    return true;
  });
}
