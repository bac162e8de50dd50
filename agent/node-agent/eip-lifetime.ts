import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { hostPrefix } from '../../lib/dataplane/addresses/address-ops.js';
import type { EipPlan } from '../../lib/planner/node-plan.js';

/**
 * A dead man's switch for the egress IPs on this node's NIC: each carries a valid lifetime that the
 * running agent renews every `renewMs`. When the agent dies (killed, crashed) the kernel removes
 * them once the lifetime runs out, so a node whose agent is gone stops answering ARP/NDP for them,
 * also when its link comes back long before a new agent has started (which takes seconds): its
 * peers moved them to a successor within a detection window. A stop that keeps its EIPs over a
 * restart (no other node can carry them) makes their lifetime infinite first.
 *
 * The renewals go to one long-lived `ip -force -batch -` process (no process per renewal: a spawn
 * can hold up this thread on a loaded node). For IPv4 `addr change` also adds an address that is
 * not there, so only EIPs the last apply left on the NIC are renewed, and before an apply that may
 * remove some, the agent narrows the renewals to those the new plan keeps (a renewal in flight
 * while the apply runs would otherwise put a released EIP back).
 */
export type HeldEip = Pick<EipPlan, 'ip' | 'family' | 'interface'>;

export interface EipLifetimeOptions {
  /** The valid lifetime in whole seconds. */
  readonly lifetimeS: number;
  readonly renewMs: number;
  /** The IFA_RT_PRIORITY tag the EIPs carry (address-tag.ts): `change` must keep it. */
  readonly tag: number;
  readonly onError: (message: string) => void;
  /** The batch process (tests pass a fake). */
  readonly spawnIp?: () => ChildProcessWithoutNullStreams;
}

/** The `ip -batch` line that sets an EIP's valid lifetime (seconds, or forever), keeping its tag and flags. */
export function lifetimeCommand(eip: HeldEip, tag: number, valid: number | 'forever'): string {
  // IPv6 EIPs stay deprecated (address-commands.ts) and without a prefix route: `change` replaces the flags
  const preferred = eip.family === 6 ? ' nodad noprefixroute preferred_lft 0' : ` preferred_lft ${valid}`;
  return `addr change ${eip.ip}/${hostPrefix(eip.family)} dev ${eip.interface} metric ${tag} valid_lft ${valid}${preferred}`;
}

export class EipLifetime {
  #eips: readonly HeldEip[] = [];
  /** EIPs no other node could carry now: held for good (a crash of the only carrier must not end them). */
  #irreplaceable: ReadonlySet<string> = new Set();
  #ip: ChildProcessWithoutNullStreams | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Error lines already reported (one report per distinct line). */
  readonly #reported = new Set<string>();

  constructor(private readonly options: EipLifetimeOptions) {}

  /** Before an apply: renews only those of the EIPs held now that the plan applied next keeps. */
  narrow(planned: ReadonlySet<string>): void {
    this.#eips = this.#eips.filter((e) => planned.has(e.ip));
  }

  /**
   * The EIPs the last apply left on the NIC: their lifetime is renewed from now on (at once for new
   * ones, and for those whose `irreplaceable` standing changed). Those no other node could carry
   * stay for good while they are so: the lifetime moves an EIP to a successor, and without one it
   * would only end the egress of a node whose agent crashed.
   */
  hold(eips: readonly HeldEip[], irreplaceable: ReadonlySet<string> = new Set()): void {
    if (this.#stopped) return;
    const before = new Set(this.#eips.map((e) => e.ip));
    const standing = (ip: string) => this.#irreplaceable.has(ip) !== irreplaceable.has(ip);
    const changed = eips.some((e) => !before.has(e.ip) || standing(e.ip));
    this.#eips = eips;
    this.#irreplaceable = irreplaceable;
    if (changed) this.#renew();
    if (eips.length === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    } else if (!this.#timer) {
      this.#timer = setInterval(() => this.#renew(), this.options.renewMs);
      this.#timer.unref();
    }
  }

  /** Stops renewing; with `keep`, the EIPs held now stay for good (a restart that keeps them). */
  async stop(keep: boolean): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const ip = this.#ip;
    if (!ip) return;
    if (keep) this.#write(this.#eips.map((e) => lifetimeCommand(e, this.options.tag, 'forever')));
    ip.stdin.end();
    await Promise.race([once(ip, 'exit'), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }

  #renew(): void {
    this.#write(this.#eips.map((e) => lifetimeCommand(e, this.options.tag, this.#irreplaceable.has(e.ip) ? 'forever' : this.options.lifetimeS)));
  }

  #write(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const ip = this.#process();
    if (ip) ip.stdin.write(`${lines.join('\n')}\n`);
  }

  #process(): ChildProcessWithoutNullStreams | undefined {
    if (this.#ip) return this.#ip;
    let ip: ChildProcessWithoutNullStreams;
    try {
      // its own process group: a SIGTERM to the agent's group must not end it before stop() keeps the EIPs (it ends at EOF)
      ip = (this.options.spawnIp ?? (() => spawn('ip', ['-force', '-batch', '-'], { stdio: 'pipe', detached: true })))();
    } catch (err) {
      this.options.onError(`cannot start ip to renew egress IP lifetimes: ${String(err)}`);
      return undefined;
    }
    this.#ip = ip;
    ip.stdin.on('error', () => undefined);
    ip.stdout.resume();
    ip.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)) {
        if (this.#reported.has(line)) continue;
        if (this.#reported.size < 32) this.#reported.add(line);
        this.options.onError(`renewing egress IP lifetimes: ${line}`);
      }
    });
    ip.on('error', (err) => this.options.onError(`ip for egress IP lifetimes: ${err.message}`));
    // started again at the next renewal
    ip.on('exit', () => {
      if (this.#ip === ip) this.#ip = undefined;
    });
    return ip;
  }
}
