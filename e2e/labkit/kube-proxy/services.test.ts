import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkOptions } from '../network-options.js';
import { planLab } from '../plan.js';
import type { LabState } from '../state.js';
import { kubeProxyServicesIptables } from './iptables-rules.js';
import { kubeProxyNft } from './nft-rules.js';
import { planService, type ServiceSpec } from './services.js';

const ECHO = { http: 8080, udp: 9001 };

function labWithBackend(): LabState {
  const s = planLab('svc-unit', '/nonexistent', { workers: 1, gateways: 1, ipv6: false, nodeGraceSeconds: 5, plugins: [], network: { kubeProxy: 'iptables' } });
  s.pods.push({ namespace: 'default', name: 'backend', node: 'gateway-1', netns: 'x', hostVeth: 'x', host: 2, ips: ['10.244.2.2'], labels: {} });
  return s;
}

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({ namespace: 'default', name: 'web', type: 'LoadBalancer', backend: 'default/backend', ...over });

test('a LoadBalancer service gets a ClusterIP, a NodePort and a LoadBalancer IP outside the EIP range', () => {
  const s = labWithBackend();
  const svc = planService(s, spec({ externalIPs: ['198.18.0.200'] }), ECHO);
  assert.deepEqual(
    { clusterIP: svc.clusterIP, nodePort: svc.nodePort, lb: svc.loadBalancerIP, target: svc.targetPort, backend: svc.backend.ip },
    { clusterIP: '10.96.0.10', nodePort: 30080, lb: '198.18.0.201', target: 8080, backend: '10.244.2.2' },
    'the external IP .200 is taken, so the LoadBalancer IP is the next one',
  );
  s.services = [svc];
  const second = planService(s, spec({ name: 'dns', type: 'ClusterIP', protocol: 'udp', port: 53 }), ECHO);
  assert.deepEqual([second.clusterIP, second.nodePort, second.loadBalancerIP, second.targetPort], ['10.96.0.11', null, null, 9001]);
});

test('bad services are refused with a clear message', () => {
  const s = labWithBackend();
  s.services = [planService(s, spec(), ECHO)];
  const cases: Array<[Partial<ServiceSpec>, RegExp]> = [
    [{}, /already exists/],
    [{ name: 'Bad_Name' }, /not a DNS label/],
    [{ name: 'x', backend: 'default/missing' }, /is not a pod of lab/],
    [{ name: 'x', externalIPs: ['198.18.0.150'] }, /outside the lab's service range/],
    [{ name: 'x', externalIPs: [s.services[0]!.loadBalancerIP!] }, /already used/],
    [{ name: 'x', port: 70000 }, /port must be 1\.\.65535/],
    [{ name: 'x', type: 'ExternalName' as never }, /service type must be one of/],
  ];
  for (const [over, re] of cases) assert.throws(() => planService(s, spec(over), ECHO), re, JSON.stringify(over));
});

test('kube-proxy renders DNAT, the masquerade mark and the nodeport catch-all last', () => {
  const s = labWithBackend();
  const svc = planService(s, spec({ externalIPs: ['198.18.0.210'] }), ECHO);
  const ipt = kubeProxyServicesIptables([svc]);
  const lines = ipt.split('\n');
  assert.match(ipt, /-j DNAT --to-destination 10\.244\.2\.2:8080/);
  assert.match(ipt, /-A KUBE-SERVICES -d 198\.18\.0\.210\/32 .*external IP.* -j KUBE-EXT-/);
  assert.match(ipt, /-A KUBE-EXT-\S+ .* -j KUBE-MARK-MASQ/);
  assert.match(lines[lines.indexOf('COMMIT') - 1]!, /-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/);
  const nft = kubeProxyNft([svc]);
  assert.match(nft, /meta l4proto tcp dnat to 10\.244\.2\.2:8080/);
  assert.match(nft, /add element ip kube-proxy service-ips \{ 10\.96\.0\.10 \. tcp \. 80 : goto service-/);
  assert.match(nft, /tcp \. 30080 : goto external-/);
});

test('network options: defaults are the plain lab, unknown values are refused', () => {
  assert.deepEqual(networkOptions(), { masquerade: 'eth0', netfilter: 'nft', kubeProxy: 'none', secondNic: false });
  assert.throws(() => networkOptions({ masquerade: 'cilium' as never }), /masquerade must be one of eth0, flannel, calico/);
  assert.throws(() => networkOptions({ netfilter: 'ipchains' as never }), /netfilter must be one of/);
});
