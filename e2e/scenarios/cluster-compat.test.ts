/**
 * sluice in labs as hostile as real clusters: CNI masquerades without an interface match (Flannel,
 * Calico; nft, iptables-nft, iptables-legacy), kube-proxy Services (iptables and nftables modes, with
 * the kubelet-era KUBE-FIREWALL drop of 0x8000), a mark mask over kube-proxy's bits that the user
 * allowed, and nodes with a second NIC. Labs come up three at a time (a bring-up is mostly
 * waiting); the scenarios of one lab run in order.
 */
import { describe } from 'node:test';
import { cniMasqueradeSuites } from './compat/cni-masquerade.js';
import { marksOverKubeProxySuite } from './compat/marks.js';
import { secondNicSuite } from './compat/second-nic.js';
import { servicesSuites } from './compat/services.js';
import { scenarioSkip } from './support/scenario-lab.js';

describe('cluster compatibility', { skip: scenarioSkip, concurrency: 3 }, () => {
  servicesSuites();
  marksOverKubeProxySuite();
  secondNicSuite();
  cniMasqueradeSuites();
});
