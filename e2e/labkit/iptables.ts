/**
 * Loads iptables rules into a lab namespace the way the components the lab imitates do: one
 * `iptables-restore --noflush` per family (chains declared in the input are flushed and refilled,
 * others are left alone), with either backend. Never runs outside a lab namespace.
 */
import { existsSync } from 'node:fs';
import { run } from './run.js';

export type IptablesBackend = 'nft' | 'legacy';
export type IpFamily = 4 | 6;

const SBIN = '/usr/sbin';

export function restoreCommand(backend: IptablesBackend, family: IpFamily): string {
  return `${SBIN}/${family === 4 ? 'iptables' : 'ip6tables'}-${backend}-restore`;
}

/** Why iptables rules cannot be loaded here, or undefined. */
export function iptablesMissing(backend: IptablesBackend): string | undefined {
  const cmd = restoreCommand(backend, 4);
  return existsSync(cmd) ? undefined : `${cmd} does not exist (install Debian's iptables package: .ci/install-deps)`;
}

/** `-w`: the xtables lock is one file for every namespace, so parallel loads wait for each other. */
export async function iptablesRestore(netns: string, backend: IptablesBackend, family: IpFamily, rules: string): Promise<void> {
  const missing = iptablesMissing(backend);
  if (missing) throw new Error(missing);
  await run([restoreCommand(backend, family), '-w', '5', '--noflush'], { netns, input: rules });
}

/** `ipset restore` for Calico's pool sets (iptables flavours only). */
export async function ipsetRestore(netns: string, lines: readonly string[]): Promise<void> {
  if (!existsSync(`${SBIN}/ipset`)) throw new Error(`${SBIN}/ipset does not exist (install Debian's ipset package: .ci/install-deps)`);
  await run([`${SBIN}/ipset`, 'restore', '-exist'], { netns, input: lines.join('\n') + '\n' });
}
