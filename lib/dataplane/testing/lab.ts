/**
 * Throwaway network namespaces for privileged driver tests. Every name starts with a per-run
 * random prefix; the root namespace is only used to create and delete namespaces.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const HELPER = fileURLToPath(new URL('./driver-helper.js', import.meta.url));

/** Why privileged tests cannot run here, or undefined when they can. */
export function privilegedSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: creates network namespaces (run the tests as uid 0)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    execFileSync('bridge', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (ip and bridge)';
  }
  return undefined;
}

export interface LabNode {
  readonly ipv4: string;
  readonly ipv6?: string;
}

const live = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test dies before its finally: never leave namespaces behind.
  process.once('exit', () => {
    for (const ns of live) {
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  });
}

export class NetnsLab {
  readonly prefix: string;
  readonly #names = new Map<string, string>();

  private constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Two namespaces joined by a veth pair called `eth0` on both sides (the nodes' parent NIC). */
  static async pair(tag: string, a: [string, LabNode], b: [string, LabNode]): Promise<NetnsLab> {
    installExitHook();
    const lab = new NetnsLab(`sl-dp-${tag}-${randomBytes(3).toString('hex')}`);
    try {
      for (const [node] of [a, b]) await lab.#add(node);
      await execa('ip', ['-n', lab.ns(a[0]), 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lab.ns(b[0])]);
      for (const [node, addr] of [a, b]) {
        const lines = ['link set lo up', `addr add ${addr.ipv4}/24 dev eth0`, ...(addr.ipv6 ? [`addr add ${addr.ipv6}/64 dev eth0 nodad`] : []), 'link set eth0 up'];
        await execa('ip', ['-n', lab.ns(node), '-batch', '-'], { input: lines.join('\n') + '\n' });
      }
      return lab;
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  ns(node: string): string {
    const name = this.#names.get(node);
    if (!name) throw new Error(`no namespace for node ${node}`);
    return name;
  }

  /** Runs `ip ARGS` inside the node's namespace. */
  async ip(node: string, args: readonly string[]): Promise<string> {
    return (await execa('ip', ['-n', this.ns(node), ...args])).stdout;
  }

  async ipJson<T = Record<string, unknown>>(node: string, args: readonly string[]): Promise<T[]> {
    const out = await this.ip(node, ['-json', ...args]);
    return out.trim() === '' ? [] : (JSON.parse(out) as T[]);
  }

  /**
   * Waits until no IPv6 address in the node's namespace is tentative. A link that comes up gets a
   * link-local address whose duplicate address detection ends a second or two later, and the
   * address and its local route change once more then; tests that compare or count kernel state
   * start after that.
   */
  async settleAddresses(node: string, timeoutMs = 10_000): Promise<void> {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(100)) {
      if ((await this.ip(node, ['-6', 'address', 'show', 'tentative'])).trim() === '') return;
    }
    throw new Error(`IPv6 addresses in ${this.ns(node)} still tentative after ${timeoutMs} ms`);
  }

  /** Runs a shell script inside the node's namespace. */
  async sh(node: string, script: string): Promise<string> {
    return (await execa('ip', ['netns', 'exec', this.ns(node), 'sh', '-ec', script])).stdout;
  }

  /** Runs driver code inside the namespace: a fresh Node process, hence fresh driver instances. */
  async helper<T = HelperOutput>(node: string, request: object): Promise<T> {
    const r = await execa('ip', ['netns', 'exec', this.ns(node), process.execPath, HELPER], { input: JSON.stringify(request), reject: false });
    if (r.exitCode !== 0) throw new Error(`driver helper failed in ${this.ns(node)}: ${r.stderr || r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  async destroy(): Promise<void> {
    for (const ns of this.#names.values()) {
      await execa('ip', ['netns', 'delete', ns], { reject: false });
      live.delete(ns);
    }
    this.#names.clear();
  }

  async #add(node: string): Promise<void> {
    const name = `${this.prefix}-${node}`.slice(0, 60);
    await execa('ip', ['netns', 'add', name]);
    live.add(name);
    this.#names.set(node, name);
  }
}

export interface HelperOutput {
  readonly results: unknown[];
  readonly calls: { readonly call: string; readonly args: unknown }[];
}

/** Runs `fn` with a fresh lab and always deletes it, also when `fn` throws. */
export async function withLab<T>(tag: string, a: [string, LabNode], b: [string, LabNode], fn: (lab: NetnsLab) => Promise<T>): Promise<T> {
  const lab = await NetnsLab.pair(tag, a, b);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}
