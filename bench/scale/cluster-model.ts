/**
 * The simulated cluster of bench/scale as plain wire objects, and what the controller must make of
 * it: which pods each policy selects. Pure: no I/O, so the oracle is unit-tested.
 *
 * Layout (all addresses stay inside the lab's ranges or are mere set elements):
 * - node i: `node-0000`…, InternalIP 198.18.(1 + i/256).(i%256) on one /16 LAN, podCIDR
 *   10.(64 + i/256).(i%256).0/24 (pod addresses are rule data only: nothing routes to them);
 * - the first `gatewayNodes` nodes carry `egress=a` or `egress=b` (alternating): gateways `gw-a`,
 *   `gw-b`, pools in 198.18.64.0/20 and 198.18.80.0/20, default EIPs;
 * - pod p: on node p % nodes (slot p / nodes), in namespace p / (pods / namespaces), label
 *   `app=a<p % 25>`; namespaces carry `team=t<j % 10>`;
 * - policies: 4 of 5 namespaced (podSelector, every tenth of them podSubnet), 1 of 5 cluster-wide
 *   (namespaceSelector by team, or none); allocator rr, default, or an explicit EIP; every fifth has
 *   a destSubnet; priorities 0–2.
 */
import { API_VERSION } from '../../lib/api/group.js';

export type Doc = Record<string, unknown>;

export interface ScaleShape {
  readonly nodes: number;
  readonly gatewayNodes: number;
  readonly pods: number;
  readonly namespaces: number;
  readonly policies: number;
}

export const FULL_SHAPE: ScaleShape = { nodes: 1000, gatewayNodes: 10, pods: 100_000, namespaces: 200, policies: 1000 };
export const APPS = 25;
const TEAMS = 10;
export const GATEWAYS = ['gw-a', 'gw-b'] as const;
const POOLS: Record<(typeof GATEWAYS)[number], { pool: string; defaultEip: string; explicitBase: string }> = {
  'gw-a': { pool: '198.18.64.0/20', defaultEip: '198.18.64.1', explicitBase: '198.18.79.' },
  'gw-b': { pool: '198.18.80.0/20', defaultEip: '198.18.80.1', explicitBase: '198.18.95.' },
};

export const nodeName = (i: number): string => `node-${String(i).padStart(4, '0')}`;
export const nodeIp = (i: number): string => `198.18.${1 + (i >> 8)}.${i & 255}`;
export const podCidr = (i: number): string => `10.${64 + (i >> 8)}.${i & 255}.0/24`;
export const namespaceName = (j: number): string => `ns-${String(j).padStart(3, '0')}`;
export const gatewayOfNode = (i: number): (typeof GATEWAYS)[number] => GATEWAYS[i % 2]!;

/** A pod's place: its node, its address on that node (slot + 1), its namespace and app. */
export interface PodPlace {
  readonly name: string;
  readonly namespace: string;
  readonly node: number;
  readonly ip: string;
  readonly app: string;
}

export function podPlace(shape: ScaleShape, p: number, generation = 0): PodPlace {
  const node = p % shape.nodes;
  const slot = Math.floor(p / shape.nodes);
  if (slot > 253) throw new Error(`pod ${p}: more than 254 pods on node ${node}`);
  const perNamespace = Math.ceil(shape.pods / shape.namespaces);
  return {
    name: generation === 0 ? `pod-${p}` : `pod-${p}-g${generation}`,
    namespace: namespaceName(Math.floor(p / perNamespace) % shape.namespaces),
    node,
    ip: `10.${64 + (node >> 8)}.${node & 255}.${slot + 1}`,
    app: `a${p % APPS}`,
  };
}

