import { MAX_NODES, nodeLan, nodePodCidrs } from './addressing.js';
import { networkOptions, type NetworkOptions } from './network-options.js';
import { assertLabName, labPrefix, netnsName, netnsSuffix, nodeName } from './names.js';
import type { AgentRunSpec, LabState, NodeRole, NodeState } from './state.js';

export interface LabShape {
  workers: number;
  gateways: number;
  ipv6: boolean;
  nodeGraceSeconds: number;
  /** For the cluster plugin: start a sluice agent on every node (default true). */
  agents?: boolean;
  agent?: AgentRunSpec;
  apiConflicts?: boolean;
  plugins: string[];
  /** CNI masquerade, kube-proxy and NICs; defaults: see network-options.ts. */
  network?: Partial<NetworkOptions>;
}

export const ECHO_PORTS = { httpPort: 8080, tcpPort: 9000, udpPort: 9001, streamPort: 9002, httpsPort: 443, httpDefaultPort: 80 } as const;

/** The whole initial state of a lab, before anything exists in the kernel. Pure. */
export function planLab(name: string, stateDir: string, shape: LabShape): LabState {
  assertLabName(name);
  const { workers, gateways } = shape;
  for (const [flag, n] of [
    ['--workers', workers],
    ['--gateways', gateways],
  ] as const) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number >= 0, got ${n}`);
  }
  if (workers + gateways < 1 || workers + gateways > MAX_NODES) {
    throw new Error(`a lab needs 1..${MAX_NODES} nodes, got ${workers + gateways}`);
  }
  if (!(shape.nodeGraceSeconds > 0)) throw new Error(`--node-grace must be > 0, got ${shape.nodeGraceSeconds}`);
  const prefix = labPrefix(name);
  const roles: Array<[NodeRole, number]> = [
    ...Array.from({ length: workers }, (_, i): [NodeRole, number] => ['worker', i + 1]),
    ...Array.from({ length: gateways }, (_, i): [NodeRole, number] => ['gateway', i + 1]),
  ];
  const nodes = roles.map(([role, nth], i): NodeState => {
    const index = i + 1;
    const ns = netnsName(prefix, netnsSuffix.node(role, nth));
    const lan = nodeLan(index);
    const pods = nodePodCidrs(index);
    return {
      name: nodeName(role, nth),
      role,
      index,
      netns: ns,
      lanPort: ns,
      ips: shape.ipv6 ? [lan.v4, lan.v6] : [lan.v4],
      podCIDRs: shape.ipv6 ? [pods.v4, pods.v6] : [pods.v4],
      failed: false,
    };
  });
  return {
    version: 1,
    name,
    prefix,
    stateDir,
    phase: 'building',
    ipv6: shape.ipv6,
    nodeGraceSeconds: shape.nodeGraceSeconds,
    agents: shape.agents ?? true,
    ...(shape.agent ? { agent: shape.agent } : {}),
    ...(shape.apiConflicts ? { apiConflicts: true } : {}),
    network: networkOptions(shape.network),
    netns: {
      lan: netnsName(prefix, netnsSuffix.lan),
      ext: netnsName(prefix, netnsSuffix.ext),
      control: netnsName(prefix, netnsSuffix.control),
    },
    nodes,
    pods: [],
    podSeq: 0,
    echo: { ...ECHO_PORTS },
    apiServer: null,
    kubeconfig: null,
    plugins: [...shape.plugins],
    daemons: [],
  };
}
