import { setTimeout as sleep } from 'node:timers/promises';
import { stopDaemon } from './daemons.js';
import { netnsEtcDirs, removeNetnsEtc } from './dns/resolv-conf.js';
import { deleteNetns, listNetns, netnsPids } from './netns.js';
import type { DaemonState } from './state.js';

/**
 * Ends every process living in the namespaces (SIGTERM, SIGKILL after `graceMs`), then deletes them.
 * A namespace with a live process would outlive `ip netns delete`, keeping its veths and routes.
 */
export async function removeNetns(names: readonly string[], graceMs = 2_000): Promise<void> {
  const pidsOf = async () => (await Promise.all(names.map(netnsPids))).flat();
  let pids = await pidsOf();
  signal(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.length > 0 && Date.now() < deadline) {
    await sleep(20);
    pids = await pidsOf();
  }
  signal(pids, 'SIGKILL');
  await deleteNetns(names);
}

/**
 * Removes everything a lab may have left, found by name prefix rather than from state, so it also
 * works after a crash half-way through `up`. Idempotent.
 */
export async function teardownLab(prefix: string, daemons: readonly DaemonState[]): Promise<string[]> {
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  const names = await listNetns(prefix);
  await removeNetns(names);
  // A crash between writing a namespace's resolv.conf and creating the namespace leaves the file alone.
  await removeNetnsEtc(await netnsEtcDirs(prefix));
  const left = [...(await listNetns(prefix)), ...(await netnsEtcDirs(prefix)).map((n) => `/etc/netns/${n}`)];
  if (left.length > 0) throw new Error(`namespaces still present after down: ${left.join(', ')}`);
  return names;
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}
