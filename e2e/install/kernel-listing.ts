/**
 * A node's network configuration as the kernel lists it, section by section: what an uninstall
 * must leave exactly as it found it. Dynamic state is left out on purpose: neighbour and FDB
 * entries the kernel learns, conntrack, counters (`nft -s` lists rules without them) and the one
 * sysctl that counts connections.
 */
import type { RunResult } from '../labkit/run.js';

export interface NodeExec {
  exec(target: { node: string }, argv: readonly string[], opts?: { allowFailure?: boolean; timeoutMs?: number }): Promise<RunResult>;
}

const SECTIONS: Readonly<Record<string, readonly string[]>> = {
  nft: ['nft', '-s', 'list', 'ruleset'],
  links: ['ip', '-d', 'link', 'show'],
  addresses: ['ip', 'address', 'show'],
  'rules v4': ['ip', '-4', 'rule', 'show'],
  'rules v6': ['ip', '-6', 'rule', 'show'],
  'routes v4': ['ip', '-4', 'route', 'show', 'table', 'all'],
  'routes v6': ['ip', '-6', 'route', 'show', 'table', 'all'],
  sysctls: ['sysctl', '-a', '--pattern', '^net\\.'],
};

/** Counters, not configuration. */
const VOLATILE_SYSCTL = /^net\.netfilter\.nf_conntrack_count = /;

export type KernelListing = Readonly<Record<string, string>>;

const MARK = '@@listing@@ ';

/** One process in the node for every section (each `ip netns exec` costs a fork and a mount namespace). */
export async function kernelListing(lab: NodeExec, node: string): Promise<KernelListing> {
  const script = Object.entries(SECTIONS)
    .map(([name, argv]) => `echo '${MARK}${name}'; ${argv.map((a) => `'${a}'`).join(' ')} 2>/dev/null || echo '${MARK}failed ${name}'`)
    .join('\n');
  const r = await lab.exec({ node }, ['sh', '-c', script], { timeoutMs: 30_000 });
  const out: Record<string, string> = {};
  let current = '';
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      current = line.slice(MARK.length);
      // sysctl -a fails for the few keys nobody may read (stable_secret); those are simply not listed
      if (current.startsWith('failed ') && current !== 'failed sysctls') throw new Error(`${node}: ${current}`);
      out[current] ??= '';
      continue;
    }
    if (current === 'sysctls' && VOLATILE_SYSCTL.test(line)) continue;
    out[current] += `${line}\n`;
  }
  return out;
}

/** The sections that differ, each with the lines only one side has. */
export function listingDiff(before: KernelListing, after: KernelListing): string[] {
  const out: string[] = [];
  for (const name of Object.keys(SECTIONS)) {
    const a = before[name] ?? '';
    const b = after[name] ?? '';
    if (a === b) continue;
    const la = a.split('\n');
    const lb = b.split('\n');
    const gone = la.filter((l) => !lb.includes(l)).map((l) => `  - ${l}`);
    const added = lb.filter((l) => !la.includes(l)).map((l) => `  + ${l}`);
    out.push(`${name}:${gone.length + added.length ? '' : ' (same lines, another order)'}`, ...gone, ...added);
  }
  return out;
}
