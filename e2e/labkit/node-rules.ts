/**
 * Netfilter rules the lab loads into a node on behalf of a simulated cluster component (CNI,
 * kube-proxy): nft text, iptables-restore text per family, ipset lines. One loader for all.
 */
import { iptablesRestore, ipsetRestore, type IptablesBackend } from './iptables.js';
import { run } from './run.js';

export interface NodeRules {
  nft?: string;
  /** iptables-restore input per family (loaded with --noflush). */
  ip4?: string;
  ip6?: string;
  /** `ipset restore` lines, loaded before the iptables rules that use them. */
  ipset?: string[];
}

/** One iptables table in restore format: chains it declares (and so flushes), then rules. */
export interface IptablesTable {
  name: 'raw' | 'mangle' | 'nat' | 'filter';
  chains: string[];
  rules: string[];
}

export function restoreText(tables: readonly IptablesTable[]): string {
  return tables.map((t) => [`*${t.name}`, ...t.chains.map((c) => `:${c} - [0:0]`), ...t.rules, 'COMMIT'].join('\n')).join('\n') + '\n';
}

export async function loadNodeRules(netns: string, rules: NodeRules, backend: IptablesBackend): Promise<void> {
  if (rules.ipset?.length) await ipsetRestore(netns, rules.ipset);
  if (rules.nft) await run(['nft', '-f', '-'], { netns, input: rules.nft });
  if (rules.ip4) await iptablesRestore(netns, backend, 4, rules.ip4);
  if (rules.ip6) await iptablesRestore(netns, backend, 6, rules.ip6);
}
