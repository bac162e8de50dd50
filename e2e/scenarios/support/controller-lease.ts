/**
 * Which controller replica holds the Lease, read from each replica's /metrics (`sluice_leader`)
 * in the control namespace where the replicas run. A replica that does not answer (stopped, or
 * starting) holds nothing.
 */
import { controllerMetricsUrl, controllerRoles } from '../../labkit/cluster/controller-daemon.js';
import type { Lab } from '../../labkit/lab.js';

const READ_TIMEOUT_MS = 10_000;

/** The roles (`controller:1`, …) of the replicas that say they hold the Lease. */
export async function controllerLeaders(lab: Lab): Promise<string[]> {
  const leading = await Promise.all(
    controllerRoles().map(async (role, i) => {
      const r = await lab.exec({ host: 'control' }, ['curl', '-sS', '--max-time', '5', `${controllerMetricsUrl(i + 1)}/metrics`], {
        allowFailure: true,
        timeoutMs: READ_TIMEOUT_MS,
      });
      return r.exitCode === 0 && r.stdout.split('\n').includes('sluice_leader 1') ? role : undefined;
    }),
  );
  return leading.filter((role): role is string => role !== undefined);
}
