/** The Node object the lab registers for a lab node, as a kubelet would. Pure. */
import { arch, cpus, release, totalmem } from 'node:os';
import { MAX_PODS_PER_NODE } from '../addressing.js';
import type { LabState, NodeState } from '../state.js';
import { kubeTime, type NodeObject } from './kube-types.js';
import { HEALTHY_CONDITIONS } from './node-health.js';

/** Set on every lab node; gateways also get the role label kubectl shows under ROLES. */
export const LAB_ROLE_LABEL = 'sluice.dev/lab-role';
export const GATEWAY_ROLE_LABEL = 'node-role.kubernetes.io/gateway';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function nodeManifest(s: LabState, node: NodeState, now = kubeTime()): NodeObject {
  const goarch = GOARCH[arch()] ?? arch();
  const capacity = { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: String(MAX_PODS_PER_NODE) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goarch,
        [LAB_ROLE_LABEL]: node.role,
        ...(node.role === 'gateway' ? { [GATEWAY_ROLE_LABEL]: '' } : {}),
      },
    },
    spec: { podCIDR: node.podCIDRs[0]!, podCIDRs: [...node.podCIDRs], providerID: `sluice-lab://${s.name}/${node.name}` },
    status: {
      conditions: HEALTHY_CONDITIONS.map((c) => ({ ...c, lastHeartbeatTime: now, lastTransitionTime: now })),
      addresses: [...node.ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: node.name }],
      capacity,
      allocatable: capacity,
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: goarch,
        operatingSystem: 'linux',
        osImage: `sluice netns lab (${node.netns})`,
        kernelVersion: release(),
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        containerRuntimeVersion: 'netns://lab',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}
