import { randomBytes } from 'node:crypto';
import { runCommand } from './run-command.js';

/**
 * Network namespaces owned by one test run. Every name starts with a per-run random prefix, so
 * concurrent runs and other people's labs never collide; nothing is created in the root
 * namespace (veth peers are created directly inside the lab namespaces).
 */
export class NetnsLab {
  readonly prefix: string;
  readonly #created: string[] = [];

  /** `kind` names the user in the prefix (`sl-KIND-xxxxxx`), for whoever finds a leftover. */
  constructor(kind = 'ann') {
    this.prefix = `sl-${kind}-${randomBytes(3).toString('hex')}`;
  }

  /** Creates `${prefix}-${suffix}` with lo up; returns its name. */
  async add(suffix: string): Promise<string> {
    const name = `${this.prefix}-${suffix}`;
    await runCommand('ip', ['netns', 'add', name]);
    this.#created.push(name);
    await this.ip(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** `ip -n NS ...` */
  ip(ns: string, ...args: string[]): Promise<{ stdout: string }> {
    return runCommand('ip', ['-n', ns, ...args]);
  }

  /** `ip -n NS -j ...` parsed. */
  async ipJson<T>(ns: string, ...args: string[]): Promise<T> {
    return JSON.parse((await this.ip(ns, '-j', ...args)).stdout) as T;
  }

  /**
   * Waits (bounded) until `ifname` has carrier and IPv6 has finished bringing it up: the kernel
   * sets operstate and adds the ff00::/8 route only after linkwatch runs, up to ~1 s after
   * `link set up`; until then an NA to ff02::1 is dropped as "no route" on the receiver.
   */
  async waitReady(ns: string, ifname: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [link] = await this.ipJson<{ operstate?: string }[]>(ns, 'link', 'show', 'dev', ifname);
      const routes = await this.ipJson<{ dst?: string }[]>(ns, '-6', 'route', 'show', 'table', 'local', 'dev', ifname);
      if (link?.operstate === 'UP' && routes.some((r) => r.dst === 'ff00::/8')) return;
      if (Date.now() > deadline) {
        throw new Error(`${ns}/${ifname} not ready after ${timeoutMs} ms: ${JSON.stringify({ link, routes })}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async macOf(ns: string, ifname: string): Promise<string> {
    const [link] = await this.ipJson<{ address: string }[]>(ns, 'link', 'show', 'dev', ifname);
    if (link === undefined) throw new Error(`no ${ifname} in ${ns}`);
    return link.address;
  }

  /** Deletes every namespace this lab created (their links go with them); never throws. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    for (const name of this.#created.splice(0).reverse()) {
      await runCommand('ip', ['netns', 'del', name]).catch((err: unknown) => problems.push(String(err)));
    }
    const left = (await runCommand('ip', ['netns', 'list']).catch(() => ({ stdout: '' }))).stdout.split('\n').filter((line) => line.startsWith(this.prefix));
    if (left.length > 0) problems.push(`namespaces left behind: ${left.join(', ')}`);
    return problems;
  }
}
