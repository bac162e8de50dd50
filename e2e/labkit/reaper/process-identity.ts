/** A process named by pid and start time: a pid alone may have been recycled by the time it is used. */
import { signalGroup, startTicks } from '../daemons.js';

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat. */
  startTicks: string;
}

export async function identityOf(pid: number): Promise<ProcessIdentity> {
  const ticks = await startTicks(pid);
  if (ticks === null) throw new Error(`process ${pid} is gone`);
  return { pid, startTicks: ticks };
}

/** False once the process has exited (or is a zombie), also when its pid now names another process. */
export async function isAlive(p: ProcessIdentity): Promise<boolean> {
  return (await startTicks(p.pid)) === p.startTicks;
}

export function formatIdentity(p: ProcessIdentity): string {
  return `${p.pid}:${p.startTicks}`;
}

export function parseIdentity(text: string): ProcessIdentity {
  const m = /^([1-9][0-9]*):([0-9]+)$/.exec(text);
  if (!m) throw new Error(`process identity ${JSON.stringify(text)} must be PID:STARTTICKS`);
  return { pid: Number(m[1]), startTicks: m[2]! };
}

export function sameIdentity(a: ProcessIdentity | undefined, b: ProcessIdentity): boolean {
  return a?.pid === b.pid && a.startTicks === b.startTicks;
}

/** SIGKILLs the process group `leader` leads, unless the leader is gone (its pid may now be another's). */
export async function killGroupOf(leader: ProcessIdentity): Promise<boolean> {
  if (!(await isAlive(leader))) return false;
  signalGroup(leader.pid, 'SIGKILL');
  return true;
}
