/**
 * The lab's stand-in for Service objects: a name, a type, one port and one backend pod. Addresses are
 * allocated here, the way the API server and a load-balancer controller would. IPv4 only. Pure.
 */
import { lanHost, SERVICE_V4_CIDR } from '../addressing.js';
import type { LabState, PodState } from '../state.js';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];
export type ServiceProtocol = 'tcp' | 'udp';

export interface ServiceSpec {
  namespace: string;
  name: string;
  type: ServiceType;
  /** `namespace/name` of the pod that answers; the lab runs its echo server there. */
  backend: string;
  protocol?: ServiceProtocol;
  /** Default 80. */
  port?: number;
  /** Default: the echo server's port for the protocol (http 8080, udp 9001). */
  targetPort?: number;
  /** spec.externalIPs: addresses from the LAN's service range (`info.services.addressRange`). */
  externalIPs?: string[];
}

export interface ServiceState {
  namespace: string;
  name: string;
  type: ServiceType;
  protocol: ServiceProtocol;
  port: number;
  targetPort: number;
  backend: { namespace: string; name: string; ip: string };
  clusterIP: string;
  /** NodePort and LoadBalancer services. */
  nodePort: number | null;
  /** status.loadBalancer.ingress[0].ip of a LoadBalancer service. */
  loadBalancerIP: string | null;
  externalIPs: string[];
}

/** LAN host parts for LoadBalancer and external IPs: outside the EIP range (.100–.199). */
export const SERVICE_LAN_FIRST = 200;
export const SERVICE_LAN_LAST = 254;
const CLUSTER_IP_BASE = 10; // 10.96.0.10 onwards
const NODE_PORT_BASE = 30080;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const serviceLanRange = `${lanHost(SERVICE_LAN_FIRST).v4}-${lanHost(SERVICE_LAN_LAST).v4}`;
const lanServiceIps = Array.from({ length: SERVICE_LAN_LAST - SERVICE_LAN_FIRST + 1 }, (_, i) => lanHost(SERVICE_LAN_FIRST + i).v4);

export function servicesOf(state: LabState): ServiceState[] {
  return state.services ?? [];
}

/** A new service's state: checked, with its addresses allocated. Throws with a clear message. */
export function planService(state: LabState, spec: ServiceSpec, echoPorts: { http: number; udp: number }): ServiceState {
  const existing = servicesOf(state);
  for (const [what, v] of [
    ['namespace', spec.namespace],
    ['name', spec.name],
  ] as const) {
    if (!DNS_LABEL.test(v)) throw new Error(`service ${what} ${JSON.stringify(v)} is not a DNS label`);
  }
  if (!(SERVICE_TYPES as readonly string[]).includes(spec.type)) throw new Error(`service type must be one of ${SERVICE_TYPES.join(', ')}, got ${JSON.stringify(spec.type)}`);
  if (existing.some((s) => s.namespace === spec.namespace && s.name === spec.name)) throw new Error(`service ${spec.namespace}/${spec.name} already exists`);
  const protocol = spec.protocol ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') throw new Error(`service protocol must be tcp or udp, got ${JSON.stringify(protocol)}`);
  const port = checkPort('port', spec.port ?? 80);
  const targetPort = checkPort('targetPort', spec.targetPort ?? (protocol === 'tcp' ? echoPorts.http : echoPorts.udp));
  const backend = backendPod(state, spec.backend);
  const taken = new Set(existing.flatMap((s) => [...s.externalIPs, ...(s.loadBalancerIP ? [s.loadBalancerIP] : [])]));
  const externalIPs = [...new Set(spec.externalIPs ?? [])];
  for (const ip of externalIPs) {
    if (!lanServiceIps.includes(ip)) throw new Error(`external IP ${ip} is outside the lab's service range ${serviceLanRange}`);
    if (taken.has(ip)) throw new Error(`external IP ${ip} is already used by another service`);
    taken.add(ip);
  }
  const seq = existing.length;
  const withNodePort = spec.type !== 'ClusterIP';
  let loadBalancerIP: string | null = null;
  if (spec.type === 'LoadBalancer') {
    loadBalancerIP = lanServiceIps.find((ip) => !taken.has(ip)) ?? null;
    if (loadBalancerIP === null) throw new Error(`no free LoadBalancer address left in ${serviceLanRange}`);
  }
  return {
    namespace: spec.namespace,
    name: spec.name,
    type: spec.type,
    protocol,
    port,
    targetPort,
    backend: { namespace: backend.namespace, name: backend.name, ip: backend.ips[0]! },
    clusterIP: clusterIp(seq),
    nodePort: withNodePort ? NODE_PORT_BASE + seq : null,
    loadBalancerIP,
    externalIPs,
  };
}

function clusterIp(seq: number): string {
  const n = CLUSTER_IP_BASE + seq;
  if (n > 250) throw new Error('the lab allocates at most 240 services');
  const [base] = SERVICE_V4_CIDR.split('/') as [string];
  return base.replace(/\.0$/, `.${n}`);
}

function checkPort(what: string, p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`service ${what} must be 1..65535, got ${p}`);
  return p;
}

function backendPod(state: LabState, ref: string): PodState {
  const [namespace, name, extra] = ref.split('/');
  const pod = extra === undefined ? state.pods.find((p) => p.namespace === namespace && p.name === name) : undefined;
  if (!pod) throw new Error(`service backend ${JSON.stringify(ref)} is not a pod of lab ${state.name} (NAMESPACE/NAME)`);
  return pod;
}

/** Addresses from outside the cluster that reach the service: LoadBalancer IP and external IPs. */
export function externalAddresses(s: ServiceState): string[] {
  return [...(s.loadBalancerIP ? [s.loadBalancerIP] : []), ...s.externalIPs];
}
