import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from './parse-document.js';
import { API_VERSION } from './group.js';
import { formatInterval } from './ip.js';

const firewall = (spec: unknown, kind = 'EgressFirewall') => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name: 'fw', ...(kind === 'EgressFirewall' ? { namespace: 'apps' } : {}), uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec,
});

function reasons(doc: unknown): string[] {
  return parseDocument(doc).problems.map((p) => `${p.reason} ${p.path}`);
}

test('an OVN-Kubernetes-shaped EgressFirewall parses into ordered rules with defaults', () => {
  const r = parseDocument(
    firewall({
      egress: [
        { type: 'Allow', to: { dnsName: 'GitHub.com.' }, ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'UDP' }] },
        { type: 'Allow', to: { dnsName: '*.example.com' } },
        { type: 'Deny', to: { cidrSelector: '0.0.0.0/0' } },
        { type: 'Deny', to: { cidrSelector: '::/0' }, ports: [{ protocol: 'SCTP', port: 9 }] },
      ],
    }),
  );
  assert.deepEqual(r.problems, []);
  assert.equal(r.object?.kind, 'EgressFirewall');
  const fw = r.object!.value as import('./model.js').Firewall;
  assert.equal(fw.key, 'apps/fw');
  assert.equal(fw.spec.defaultAction, 'Allow', 'OVN-Kubernetes default');
  assert.equal(fw.spec.priority, 0);
  assert.equal(fw.spec.podSelector, undefined, 'absent: every pod of the namespace');
  assert.deepEqual(
    fw.spec.rules.map((x) => [x.action, x.dnsName ?? formatInterval(x.cidr!), x.ports.map((p) => `${p.protocol}/${p.port ?? '*'}`).join(',')]),
    [
      ['Allow', 'github.com', 'TCP/443,UDP/*'],
      ['Allow', '*.example.com', ''],
      ['Deny', '0.0.0.0/0', ''],
      ['Deny', '::/0', 'SCTP/9'],
    ],
  );
});

test('the cluster kind takes a namespace selector and a priority; the namespaced one refuses a namespace selector', () => {
  const cluster = parseDocument(
    firewall({ appliedTo: { namespaceSelector: { matchLabels: { team: 'a' } } }, priority: 5, defaultAction: 'Deny', egress: [] }, 'EgressClusterFirewall'),
  );
  assert.deepEqual(cluster.problems, []);
  const fw = cluster.object!.value as import('./model.js').Firewall;
  assert.equal(fw.key, 'fw');
  assert.equal(fw.namespace, '');
  assert.deepEqual(fw.spec.namespaceSelector, { matchLabels: { team: 'a' } });
  assert.equal(fw.spec.defaultAction, 'Deny');
  assert.equal(fw.spec.priority, 5);
  assert.deepEqual(reasons(firewall({ appliedTo: { namespaceSelector: {} }, egress: [] })), ['UnknownField spec.appliedTo.namespaceSelector']);
});

test('bad rules are refused with a stable reason and the path of the field, never a throw', () => {
  const cases: [unknown, string[]][] = [
    [{}, ['Required spec.egress']],
    [{ egress: 'x' }, ['InvalidType spec.egress']],
    [{ egress: [null] }, ['InvalidType spec.egress[0]']],
    [{ egress: [{ to: { cidrSelector: '1.2.3.0/24' } }] }, ['Required spec.egress[0].type']],
    [{ egress: [{ type: 'Reject', to: { cidrSelector: '1.2.3.0/24' } }] }, ['InvalidValue spec.egress[0].type']],
    [{ egress: [{ type: 'Allow' }] }, ['Required spec.egress[0].to']],
    [{ egress: [{ type: 'Allow', to: {} }] }, ['Required spec.egress[0].to']],
    [{ egress: [{ type: 'Allow', to: { cidrSelector: '1.2.3.0/24', dnsName: 'a.b' } }] }, ['Conflict spec.egress[0].to']],
    [{ egress: [{ type: 'Allow', to: { cidrSelector: '1.2.3.4/24' } }] }, ['InvalidIP spec.egress[0].to.cidrSelector']],
    [{ egress: [{ type: 'Allow', to: { cidrSelector: '300.0.0.0/8' } }] }, ['InvalidIP spec.egress[0].to.cidrSelector']],
    [{ egress: [{ type: 'Allow', to: { dnsName: 'a..b' } }] }, ['InvalidValue spec.egress[0].to.dnsName']],
    [{ egress: [{ type: 'Allow', to: { dnsName: 'a.*.b' } }] }, ['InvalidValue spec.egress[0].to.dnsName']],
    [{ egress: [{ type: 'Allow', to: { dnsName: 'bad name"; drop' } }] }, ['InvalidValue spec.egress[0].to.dnsName']],
    [{ egress: [{ type: 'Allow', to: { dnsName: `${'a'.repeat(64)}.com` } }] }, ['InvalidValue spec.egress[0].to.dnsName']],
    [{ egress: [{ type: 'Allow', to: { dnsName: 'a.b' }, ports: [{ protocol: 'ICMP' }] }] }, ['InvalidValue spec.egress[0].ports[0].protocol']],
    [{ egress: [{ type: 'Allow', to: { dnsName: 'a.b' }, ports: [{ protocol: 'TCP', port: 0 }] }] }, ['InvalidValue spec.egress[0].ports[0].port']],
    [{ egress: [{ type: 'Allow', to: { dnsName: 'a.b' }, ports: [{ port: 80 }] }] }, ['Required spec.egress[0].ports[0].protocol']],
    [{ egress: [], defaultAction: 'Drop' }, ['InvalidValue spec.defaultAction']],
    [{ egress: [], priority: 5000 }, ['InvalidValue spec.priority']],
    [{ egress: Array.from({ length: 1001 }, () => ({ type: 'Allow', to: { dnsName: 'a.b' } })) }, ['InvalidValue spec.egress']],
  ];
  for (const [spec, expected] of cases) assert.deepEqual(reasons(firewall(spec)), expected, JSON.stringify(spec).slice(0, 120));
});

test('fields the CRD does not have are refused, as kubectl apply would', () => {
  assert.deepEqual(reasons(firewall({ egress: [{ type: 'Allow', to: { dnsName: 'a.b', ipBlock: 'x' } }] })), ['UnknownField spec.egress[0].to.ipBlock']);
});
