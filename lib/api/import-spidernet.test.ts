import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { importSpidernet, type ImportSource } from './import-spidernet.js';

const EXPORT = parse(readFileSync('lib/api/testdata/spidernet-export.yaml', 'utf8')) as { items: unknown[] };
const sources = (items: unknown[]): ImportSource[] => items.map((body, i) => ({ where: `export:${i + 1}`, body }));
const byObject = (items: unknown[]) => new Map(importSpidernet(sources(items)).map((d) => [d.object, d]));

test('a spidernet export: server-owned metadata, finalizers, owner references, status and controller-owned kinds go', () => {
  const out = byObject(EXPORT.items);
  assert.deepEqual(
    [...out.values()].map((d) => [d.object, d.outcome]),
    [
      ['EgressGateway "default"', 'converted'],
      ['EgressGateway "partners"', 'converted'],
      ['EgressPolicy "default/visitor"', 'converted'],
      ['EgressPolicy "jobs/batch"', 'converted'],
      ['EgressClusterPolicy "payments"', 'converted'],
      ['EgressClusterInfo "default"', 'converted'],
      ['EgressEndpointSlice "default/visitor-kvlp6"', 'dropped'],
      ['EgressTunnel "node-gw-1"', 'dropped'],
    ],
  );
  const gw = out.get('EgressGateway "default"')!;
  assert.deepEqual(gw.body!.metadata, { name: 'default', annotations: { 'team.example.com/cost-center': '0777' } });
  assert.equal(gw.body!.apiVersion, 'egress.sluice.dev/v1alpha1');
  assert.ok(!('status' in gw.body!));
  assert.deepEqual(gw.body!.spec, {
    clusterDefault: true,
    ippools: { ipv4: ['10.6.1.64/28'], ipv4DefaultEIP: '10.6.1.71' },
    nodeSelector: { selector: { matchLabels: { egress: 'yes' } } },
  });
  assert.ok(gw.notes.some((n) => /finalizers egressgateway\.spidernet\.io\/egressgateway/.test(n)));
  assert.ok(gw.notes.some((n) => /"10\.6\.1\.70\/28" has host bits set: written as 10\.6\.1\.64\/28/.test(n)));
  assert.ok(gw.notes.some((n) => /spec\.nodeSelector\.policy "doing"/.test(n)));
});

test('clusterDefault is kept and policies without a gateway stay so, saying where sluice takes it from; calico pod CIDRs become extraCidr', () => {
  const out = byObject(EXPORT.items);
  for (const name of ['EgressPolicy "default/visitor"', 'EgressPolicy "jobs/batch"']) {
    const d = out.get(name)!;
    assert.equal(d.outcome, 'converted', name);
    assert.ok(!('egressGatewayName' in (d.body!.spec as object)), `${name}: no gateway written in`);
    assert.match(d.notes.join('\n'), /egress\.sluice\.dev\/egressgateway-default .*clusterDefault: true \(here "default"\)/, name);
  }
  assert.equal((out.get('EgressClusterPolicy "payments"')!.body!.spec as { egressGatewayName: string }).egressGatewayName, 'partners', 'an explicit name is kept');
  assert.deepEqual(out.get('EgressClusterInfo "default"')!.body!.spec, {
    autoDetect: { clusterIP: true, nodeIP: true, podCidrMode: 'none' },
    extraCidr: ['10.10.10.1', '10.233.64.0/18', '10.233.70.0/24'],
  });
});

test('what cannot be converted fails, naming why', () => {
  const items = structuredClone(EXPORT.items) as Array<Record<string, any>>;
  items[0]!.spec.clusterDefault = false; // no cluster default any more: the policies still convert
  delete items[5]!.status; // calico without the detected pools
  items.push({ apiVersion: 'egressgateway.spidernet.io/v1beta1', kind: 'EgressGatewayPolicy', metadata: { name: 'old' } });
  items.push({
    apiVersion: 'egressgateway.spidernet.io/v1beta1',
    kind: 'EgressPolicy',
    metadata: { name: 'odd', namespace: 'x' },
    spec: { egressGatewayName: 'default', egressIP: { useNodeIP: 'maybe' } },
  });
  items.push({
    apiVersion: 'egressgateway.spidernet.io/v1beta1',
    kind: 'EgressPolicy',
    metadata: { name: 'yes', namespace: 'x' },
    spec: { egressGatewayName: 'default', appliedTo: { podSelector: {} }, egressIP: { useNodeIP: 'yes' } },
  });
  const out = byObject(items);
  const failed = [...out.values()].filter((d) => d.outcome === 'failed').map((d) => d.object);
  assert.deepEqual(failed, ['EgressClusterInfo "default"', 'EgressGatewayPolicy "old"', 'EgressPolicy "x/odd"']);
  assert.match(out.get('EgressPolicy "default/visitor"')!.notes.join('\n'), /the input has no EgressGateway with clusterDefault: true/);
  assert.match(out.get('EgressClusterInfo "default"')!.notes.join('\n'), /list your IPPool CIDRs in spec\.extraCidr/);
  assert.match(out.get('EgressGatewayPolicy "old"')!.notes.join('\n'), /sluice has no EgressGatewayPolicy/);
  const yes = out.get('EgressPolicy "x/yes"')!;
  assert.equal(yes.outcome, 'converted');
  assert.equal((yes.body!.spec as { egressIP: { useNodeIP: unknown } }).egressIP.useNodeIP, true, 'YAML 1.1 "yes" in a boolean field');
});

test('objects of other groups pass through unchanged', () => {
  const pod = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'jobs' } };
  const [d] = importSpidernet(sources([pod]));
  assert.equal(d!.outcome, 'passed');
  assert.deepEqual(d!.body, pod);
});

test("a namespace naming spidernet's default gateway gets the command that names it for sluice", () => {
  const ns = (name: string, gateway: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'spidernet.io/egressgateway-default': gateway } } });
  const [jobs, hostile] = importSpidernet(sources([ns('jobs', 'partners'), ns('evil', 'x;rm -rf /')]));
  assert.equal(jobs!.outcome, 'passed');
  assert.deepEqual(jobs!.body, ns('jobs', 'partners'), 'unchanged');
  assert.ok(
    jobs!.notes.includes(
      "its label spidernet.io/egressgateway-default=partners is spidernet's; for sluice: kubectl label namespace jobs egress.sluice.dev/egressgateway-default=partners",
    ),
  );
  assert.equal(hostile!.notes.length, 1, 'a value that is no gateway name is never printed as a command');
});

test('several cluster defaults: the note says the oldest one counts', () => {
  const items = structuredClone(EXPORT.items) as Array<Record<string, any>>;
  items[1]!.spec.clusterDefault = true;
  const out = byObject(items);
  assert.match(out.get('EgressClusterPolicy "payments"')!.notes.join('\n') + out.get('EgressPolicy "default/visitor"')!.notes.join('\n'), /the oldest of default, partners/);
});
