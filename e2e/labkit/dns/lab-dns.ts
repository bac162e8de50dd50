/**
 * The lab's DNS as lab parts: the external authoritative server (served by the echo daemon in the
 * external host's namespace, on the internet address `upstreamDns()`), the cluster DNS (a daemon in the
 * netns of the Pod kube-system/coredns, labelled k8s-app=kube-dns), and edits of the external zone.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { upstreamDns } from '../addressing.js';
import type { DaemonSpec } from '../daemons.js';
import { DNS_PORT, ECHO_ROLE, zoneFile } from '../echo-daemon.js';
import type { LabContext } from '../plugins.js';
import type { LabState, PodState } from '../state.js';
import { DEFAULT_TTL } from './default-zone.js';
import { CLUSTER_DOMAIN } from './resolv-conf.js';
import { normalizeName, parseZone, zoneRecord, type Zone, type ZoneRecord } from './zone.js';

/** The daemon that serves the external DNS (and the echo). */
export const UPSTREAM_DNS_ROLE = ECHO_ROLE;
export const KUBE_DNS_ROLE = 'dns:kube-dns';
/** As kubeadm deploys it: the Deployment's pods carry k8s-app=kube-dns (what NetworkPolicies select). */
export const KUBE_DNS_POD = { namespace: 'kube-system', name: 'coredns', labels: { 'k8s-app': 'kube-dns' } } as const;
const ZONE_LOADED_LINE = '"msg":"zone loaded"';
const SERVER_SCRIPT = fileURLToPath(new URL('./dns-server.js', import.meta.url));
export const DNS_QUERY_SCRIPT = fileURLToPath(new URL('./dns-query.js', import.meta.url));

/** The cluster DNS in its pod: cluster.local is answered there, the rest forwarded to the external server. */
export function kubeDnsDaemon(pod: PodState): DaemonSpec {
  return {
    role: KUBE_DNS_ROLE,
    netns: pod.netns,
    argv: [process.execPath, SERVER_SCRIPT, `--listen=${pod.ips.join(',')}`, `--port=${DNS_PORT}`, `--forward=${upstreamDns().v4}`, `--local-domain=${CLUSTER_DOMAIN}`],
    readyLogLine: '"ready":true',
    readyTimeoutMs: 10_000,
  };
}

export async function writeZone(file: string, zone: Zone): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(zone, null, 2) + '\n');
  await rename(tmp, file);
}

export async function readZone(s: LabState): Promise<Zone> {
  return parseZone(await readFile(zoneFile(s), 'utf8'));
}

export interface DnsRecordInput {
  addresses?: string[];
  ttl?: number;
  rotate?: boolean;
  cname?: string;
  /** Each answer carries only this many of the addresses. */
  perAnswer?: number;
}

/** Sets (or replaces) a name's answer; returns once the server answers with it. */
export async function setDnsRecord(s: LabState, ctx: LabContext, fqdn: string, input: DnsRecordInput): Promise<ZoneRecord> {
  const name = normalizeName(fqdn, { wildcard: true });
  const record = zoneRecord(input, DEFAULT_TTL);
  const zone = await readZone(s);
  zone.records[name] = record;
  await writeZone(zoneFile(s), zone);
  await ctx.signalDaemon(UPSTREAM_DNS_ROLE, 'SIGHUP', { waitForLogLine: ZONE_LOADED_LINE });
  return record;
}

/** Removes a name: from then on the server answers NXDOMAIN for it. */
export async function deleteDnsRecord(s: LabState, ctx: LabContext, fqdn: string): Promise<void> {
  const name = normalizeName(fqdn, { wildcard: true });
  const zone = await readZone(s);
  if (!(name in zone.records)) throw new Error(`the lab's DNS has no record for ${name}`);
  delete zone.records[name];
  await writeZone(zoneFile(s), zone);
  await ctx.signalDaemon(UPSTREAM_DNS_ROLE, 'SIGHUP', { waitForLogLine: ZONE_LOADED_LINE });
}
