import { EgressError } from '../../errors.js';
import type { LearnedRenewal } from '../../planner/nft/render.js';
import type { NftBackend } from './nft-backend.js';
import { parseTableJson } from './parse-observed.js';

/** A set of our table that exists only while the probe runs; no plan names a set like it. */
export const PROBE_SET = 'renewal_probe';
/** TEST-NET-1: never a real destination, and the probe set is matched by no rule anyway. */
const PROBE_ADDRESS = '192.0.2.1';
const LONG_S = 3600;
const SHORT_S = 60;

/**
 * Whether this kernel renews an element it holds when an add names a new expiry (element
 * timeout updates, Linux 6.10 on): an element added for an hour, then added again expiring in
 * a minute, is listed expiring within the minute. Older kernels ignore the second add. Runs in
 * `<family> <table>` (which must exist) on a set of its own, removed again whatever happens.
 * Throws EGW_ERR_NFT when nft refuses the probe (no table).
 */
export async function probeRenewal(backend: NftBackend, family: 'inet', table: string): Promise<LearnedRenewal> {
  const target = { family, table, name: PROBE_SET };
  const add = (expires: number) => ({ add: { element: { ...target, elem: [{ elem: { val: PROBE_ADDRESS, timeout: LONG_S, expires } }] } } });
  const run = async (commands: unknown[]) => {
    const r = await backend.run(JSON.stringify({ nftables: commands }), { json: true });
    if (!r.ok) throw new EgressError('EGW_ERR_NFT', `probing element renewal in table ${family} ${table}: ${r.error.trim() || 'nft failed without a message'}`);
  };
  // A leftover of a probe that was cut short goes first.
  await run([
    { add: { set: { ...target, type: 'ipv4_addr', flags: ['timeout'] } } },
    { delete: { set: target } },
    { add: { set: { ...target, type: 'ipv4_addr', flags: ['timeout'] } } },
    add(LONG_S),
  ]);
  try {
    await run([add(SHORT_S)]);
    const listed = await backend.run(`list set ${family} ${table} ${PROBE_SET}\n`, { json: true, listing: true });
    if (!listed.ok) throw new EgressError('EGW_ERR_NFT', `probing element renewal: listing the probe set: ${listed.error.trim()}`);
    const expires = parseTableJson(listed.output, family, table)
      .sets.find((s) => s.name === PROBE_SET)
      ?.timed?.find((e) => e.element === PROBE_ADDRESS)?.expiresSeconds;
    if (expires === undefined) throw new EgressError('EGW_ERR_NFT', 'probing element renewal: the probe element is not listed');
    return expires <= SHORT_S ? 'expires' : 'readd';
  } finally {
    await backend.run(JSON.stringify({ nftables: [{ delete: { set: target } }] }), { json: true });
  }
}
