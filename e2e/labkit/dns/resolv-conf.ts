/**
 * Each lab namespace's resolver, the way `ip netns exec` provides one: it bind-mounts
 * /etc/netns/<netns>/resolv.conf over /etc/resolv.conf for the command it runs (so `lab exec`, curl,
 * getent and every daemon started with `ip netns exec` read it). The root namespace's
 * /etc/resolv.conf is never touched; a namespace's directory goes when the namespace goes.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { upstreamDns } from '../addressing.js';
import type { LabState, PodState } from '../state.js';

export const NETNS_ETC = '/etc/netns';
export const CLUSTER_DOMAIN = 'cluster.local';
/** What the kubelet writes for dnsPolicy ClusterFirst: cluster names are tried first, as in every cluster. */
const CLUSTER_FIRST_OPTIONS = ['ndots:5'];

export function resolvConfText(nameservers: readonly string[], search: readonly string[] = [], options: readonly string[] = []): string {
  return (
    [
      ...(search.length > 0 ? [`search ${search.join(' ')}`] : []),
      ...nameservers.map((ns) => `nameserver ${ns}`),
      ...(options.length > 0 ? [`options ${options.join(' ')}`] : []),
    ].join('\n') + '\n'
  );
}

/** Nodes and the lab's own hosts ask the external DNS server directly, as a host asks its site's resolver. */
export function hostResolvConf(state: LabState): string {
  const up = upstreamDns();
  return resolvConfText(state.ipv6 ? [up.v4, up.v6] : [up.v4]);
}

/** The cluster DNS pod of the lab (`up --kube-dns`), once it exists. */
export function kubeDnsPod(state: LabState): PodState | undefined {
  const ref = state.dns?.kubeDns;
  return ref ? state.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name) : undefined;
}

/**
 * A pod asks the cluster DNS pod, with the kubelet's search path (ClusterFirst); the DNS pod itself,
 * and every pod of a lab without one, ask the external server (dnsPolicy Default).
 */
export function podResolvConf(state: LabState, pod: Pick<PodState, 'namespace' | 'name'>): string {
  const dns = kubeDnsPod(state);
  if (!dns || (dns.namespace === pod.namespace && dns.name === pod.name)) return hostResolvConf(state);
  const search = [`${pod.namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
  return resolvConfText(dns.ips, search, CLUSTER_FIRST_OPTIONS);
}

export async function writeResolvConf(netns: string, text: string): Promise<void> {
  const dir = join(NETNS_ETC, netns);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'resolv.conf'), text);
}

/** Removes the namespaces' /etc/netns directories; missing ones are ignored. */
export async function removeNetnsEtc(names: readonly string[]): Promise<void> {
  await Promise.all(names.map((n) => (n && !n.includes('/') ? rm(join(NETNS_ETC, n), { recursive: true, force: true }) : Promise.resolve())));
}

/** /etc/netns directories whose name starts with `prefix` (a lab's, found without its state). */
export async function netnsEtcDirs(prefix: string): Promise<string[]> {
  const names = await readdir(NETNS_ETC).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix));
}
