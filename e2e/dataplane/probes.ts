/** Read-only looks at the lab: who the echo service saw, nft counters, link counters, neighbours. */
import { echoProbe, parseEchoReply } from '../labkit/echo-client.js';
import type { EchoProto, EchoReply } from '../labkit/echo-reply.js';
import type { ExecTarget, Lab } from '../labkit/lab.js';

export const familyOf = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);

/** Like lab.echoFrom, but to any address the echo service answers on (it listens on all of them). */
export async function echoAt(lab: Lab, target: ExecTarget, ip: string, proto: EchoProto, timeoutSec = 3): Promise<EchoReply> {
  const { echo } = await lab.info();
  const family = familyOf(ip);
  const probe = echoProbe({ ...echo, ...(family === 4 ? { ipv4: ip } : { ipv6: ip }) }, proto, family, timeoutSec);
  const r = await lab.exec(target, probe.argv, { timeoutMs: (timeoutSec + 3) * 1000, allowFailure: true, ...(probe.input === undefined ? {} : { input: probe.input }) });
  try {
    return parseEchoReply(r.stdout, proto);
  } catch (err) {
    throw new Error(`echo ${proto} to ${ip} from ${JSON.stringify(target)}: no answer (exit ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''})`, { cause: err });
  }
}

interface NftJsonRule {
  rule?: { chain: string; comment?: string; expr?: Array<Record<string, unknown>> };
}

/** Packets per rule comment in our table (IPv4 and IPv6 rules of one policy are summed). */
export async function nftCounters(lab: Lab, node: string, table = 'sluice'): Promise<Map<string, number>> {
  const r = await lab.exec({ node }, ['nft', '-j', 'list', 'table', 'inet', table], { timeoutMs: 10_000 });
  const items = (JSON.parse(r.stdout) as { nftables: NftJsonRule[] }).nftables;
  const out = new Map<string, number>();
  for (const { rule } of items) {
    if (!rule?.comment) continue;
    const counter = rule.expr?.find((e) => 'counter' in e)?.['counter'] as { packets: number } | undefined;
    if (counter) out.set(rule.comment, (out.get(rule.comment) ?? 0) + counter.packets);
  }
  return out;
}

export async function linkPackets(lab: Lab, node: string, dev: string): Promise<{ tx: number; rx: number }> {
  const r = await lab.exec({ node }, ['cat', `/sys/class/net/${dev}/statistics/tx_packets`, `/sys/class/net/${dev}/statistics/rx_packets`], { timeoutMs: 5_000 });
  const [tx, rx] = r.stdout.trim().split('\n').map(Number);
  return { tx: tx!, rx: rx! };
}

export async function macOf(lab: Lab, target: ExecTarget, dev = 'eth0'): Promise<string> {
  const r = await lab.exec(target, ['cat', `/sys/class/net/${dev}/address`], { timeoutMs: 5_000 });
  return r.stdout.trim();
}

/** The link-layer address the target's neighbour table holds for ip, if any. */
export async function neighbour(lab: Lab, target: ExecTarget, ip: string): Promise<string | undefined> {
  const r = await lab.exec(target, ['ip', '-j', `-${familyOf(ip)}`, 'neigh', 'show', 'to', ip, 'dev', 'eth0'], { timeoutMs: 5_000 });
  const entries = JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string }>;
  return entries.find((e) => e.lladdr)?.lladdr;
}

/** Addresses on the node's eth0, without prefix length. */
export async function addressesOn(lab: Lab, node: string, dev = 'eth0'): Promise<string[]> {
  const r = await lab.exec({ node }, ['ip', '-j', 'addr', 'show', 'dev', dev], { timeoutMs: 5_000 });
  const links = JSON.parse(r.stdout) as Array<{ addr_info: Array<{ local: string; scope: string }> }>;
  return links.flatMap((l) => l.addr_info.filter((a) => a.scope !== 'link').map((a) => a.local));
}

export async function hasLink(lab: Lab, node: string, dev: string): Promise<boolean> {
  const r = await lab.exec({ node }, ['ip', 'link', 'show', 'dev', dev], { timeoutMs: 5_000, allowFailure: true });
  return r.exitCode === 0;
}

/** `ip rule` lines (both families) with a priority in [min, max]. */
export async function rulesIn(lab: Lab, node: string, min: number, max: number): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['-4', '-6']) {
    const r = await lab.exec({ node }, ['ip', f, 'rule', 'show'], { timeoutMs: 5_000 });
    for (const line of r.stdout.split('\n')) {
      const pref = Number(line.split(':')[0]);
      if (line.trim() && pref >= min && pref <= max) out.push(`${f} ${line.trim()}`);
    }
  }
  return out;
}

/** Routes (both families) in tables [min, max]. */
export async function routesIn(lab: Lab, node: string, min: number, max: number): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['-4', '-6']) {
    const r = await lab.exec({ node }, ['ip', '-j', f, 'route', 'show', 'table', 'all'], { timeoutMs: 5_000 });
    for (const route of JSON.parse(r.stdout) as Array<{ dst: string; table?: string }>) {
      const table = Number(route.table);
      if (table >= min && table <= max) out.push(`${f} table ${table} ${route.dst}`);
    }
  }
  return out;
}

/** Names of the sets and chains of our table; undefined when the table does not exist. */
export async function nftShape(lab: Lab, node: string, table = 'sluice'): Promise<{ sets: string[]; chains: Record<string, number> } | undefined> {
  const r = await lab.exec({ node }, ['nft', '-j', 'list', 'table', 'inet', table], { timeoutMs: 10_000, allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  const items = (JSON.parse(r.stdout) as { nftables: Array<Record<string, { name?: string; chain?: string }>> }).nftables;
  const sets = items.flatMap((i) => (i['set']?.name ? [i['set'].name] : [])).sort();
  const chains: Record<string, number> = {};
  for (const i of items) if (i['chain']?.name) chains[i['chain'].name] = 0;
  for (const i of items) if (i['rule']?.chain) chains[i['rule'].chain] = (chains[i['rule'].chain] ?? 0) + 1;
  return { sets, chains };
}
