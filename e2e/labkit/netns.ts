import { removeNetnsEtc } from './dns/resolv-conf.js';
import { ipBatch, run } from './run.js';

/** Names of existing network namespaces that start with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  const r = await run(['ip', '-json', 'netns', 'list'], { allowFailure: true });
  const out = r.stdout.trim();
  if (r.exitCode !== 0 || out === '') return [];
  const rows = JSON.parse(out) as Array<{ name: string }>;
  return rows.map((row) => row.name).filter((n) => n.startsWith(prefix));
}

export async function addNetns(names: readonly string[]): Promise<void> {
  if (names.length > 0)
    await ipBatch(
      undefined,
      names.map((n) => `netns add ${n}`),
    );
}

/** Deletes namespaces and their /etc/netns files; missing ones are ignored. Devices inside go with them (veth peers too). */
export async function deleteNetns(names: readonly string[]): Promise<void> {
  if (names.length > 0)
    await ipBatch(
      undefined,
      names.map((n) => `netns delete ${n}`),
      true,
    );
  await removeNetnsEtc(names);
}

/** PIDs of processes living in a namespace (`ip netns pids`); empty if it does not exist. */
export async function netnsPids(name: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', name], { allowFailure: true });
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0);
}

export interface Sysctl {
  key: string;
  value: string;
  /** Skip the key when this kernel (namespace) does not have it, e.g. bridge-nf-call-* without br_netfilter. */
  optional?: boolean;
}

/** Writes sysctls inside a namespace; /proc/sys/net is per namespace, so this never touches the root's. */
export async function setSysctls(netns: string, sysctls: readonly Sysctl[]): Promise<void> {
  if (sysctls.length === 0) return;
  const lines = sysctls.map(({ key, value, optional }) => {
    const path = `/proc/sys/${key.replaceAll('.', '/')}`;
    return optional ? `[ ! -e ${path} ] || echo ${value} > ${path}` : `echo ${value} > ${path}`;
  });
  await run(['sh', '-ec', lines.join('\n')], { netns });
}