export function nodeDoc(i: number, ready = true): Doc {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': nodeName(i) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName(i), labels },
    spec: { podCIDRs: [podCidr(i)] },
    status: {
      addresses: [{ type: 'InternalIP', address: nodeIp(i) }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

export function gatewayNodeDoc(i: number, ready = true): Doc {
  const doc = nodeDoc(i, ready);
  ((doc.metadata as Doc).labels as Record<string, string>).egress = gatewayOfNode(i) === 'gw-a' ? 'a' : 'b';
  return doc;
}

export function namespaceDoc(j: number): Doc {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceName(j), labels: { team: `t${j % TEAMS}` } } };
}

export function podDoc(place: PodPlace): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: place.name, namespace: place.namespace, labels: { app: place.app } },
    spec: { nodeName: nodeName(place.node), containers: [{ name: 'c', image: 'bench' }] },
    status: { phase: 'Running', podIP: place.ip, podIPs: [{ ip: place.ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function gatewayDocs(): Doc[] {
  return GATEWAYS.map((name) => ({
    apiVersion: API_VERSION,
    kind: 'EgressGateway',
    metadata: { name },
    spec: {
      nodeSelector: { selector: { matchLabels: { egress: name === 'gw-a' ? 'a' : 'b' } } },
      ippools: { ipv4: [POOLS[name].pool], ipv4DefaultEIP: POOLS[name].defaultEip },
    },
  }));
}

/** What a policy selects, in the terms the oracle evaluates. */
export interface Selection {
  readonly cluster: boolean;
  readonly name: string;
  /** Namespaced: its namespace. Cluster: undefined. */
  readonly namespace?: string;
  /** Cluster: `team` label the namespaces must carry; undefined = every namespace. */
  readonly team?: string;
  readonly app?: string;
  readonly podSubnetNode?: number;
}

/** Policy q's selection (`variant` moves the podSelector, as an edit does). */
export function selectionOf(shape: ScaleShape, q: number, variant = 0): Selection {
  const app = `a${(Math.floor(q / shape.namespaces) + variant) % APPS}`;
  if (q % 5 === 4) {
    const name = `cp-${String(q).padStart(4, '0')}`;
    return { cluster: true, name, app, ...(q % 3 === 0 ? {} : { team: `t${q % TEAMS}` }) };
  }
  const namespace = namespaceName(q % shape.namespaces);
  const name = `p-${String(q).padStart(4, '0')}`;
  if (q % 10 === 3) {
    // the node that holds the namespace's first pod: the subnet selects that namespace's pods there
    const perNamespace = Math.ceil(shape.pods / shape.namespaces);
    const firstPod = (q % shape.namespaces) * perNamespace;
    return { cluster: false, name, namespace, podSubnetNode: (firstPod + variant) % shape.nodes };
  }
  return { cluster: false, name, namespace, app };
}

export const policyGateway = (q: number): (typeof GATEWAYS)[number] => GATEWAYS[q % 2]!;

export function policyDoc(shape: ScaleShape, q: number, variant = 0): Doc {
  const s = selectionOf(shape, q, variant);
  const gateway = policyGateway(q);
  const style = q % 3;
  const egressIP = style === 0 ? { allocatorPolicy: 'rr' } : style === 1 ? { allocatorPolicy: 'default' } : { ipv4: `${POOLS[gateway].explicitBase}${(q % 250) + 1}` };
  const appliedTo =
    s.podSubnetNode !== undefined
      ? { podSubnet: [podCidr(s.podSubnetNode)] }
      : { podSelector: { matchLabels: { app: s.app! } }, ...(s.cluster && s.team ? { namespaceSelector: { matchLabels: { team: s.team } } } : {}) };
  const spec: Doc = {
    egressGatewayName: gateway,
    egressIP,
    appliedTo,
    ...(q % 5 === 0 ? { destSubnet: ['198.18.240.0/24'] } : {}),
    ...(q % 3 === 2 ? { priority: q % 7 } : {}),
  };
  return s.cluster
    ? { apiVersion: API_VERSION, kind: 'EgressClusterPolicy', metadata: { name: s.name }, spec }
    : { apiVersion: API_VERSION, kind: 'EgressPolicy', metadata: { name: s.name, namespace: s.namespace }, spec };
}

export function teamOfNamespace(namespace: string): string {
  return `t${Number(namespace.slice(3)) % TEAMS}`;
}

/** Does the selection pick this pod? (The oracle: matchLabels and one podSubnet /24 only.) */
export function selects(s: Selection, pod: PodPlace): boolean {
  if (s.cluster) return (s.team === undefined || teamOfNamespace(pod.namespace) === s.team) && pod.app === s.app;
  if (pod.namespace !== s.namespace) return false;
  if (s.podSubnetNode !== undefined) return pod.node === s.podSubnetNode;
  return pod.app === s.app;
}

/** A policy's key as slices name it: `ns/name` or `name` for a cluster policy. */
export function selectionKey(s: Selection): string {
  return s.cluster ? s.name : `${s.namespace}/${s.name}`;
}
