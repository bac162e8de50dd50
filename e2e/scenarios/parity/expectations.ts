/**
 * What a spidernet user expects after a write (spidernet's own e2e suite): status within 5 s of a
 * change, the data path within 2 s. A probe that starts inside the window counts.
 *
 * Status comes from one controller pass and holds those 5 s even at a load of 30 on two cores. The
 * data path waits for `ip` processes on the nodes, which cost ten times as much on a machine that
 * loaded (an apply of links and routes took 3 s there): its window is 2 s on a quiet machine and
 * grows with the load per core. `bench/convergence` prints the figures themselves.
 */
import { stretchedByLoad } from '../../labkit/load.js';

export const STATUS_WITHIN_MS = 5_000;

/** `ms` on a quiet machine, times the load average per core when that is above 1 (no cap). */
export function underLoad(ms: number): number {
  return stretchedByLoad(ms, Number.POSITIVE_INFINITY);
}

export const dataPathWithinMs = (): number => underLoad(2_000);
/** A hand change to the tunnel device is repaired well before the 60 s resync (on a quiet machine). */
export const repairWithinMs = (): number => underLoad(5_000);
