/**
 * State that belongs to someone else on a node (another nft table, an ip rule, a routing table),
 * and a byte-exact record of it, to show that sluice never touches what it does not own.
 */
import type { Lab } from '../labkit/lab.js';

const FOREIGN_TABLE = 'table inet foreign {\n  chain c {\n    type filter hook prerouting priority 0;\n  }\n}\n';
const TABLE = '100';

export async function addForeignState(lab: Lab, node: string, via: { 4: string; 6?: string }): Promise<void> {
  const x = (argv: string[], input?: string) => lab.exec({ node }, argv, { timeoutMs: 5_000, ...(input ? { input } : {}) });
  await x(['nft', '-f', '-'], FOREIGN_TABLE);
  await x(['ip', '-4', 'rule', 'add', 'pref', '100', 'fwmark', '0x1', 'lookup', TABLE]);
  await x(['ip', '-4', 'route', 'add', '203.0.113.0/24', 'via', via[4], 'table', TABLE]);
  if (via[6]) {
    await x(['ip', '-6', 'rule', 'add', 'pref', '100', 'fwmark', '0x1', 'lookup', TABLE]);
    await x(['ip', '-6', 'route', 'add', '2001:db8:113::/64', 'via', via[6], 'table', TABLE]);
  }
}

/** Everything addForeignState created, as the kernel prints it. */
export async function foreignState(lab: Lab, node: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const views: Record<string, string[]> = {
    nft: ['nft', 'list', 'table', 'inet', 'foreign'],
    rules4: ['ip', '-4', 'rule', 'show', 'pref', '100'],
    rules6: ['ip', '-6', 'rule', 'show', 'pref', '100'],
    routes4: ['ip', '-4', 'route', 'show', 'table', TABLE],
    routes6: ['ip', '-6', 'route', 'show', 'table', TABLE],
  };
  for (const [name, argv] of Object.entries(views)) {
    const r = await lab.exec({ node }, argv, { timeoutMs: 5_000, allowFailure: true });
    out[name] = `exit ${r.exitCode}\n${r.stdout}`;
  }
  return out;
}
