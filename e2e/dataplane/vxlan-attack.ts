/**
 * A LAN host that is not a node (the lab's control host) speaking VXLAN to a gateway node: a
 * tunnel of its own with the cluster's VNI and port, aimed at the gateway, whose inner packets
 * claim to come from a selected pod and are bound for the external echo host. Whatever reaches the
 * echo host was relayed.
 */
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { startCapture } from './capture.js';

const DEVICE = 'vxatk';

/** `MAC IP` of each captured packet (tcpdump -e -nn lines). */
export function sources(lines: readonly string[]): string[] {
  return lines.flatMap((l) => {
    const m = /^\S+ ([0-9a-f:]{17}) > .*?: (\S+?)\.\d+ > /.exec(l);
    return m ? [`${m[1]} ${m[2]}`] : [];
  });
}

export class VxlanAttacker {
  private constructor(
    private readonly lab: Lab,
    private readonly info: LabInfo,
    private readonly podIp: string,
  ) {}

  /**
   * `gateway` is the target's plan (its node and tunnel settings); `worker` a plan whose tunnel
   * peers include the target, for the target's tunnel address and MAC.
   */
  static async open(lab: Lab, info: LabInfo, gateway: NodePlan, worker: NodePlan, podIp: string): Promise<VxlanAttacker> {
    const vxlan = worker.vxlan!;
    const peer = vxlan.peers.find((p) => p.node === gateway.node);
    if (!peer?.tunnelIpv4) throw new Error(`${worker.node}'s plan has no tunnel peer ${gateway.node}`);
    const ctl = info.control.ips[0]!;
    const x = (argv: string[]) => lab.exec({ host: 'control' }, argv, { timeoutMs: 10_000 });
    await x([
      'ip',
      'link',
      'add',
      DEVICE,
      'type',
      'vxlan',
      'id',
      String(vxlan.vni),
      'dstport',
      String(vxlan.port),
      'remote',
      peer.underlayIp,
      'local',
      ctl,
      'dev',
      'eth0',
      'nolearning',
    ]);
    const attacker = new VxlanAttacker(lab, info, podIp);
    try {
      await x(['ip', 'link', 'set', DEVICE, 'up']);
      await x(['ip', 'addr', 'add', podIp, 'dev', DEVICE]);
      await x(['ip', 'neigh', 'add', peer.tunnelIpv4, 'lladdr', peer.mac, 'dev', DEVICE, 'nud', 'permanent']);
      await x(['ip', 'route', 'add', `${info.echo.ipv4}/32`, 'via', peer.tunnelIpv4, 'dev', DEVICE, 'onlink', 'src', podIp]);
    } catch (err) {
      await attacker.close();
      throw err;
    }
    return attacker;
  }

  /** Sends `count` UDP datagrams to the echo host through the tunnel; returns what reached it. */
  async send(count: number): Promise<string[]> {
    const { echo } = this.info;
    const capture = await startCapture(echo.netns, `ip and udp dst port ${echo.udpPort}`, { count: count + 5, timeoutMs: 15_000 });
    try {
      const one = `(echo relay | timeout 3 nc -4 -u -w 1 -s ${this.podIp} ${echo.ipv4} ${echo.udpPort}) &`;
      await this.lab.exec({ host: 'control' }, ['sh', '-c', `${Array(count).fill(one).join(' ')} wait`], { timeoutMs: 10_000, allowFailure: true });
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await capture.stop();
    }
    return sources(await capture.lines);
  }

  async close(): Promise<void> {
    await this.lab.exec({ host: 'control' }, ['ip', 'link', 'del', DEVICE], { timeoutMs: 10_000, allowFailure: true });
  }
}
