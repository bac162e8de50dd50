/**
 * The namespaces bench/scale runs in: a hub (the API server, the controller, the simulated nodes'
 * watches, the driver) with a bridge on the node LAN, and one namespace per real agent, its eth0 a
 * veth into the hub's bridge. Nothing touches the root namespace; names carry a per-run prefix.
 */
import { randomBytes } from 'node:crypto';
import { addNetns, deleteNetns, listNetns, netnsPids } from '../../e2e/labkit/netns.js';
import { ipBatch } from '../../e2e/labkit/run.js';

export const HUB_IP = '198.18.0.1';
const LAN_PREFIX = 16;

export interface ScaleLab {
  readonly prefix: string;
  readonly hub: string;
  /** Agent namespaces by node index. */
  readonly agents: ReadonlyMap<number, string>;
}

export function newPrefix(): string {
  return `sl${randomBytes(2).toString('hex')}-`;
}

export async function createLab(prefix: string, agentNodes: readonly { index: number; ip: string }[]): Promise<ScaleLab> {
  const hub = `${prefix}hub`;
  const agents = new Map(agentNodes.map((n) => [n.index, `${prefix}n${n.index}`]));
  await addNetns([hub, ...agents.values()]);
  await ipBatch(hub, ['link set lo up', 'link add br0 type bridge', `addr add ${HUB_IP}/${LAN_PREFIX} dev br0`, 'link set br0 up']);
  for (const { index, ip } of agentNodes) {
    const ns = agents.get(index)!;
    await ipBatch(hub, [`link add v${index} type veth peer name eth0 netns ${ns}`, `link set v${index} master br0`, `link set v${index} up`]);
    await ipBatch(ns, ['link set lo up', `addr add ${ip}/${LAN_PREFIX} dev eth0`, 'link set eth0 up', `route add default via ${HUB_IP}`]);
  }
  return { prefix, hub, agents };
}

/** Kills what still runs in the lab's namespaces (ours alone: they carry the run's prefix), then removes them. */
export async function destroyLab(prefix: string): Promise<void> {
  const names = await listNetns(prefix);
  for (const name of names) {
    for (const pid of await netnsPids(name)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await deleteNetns(names);
}
