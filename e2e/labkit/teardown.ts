import { setTimeout as sleep } from 'node:timers/promises';
import { stopDaemon } from './daemons.js';
import { netnsEtcDirs, removeNetnsEtc } from './dns/resolv-conf.js';
import { deleteNetns, listNetns, netnsPids } from './netns.js';
import type { DaemonState } from './state.js';

const GRACE_MS = 2_000;

/**
 * Ends every process living in the namespaces (SIGTERM, SIGKILL after a grace period), then deletes them.
 * A namespace with a live process would outlive `ip netns delete`, keeping its veths and routes.
 * `hard`: SIGKILL at once, and again at every look until none is left (bounded): nobody waits for goodbyes.
 */
export async function removeNetns(names: readonly string[], opts: { hard?: boolean } = {}): Promise<void> {
  const pidsOf = async () => (await Promise.all(names.map(netnsPids))).flat();
  let pids = await pidsOf();
  signal(pids, opts.hard ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (pids.length > 0 && Date.now() < deadline) {
    await sleep(20);
    pids = await pidsOf();
    // A process may have forked since the last look.
    if (opts.hard) signal(pids, 'SIGKILL');
  }
  signal(pids, 'SIGKILL');
  await deleteNetns(names);
}

/**
 * Removes everything a lab may have left, found by name prefix rather than from state, so it also
 * works after a crash half-way through `up`. Idempotent. `hard`: SIGKILL everything at once.
 */
export async function teardownLab(prefix: string, daemons: readonly DaemonState[], opts: { hard?: boolean } = {}): Promise<string[]> {
  await Promise.all(daemons.map((d) => stopDaemon(d, { hard: opts.hard ?? false })));
  const names = await listNetns(prefix);
  await removeNetns(names, { hard: opts.hard ?? false });
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
