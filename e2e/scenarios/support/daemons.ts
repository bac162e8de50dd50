/** Whether the lab's processes survived: same pid and start time means no crash and no restart. */
import { isRunning } from '../../labkit/daemons.js';
import type { Lab } from '../../labkit/lab.js';

export interface DaemonIdentity {
  readonly role: string;
  readonly pid: number | null;
  readonly startTicks: string | null;
}

/** Every recorded daemon whose role starts with one of `prefixes` (e.g. 'agent:'). */
export async function daemonIdentities(lab: Lab, prefixes: readonly string[]): Promise<DaemonIdentity[]> {
  const s = await lab.state();
  return s.daemons.filter((d) => prefixes.some((p) => d.role.startsWith(p))).map((d) => ({ role: d.role, pid: d.pid, startTicks: d.startTicks }));
}

/** The daemons among `before` that died or were restarted since, with what happened to each. */
export async function diedOrRestarted(lab: Lab, before: readonly DaemonIdentity[]): Promise<string[]> {
  const s = await lab.state();
  const problems: string[] = [];
  for (const b of before) {
    const d = s.daemons.find((x) => x.role === b.role);
    if (!d) problems.push(`${b.role}: no longer recorded`);
    else if (d.pid !== b.pid || d.startTicks !== b.startTicks) problems.push(`${b.role}: restarted (pid ${b.pid} → ${d.pid})`);
    else if (!(await isRunning(d))) problems.push(`${b.role}: pid ${d.pid} is gone (crashed?)`);
  }
  return problems;
}
