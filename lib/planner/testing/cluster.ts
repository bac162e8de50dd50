/** Builders of wire objects for planner and controller tests. */
import { API_VERSION, LAN_ANNOTATION, POLICY_LABEL } from '../../api/group.js';
import { parseDocument, type ParsedObject } from '../../api/parse-document.js';
import { DEFAULT_CONFIG, type AgentConfig } from '../config.js';
import { snapshotFromObjects } from '../from-objects.js';
import type { Snapshot } from '../snapshot.js';

type Doc = Record<string, unknown>;

export function node(name: string, index: number, opts: { labels?: Record<string, string>; ready?: boolean; ipv6?: boolean } = {}): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { podCIDRs: [`10.244.${index}.0/24`, ...(opts.ipv6 ? [`fd00:10:244:${index}::/64`] : [])] },
    status: {
      addresses: [{ type: 'InternalIP', address: `198.18.0.${10 + index}` }, ...(opts.ipv6 ? [{ type: 'InternalIP', address: `fd00:198:18::${10 + index}` }] : [])],
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): Doc {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function pod(ns: string, name: string, nodeName: string, ips: string[], labels: Record<string, string> = {}): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { nodeName },
    status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function gateway(name: string, spec: Doc, created?: string): Doc {
  return { apiVersion: API_VERSION, kind: 'EgressGateway', metadata: { name, ...(created ? { creationTimestamp: created } : {}) }, spec };
}

export function tunnel(node: string, status: Doc): Doc {
  return { apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: node }, status };
}

export function policy(ns: string, name: string, spec: Doc, extra: { created?: string; status?: Doc } = {}): Doc {
  return {
    apiVersion: API_VERSION,
    kind: 'EgressPolicy',
    metadata: { name, namespace: ns, creationTimestamp: extra.created ?? '2026-01-01T00:00:00Z' },
    spec,
    ...(extra.status ? { status: extra.status } : {}),
  };
}

export function clusterPolicy(name: string, spec: Doc, created = '2026-01-01T00:00:00Z'): Doc {
  return { apiVersion: API_VERSION, kind: 'EgressClusterPolicy', metadata: { name, creationTimestamp: created }, spec };
}

function parseAll(docs: readonly Doc[]): ParsedObject[] {
  return docs.map((d) => {
    const r = parseDocument(d);
    if (!r.object) throw new Error(`fixture does not parse: ${JSON.stringify(r.problems)}`);
    return r.object;
  });
}

export function snapshotOf(docs: readonly Doc[], config: AgentConfig = DEFAULT_CONFIG): Snapshot {
  return snapshotFromObjects(parseAll(docs), config);
}

/** One worker (index 1) and two gateway nodes (2, 3) labelled egress=true, gateway "default". */
export function baseCluster(opts: { ipv6?: boolean; pool?: Doc } = {}): Doc[] {
  return [
    node('worker-1', 1, { ipv6: opts.ipv6 }),
    node('gateway-1', 2, { labels: { egress: 'true' }, ipv6: opts.ipv6 }),
    node('gateway-2', 3, { labels: { egress: 'true' }, ipv6: opts.ipv6 }),
    namespace('default'),
    gateway('default', {
      nodeSelector: { selector: { matchLabels: { egress: 'true' } } },
      ippools: opts.pool ?? { ipv4: ['198.18.0.100-198.18.0.120'], ipv4DefaultEIP: '198.18.0.110' },
    }),
  ];
}

/**
 * Dual-stack cluster using every feature that changes the nft rules: podSelector, podSubnet,
 * destSubnet with CIDRs and ranges, excludeDestSubnet, rr, useNodeIP, a cluster policy with a
 * namespaceSelector and a priority.
 */
export function everyRuleCluster(): Doc[] {
  return [
    ...baseCluster({ ipv6: true, pool: { ipv4: ['198.18.0.100-198.18.0.120'], ipv6: ['fd00:198:18::100/120'] } }),
    namespace('prod', { env: 'prod' }),
    pod('default', 'visitor', 'worker-1', ['10.244.1.5', 'fd00:10:244:1::5'], { app: 'visitor' }),
    pod('default', 'gw-pod', 'gateway-1', ['10.244.2.5'], { app: 'visitor' }),
    pod('prod', 'p', 'worker-1', ['10.244.1.9'], { app: 'x' }),
    policy('default', 'test', {
      egressGatewayName: 'default',
      appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } },
      destSubnet: ['198.18.1.0/24', '198.18.2.1-198.18.2.9', 'fd00:ee::/64'],
      excludeDestSubnet: ['198.18.1.128/25'],
    }),
    policy('default', 'subnet', { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.1.0/24', 'fd00:10:244:1::/64'] } }),
    policy('default', 'node-ip', { egressGatewayName: 'default', egressIP: { useNodeIP: true }, appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }),
    clusterPolicy('prod', { egressGatewayName: 'default', priority: 5, appliedTo: { podSelector: {}, namespaceSelector: { matchLabels: { env: 'prod' } } } }),
  ];
}

/** An endpoint slice as the controller writes it (`endpoints[].{ns, pod, node, ipv4, ipv6}`). */
export function endpointSlice(ns: string, name: string, policyName: string, endpoints: Doc[]): Doc {
  return { apiVersion: API_VERSION, kind: 'EgressEndpointSlice', metadata: { name, namespace: ns, labels: { [POLICY_LABEL]: policyName } }, endpoints };
}

/** EgressClusterInfo `default` with a spec (the default one when omitted) and a status. */
export function clusterInfo(status: Doc, spec: Doc = { autoDetect: { podCidrMode: 'k8s', clusterIP: true, nodeIP: true } }): Doc {
  return { apiVersion: API_VERSION, kind: 'EgressClusterInfo', metadata: { name: 'default' }, spec, status };
}

/** EgressTunnel status as the controller writes it for the node of `node(name, index)`. */
export function nodeTunnel(name: string, index: number, mark?: number): Doc {
  return tunnel(name, {
    tunnel: { ipv4: `172.31.0.${index}`, mac: `02:00:00:00:00:${String(index).padStart(2, '0')}`, parent: { name: 'eth0', ipv4: `198.18.0.${10 + index}` } },
    ...(mark ? { mark: String(mark) } : {}),
    phase: 'Ready',
  });
}

/** A lower-case unicast MAC for node `index` of `node(name, index)`. */
export const lanMac = (index: number): string => `02:aa:00:00:00:${String(index).padStart(2, '0')}`;

/** The EgressTunnel of `node(name, index)` with only the lan annotation its agent publishes (its /24 by default). */
export function lanTunnel(name: string, index: number, address = `198.18.0.${10 + index}/24`): Doc {
  return { apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name, annotations: { [LAN_ANNOTATION]: `${lanMac(index)} ${address}` } } };
}
