import { availableParallelism, loadavg } from 'node:os';

/**
 * A start-up deadline stretched by how busy the machine is: the lab's daemons are Node processes
 * whose module loading alone takes tens of seconds when other work keeps every core busy, and a
 * slow start is not what any lab test checks. The factor is the load per core, at least 1 and at
 * most `cap`.
 */
export function stretchedByLoad(ms: number, cap = 8): number {
  const perCore = loadavg()[0]! / availableParallelism();
  return Math.round(ms * Math.min(cap, Math.max(1, perCore)));
}
