import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonState } from './state.js';

export interface DaemonSpec {
  role: string;
  netns: string;
  argv: string[];
  env?: Record<string, string>;
  /** Wait until the log shows this text; without it start() returns once the process is spawned. */
  readyLogLine?: string;
  readyTimeoutMs?: number;
}

export function daemonState(spec: DaemonSpec, log: string): DaemonState {
  return {
    role: spec.role,
    netns: spec.netns,
    argv: [...spec.argv],
    env: { ...spec.env },
    readyLogLine: spec.readyLogLine ?? null,
    readyTimeoutMs: spec.readyTimeoutMs ?? 10_000,
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
  const child = spawn('ip', ['netns', 'exec', d.netns, ...d.argv], {
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
  const deadline = Date.now() + d.readyTimeoutMs;
  for (;;) {
    const out = (await readFile(d.log)).subarray(offset).toString('utf8');
    if (out.includes(d.readyLogLine)) return;
    const why = exited ? `exited (${exited})` : Date.now() > deadline ? `not ready after ${d.readyTimeoutMs} ms` : '';
    if (why) {
      await stopDaemon(d);
      throw new Error(`daemon ${d.role} ${why}; log ${d.log}:\n${out.slice(-2000)}`);
    }
    await sleep(20);
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. Never signals a PID that was recycled. */
export async function stopDaemon(d: DaemonState, graceMs = 3_000): Promise<void> {
  if (d.pid !== null && (await isRunning(d))) {
    const pid = d.pid;
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while ((await startTicks(pid)) === d.startTicks && Date.now() < deadline) await sleep(20);
    if ((await startTicks(pid)) === d.startTicks) signalGroup(pid, 'SIGKILL');
  }
  d.pid = null;
  d.startTicks = null;
}

export async function isRunning(d: DaemonState): Promise<boolean> {
  return d.pid !== null && d.startTicks !== null && (await startTicks(d.pid)) === d.startTicks;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
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
