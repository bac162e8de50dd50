import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stretchedByLoad } from './load.js';
import type { DaemonState } from './state.js';

export interface DaemonSpec {
  role: string;
  netns: string;
  argv: string[];
  env?: Record<string, string>;
  /** Wait until the log shows this text; without it start() returns once the process is spawned. */
  readyLogLine?: string;
  readyTimeoutMs?: number;
  /**
   * Enter only the network namespace (nsenter --net) instead of `ip netns exec`, which also gives the
   * process a private mount namespace: a namespace that process creates with `ip netns add` would
   * exist for it alone. Needed by daemons that create namespaces (the lab kubelet).
   */
  netnsOnly?: boolean;
}

export interface StopOptions {
  /** SIGTERM to SIGKILL (default 3 s). */
  graceMs?: number;
  /** SIGKILL at once: the process gets no chance to say goodbye. */
  hard?: boolean;
}

export function daemonState(spec: DaemonSpec, log: string): DaemonState {
  return {
    role: spec.role,
    netns: spec.netns,
    argv: [...spec.argv],
    env: { ...spec.env },
    readyLogLine: spec.readyLogLine ?? null,
    readyTimeoutMs: spec.readyTimeoutMs ?? 10_000,
    netnsOnly: spec.netnsOnly ?? false,
    log,
    pid: null,
    startTicks: null,
  };
}

/**
 * Starts the process in its namespace, detached into its own process group (so the CLI's Ctrl-C does not
 * reach it), output appended to its log. Fills in pid/startTicks. Throws, after killing it, if it exits
 * or does not log its ready line in time.
 */
export async function startDaemon(d: DaemonState): Promise<void> {
  if (await isRunning(d)) throw new Error(`daemon ${d.role} is already running (pid ${d.pid})`);
  await mkdir(dirname(d.log), { recursive: true });
  const offset = (await stat(d.log).catch(() => undefined))?.size ?? 0;
  const fd = openSync(d.log, 'a');
  let exited: string | undefined;
  const [cmd, ...args] = d.netnsOnly ? ['nsenter', `--net=/run/netns/${d.netns}`, '--', ...d.argv] : ['ip', 'netns', 'exec', d.netns, ...d.argv];
  const child = spawn(cmd!, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...d.env },
  });
  closeSync(fd);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  child.unref();
  d.pid = child.pid ?? null;
  d.startTicks = d.pid === null ? null : await startTicks(d.pid);
  if (d.readyLogLine === null) return;
  try {
    await waitForLog(d, offset, d.readyLogLine, stretchedByLoad(d.readyTimeoutMs), async () => exited);
  } catch (err) {
    await stopDaemon(d);
    throw err;
  }
}

/** Waits until the daemon's log shows `text` after byte `offset`; throws when it exits or time runs out. */
async function waitForLog(d: DaemonState, offset: number, text: string, timeoutMs: number, exited: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = (await readFile(d.log)).subarray(offset).toString('utf8');
    if (out.includes(text)) return;
    const gone = await exited();
    const why = gone ? `exited (${gone})` : Date.now() > deadline ? `did not log ${JSON.stringify(text)} within ${timeoutMs} ms` : '';
    if (why) throw new Error(`daemon ${d.role} ${why}; log ${d.log}:\n${out.slice(-2000)}`);
    await sleep(20);
  }
}

/**
 * Sends a signal to the daemon's process alone (e.g. a fault hook) and, with `waitForLogLine`, waits until
 * the daemon logs that it acted on it.
 */
export async function signalDaemon(d: DaemonState, sig: NodeJS.Signals, opts: { waitForLogLine?: string; timeoutMs?: number } = {}): Promise<void> {
  if (d.pid === null || !(await isRunning(d))) throw new Error(`daemon ${d.role} is not running`);
  const offset = (await stat(d.log).catch(() => undefined))?.size ?? 0;
  process.kill(d.pid, sig);
  if (opts.waitForLogLine === undefined) return;
  const ended = async () => ((await isRunning(d)) ? undefined : 'the process ended');
  await waitForLog(d, offset, opts.waitForLogLine, opts.timeoutMs ?? 10_000, ended);
}

/** SIGTERM to the process group, SIGKILL after the grace period. Never signals a PID that was recycled. */
export async function stopDaemon(d: DaemonState, opts: StopOptions = {}): Promise<void> {
  if (d.pid !== null && (await isRunning(d))) {
    const pid = d.pid;
    signalGroup(pid, opts.hard ? 'SIGKILL' : 'SIGTERM');
    const deadline = Date.now() + (opts.hard ? 1_000 : (opts.graceMs ?? 3_000));
    while ((await startTicks(pid)) === d.startTicks && Date.now() < deadline) await sleep(20);
    if ((await startTicks(pid)) === d.startTicks) signalGroup(pid, 'SIGKILL');
  }
  d.pid = null;
  d.startTicks = null;
}

export async function isRunning(d: DaemonState): Promise<boolean> {
  return d.pid !== null && d.startTicks !== null && (await startTicks(d.pid)) === d.startTicks;
}

/** Signals the process group led by `pid`, or the process alone when it leads none. */
export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Field 22 of /proc/PID/stat; null when the process is gone or a zombie. */
export async function startTicks(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields.length < 20 || fields[0] === 'Z') return null;
  return fields[19] ?? null;
}
