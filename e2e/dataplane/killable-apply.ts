/**
 * `sluice apply` in a lab node's namespace as a process group of its own, SIGKILLed (the whole
 * group, as a container runtime kills a pod) at a chosen moment: a time after it was started, or a
 * time after its apply began. The apply begins when the CLI starts its first child process (the
 * first iproute2 read runs alongside the nft load), seen in /proc/PID/task/PID/children.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SLUICE_MAIN } from './sluice-cli.js';

export type KillAt = { readonly afterSpawnMs: number } | { readonly afterWorkMs: number };

export interface ApplyRun {
  /** The apply exited by itself (no signal). */
  readonly finished: boolean;
  readonly exitCode: number | null;
  /** From spawn to the apply's first child process; undefined when it never started one. */
  readonly workAtMs?: number;
  readonly totalMs: number;
}

/** Every run is bounded: a process still alive this long after spawn is killed and reported. */
const RUN_TIMEOUT_MS = 60_000;
const POLL_MS = 2;

async function hasChildren(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim() !== '';
  } catch {
    return false; // exited
  }
}

export class KillableApplies {
  readonly #live = new Set<ChildProcess>();

  /** Runs `sluice apply --plan FILE --no-announce` in netns; kills it at `killAt` unless it exited first. */
  async run(netns: string, planFile: string, killAt?: KillAt): Promise<ApplyRun> {
    const argv = ['netns', 'exec', netns, process.execPath, SLUICE_MAIN, 'apply', '--plan', planFile, '-o', 'json', '--no-announce'];
    const started = Date.now();
    const child = spawn('ip', argv, { detached: true, stdio: 'ignore' });
    this.#live.add(child);
    let done = false;
    child.once('exit', () => (done = true));
    let workAt: number | undefined;
    const due = () => {
      if (!killAt) return Date.now() - started > RUN_TIMEOUT_MS;
      if ('afterSpawnMs' in killAt) return Date.now() - started >= killAt.afterSpawnMs;
      return workAt !== undefined && Date.now() - workAt >= killAt.afterWorkMs;
    };
    try {
      while (!done && !due() && Date.now() - started < RUN_TIMEOUT_MS) {
        if (workAt === undefined && (await hasChildren(child.pid!))) workAt = Date.now();
        await sleep(POLL_MS);
      }
      if (!done) this.#kill(child);
      while (!done && Date.now() - started < RUN_TIMEOUT_MS + 10_000) await sleep(POLL_MS);
      if (!done) throw new Error(`sluice apply in ${netns} did not exit after SIGKILL`);
    } finally {
      if (done) this.#live.delete(child);
    }
    return { finished: child.signalCode === null, exitCode: child.exitCode, ...(workAt !== undefined ? { workAtMs: workAt - started } : {}), totalMs: Date.now() - started };
  }

  /** Kills every run still alive (cleanup after a failed test). */
  killAll(): void {
    for (const child of this.#live) this.#kill(child);
  }

  #kill(child: ChildProcess): void {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
}
