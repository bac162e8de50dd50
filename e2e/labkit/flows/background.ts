/**
 * A measuring process in a lab namespace (tcpdump, arping, a prober): in a process group of its
 * own, with a lifetime bound (`timeout`), so it ends with the test even when the test cannot stop
 * it; the lab's teardown also ends every process in its namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** The longest any measuring process lives unless told otherwise. */
export const DEFAULT_MAX_LIFETIME_S = 900;

export interface BackgroundOptions {
  /** SIGKILLed after this many seconds, whatever happens to the test. */
  maxLifetimeS?: number;
  /** stdin as a pipe: the process may stop when it closes. */
  stdin?: boolean;
  onLine?: (line: string) => void;
}

export class Background {
  private stderrTail = '';
  private readonly closed: Promise<unknown>;

  private constructor(
    readonly child: ChildProcess,
    onLine: ((line: string) => void) | undefined,
  ) {
    this.closed = once(child, 'close');
    child.stderr!.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    if (onLine) createInterface({ input: child.stdout! }).on('line', onLine);
    else child.stdout!.resume();
    child.stdin?.on('error', () => undefined);
  }

  static start(netns: string, argv: readonly string[], opts: BackgroundOptions = {}): Background {
    const life = String(opts.maxLifetimeS ?? DEFAULT_MAX_LIFETIME_S);
    const child = spawn('timeout', ['-s', 'KILL', life, 'ip', 'netns', 'exec', netns, ...argv], {
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new Background(child, opts.onLine);
  }

  get stderr(): string {
    return this.stderrTail;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once stderr shows `text`; throws when the process ends first or time runs out. */
  async waitStderr(text: string, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderrTail.includes(text)) {
      if (!this.running) throw new Error(`${what} exited: ${this.stderrTail.trim()}`);
      if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms: ${this.stderrTail.trim()}`);
      await sleep(20);
    }
  }

  /** Closes stdin and waits up to graceMs for the process to end by itself; then kills its group. */
  async endInput(graceMs: number): Promise<void> {
    this.child.stdin?.end();
    const deadline = Date.now() + graceMs;
    while (this.running && Date.now() < deadline) await sleep(20);
    await this.kill('SIGKILL');
  }

  /** Signals the whole group (SIGINT lets tcpdump flush) and waits until its output is read to the end. */
  async kill(sig: NodeJS.Signals = 'SIGINT', graceMs = 2_000): Promise<void> {
    if (this.running) {
      signalGroup(this.child.pid!, sig);
      const deadline = Date.now() + graceMs;
      while (this.running && Date.now() < deadline) await sleep(20);
      if (this.running) signalGroup(this.child.pid!, 'SIGKILL');
    }
    await this.closed;
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // gone already
  }
}
