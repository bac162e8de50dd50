/**
 * A pod's traffic as a stream of UDP datagrams to the external host, one every ~2 ms, each from a
 * new socket: every datagram is a new connection for conntrack, so each one takes the path the
 * kernel has at that moment (a long-lived flow would keep its first NAT binding). bash's
 * /dev/udp needs no process start per datagram, and `read -t` sleeps without one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { armReaper, type Reaper } from '../../e2e/labkit/reaper/arm.js';
import { identityOf } from '../../e2e/labkit/reaper/process-identity.js';

const LOOP = 'exec 3<> <(:); while :; do { echo x >"/dev/udp/$0/$1"; } 2>/dev/null; read -t 0.001 -u 3; done';

export class UdpSender {
  private constructor(
    private readonly child: ChildProcess,
    private readonly reaper: Reaper,
  ) {}

  /**
   * Starts sending from `netns` to dest:port. With `whenExists`, waits for the namespace to appear
   * first (a pod the lab kubelet is about to make), polling every 5 ms without entering it; the
   * datagrams then start before the pod has its address and route, and fail until it has. That wait
   * runs in the root namespace, where the lab's teardown does not look: a reaper kills the sender's
   * process group should this process die without stop().
   */
  static async start(netns: string, dest: string, port: number, opts: { whenExists?: boolean } = {}): Promise<UdpSender> {
    const send = `exec ip netns exec "$0" bash -c '${LOOP}' "$1" "$2"`;
    const script = opts.whenExists ? `until ip netns exec "$0" true 2>/dev/null; do sleep 0.005; done; ${send}` : send;
    const child = spawn('sh', ['-c', script, netns, dest, String(port)], { stdio: 'ignore', detached: true });
    await once(child, 'spawn');
    try {
      return new UdpSender(child, await armReaper({ kind: 'group', leader: await identityOf(child.pid!) }));
    } catch (err) {
      process.kill(-child.pid!, 'SIGKILL');
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.reaper.disarm();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = once(this.child, 'close');
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await closed;
  }
}
