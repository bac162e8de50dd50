/**
 * Our nft table as the kernel holds it, in a form two loads of the same plan share: handles and
 * counter values dropped, set elements sorted (a hash set lists in insertion order, which differs
 * between a full load and element updates). Everything else, the structure fingerprint rule
 * included, is compared as the kernel prints it.
 */
import type { Lab } from '../labkit/lab.js';

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'handle') continue;
    if (k === 'counter' && v !== null && typeof v === 'object') out[k] = {};
    else if (k === 'elem' && Array.isArray(v)) out[k] = v.map(normalize).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    else out[k] = normalize(v);
  }
  return out;
}

/** The normalized JSON listing of `inet <table>` on the node; undefined when there is no such table. */
export async function nftListing(lab: Lab, node: string, table = 'sluice'): Promise<string | undefined> {
  const r = await lab.exec({ node }, ['nft', '-j', 'list', 'table', 'inet', table], { timeoutMs: 10_000, allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  const items = (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables.filter((i) => !('metainfo' in i));
  return JSON.stringify(normalize(items));
}
