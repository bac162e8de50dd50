/**
 * The lab's kube-proxy: writes the rules of every Service on every node (as kube-proxy does on each
 * node of a cluster), routes LoadBalancer and external IPs from the external host to a node (as a
 * load balancer or a BGP peer would), and runs the echo server in each Service's backend pod.
 */
import { fileURLToPath } from 'node:url';
import type { DaemonSpec } from '../daemons.js';
import { iptablesBackend, type NetworkOptions } from '../network-options.js';
import { loadNodeRules } from '../node-rules.js';
import { ipBatch } from '../run.js';
import type { LabState, PodState } from '../state.js';
import { kubeProxyBaseIptables, kubeProxyLocalnetIptables, kubeProxyServicesIptables } from './iptables-rules.js';
import { kubeProxyNft } from './nft-rules.js';
import { externalAddresses, servicesOf } from './services.js';

/** At `up`: the static part of kube-proxy's rules on every node. */
export async function loadKubeProxyBase(state: LabState, net: NetworkOptions): Promise<void> {
  if (net.kubeProxy === 'none') return;
  await Promise.all(
    state.nodes.map((node) =>
      loadNodeRules(
        node.netns,
        net.kubeProxy === 'nftables'
          ? { nft: kubeProxyNft([]) }
          : { ip4: kubeProxyBaseIptables() + kubeProxyLocalnetIptables(), ...(state.ipv6 ? { ip6: kubeProxyBaseIptables() } : {}) },
        iptablesBackend(net),
      ),
    ),
  );
}

/** Rewrites every node's Service rules from state.services, and the external host's routes to them. */
export async function syncKubeProxy(state: LabState, net: NetworkOptions): Promise<void> {
  if (net.kubeProxy === 'none') throw new Error(`lab ${state.name} runs no kube-proxy (up --kube-proxy iptables|nftables)`);
  const services = servicesOf(state);
  const rules = net.kubeProxy === 'nftables' ? { nft: kubeProxyNft(services) } : { ip4: kubeProxyServicesIptables(services) };
  await Promise.all(state.nodes.map((node) => loadNodeRules(node.netns, rules, iptablesBackend(net))));
  const via = state.nodes[0]!.ips[0]!;
  const routes = services.flatMap(externalAddresses).map((ip) => `route replace ${ip}/32 via ${via} dev eth0`);
  if (routes.length) await ipBatch(state.netns.ext, routes);
}

export const backendRole = (pod: PodState) => `echo:${pod.namespace}/${pod.name}`;

/** The echo server in a backend pod: it answers with the source address it saw, as the external one does. */
export function backendEchoDaemon(state: LabState, pod: PodState): DaemonSpec {
  const script = fileURLToPath(new URL('../echo-server.js', import.meta.url));
  return {
    role: backendRole(pod),
    netns: pod.netns,
    argv: [
      process.execPath,
      script,
      `--http=${state.echo.httpPort}`,
      `--tcp=${state.echo.tcpPort}`,
      `--udp=${state.echo.udpPort}`,
      `--stream=${state.echo.streamPort}`,
      `--host6=${state.ipv6 ? '::' : ''}`,
    ],
    readyLogLine: '"ready":true',
    readyTimeoutMs: 10_000,
  };
}
