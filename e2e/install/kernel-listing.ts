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

export async function kernelListing(lab: NodeExec, node: string): Promise<KernelListing> {
  const entries = await Promise.all(
    Object.entries(SECTIONS).map(async ([name, argv]) => {
      const r = await lab.exec({ node }, argv, { allowFailure: true, timeoutMs: 20_000 });
      if (r.exitCode !== 0 && name !== 'sysctls') throw new Error(`${node}: ${argv.join(' ')}: exit ${r.exitCode}: ${r.stderr.trim()}`);
      // sysctl -a exits 255 for the few keys nobody may read (stable_secret): those are not listed
      const text = name === 'sysctls' ? r.stdout.split('\n').filter((l) => l && !VOLATILE_SYSCTL.test(l)).join('\n') : r.stdout;
      return [name, text] as const;
    }),
  );
  return Object.fromEntries(entries);
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
