import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const NAMED_NETNS = '/run/netns';

/**
 * The name of the named network namespace (`ip netns add`) this process runs in, if any; what
 * `ip netns identify` prints. Lab entry points refuse to run outside their own namespace, so a
 * mistaken manual run can never write the host's nftables.
 */
async function currentNetnsName(): Promise<string | undefined> {
  try {
    const self = await stat('/proc/self/ns/net');
    for (const name of await readdir(NAMED_NETNS)) {
      const s = await stat(join(NAMED_NETNS, name)).catch(() => undefined);
      if (s && s.dev === self.dev && s.ino === self.ino) return name;
    }
  } catch {
    // no /run/netns: not in a named namespace
  }
  return undefined;
}

/** True when this process runs in a named namespace whose name starts with `prefix`. */
export async function inLabNetns(prefix: string): Promise<boolean> {
  return (await currentNetnsName())?.startsWith(prefix) ?? false;
}
