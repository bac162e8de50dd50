import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppliedReport } from '../api/applied-report.js';
import type { Policy } from '../api/model.js';
import type { Assignment } from '../planner/assign.js';
import { nodesWithSelectedPods, programmedCondition, type NodeReport } from './policy-programmed.js';

const policy = { key: 'default/web', generation: 3 } as Policy;
const active: Assignment = { policyKey: 'default/web', gatewayName: 'main', useNodeIP: false, node: 'gw-1', active: true, ignoredStatus: [] };
const applied = (generation = 3, node = 'gw-1') => ({ result: 'Applied', policies: [{ namespace: 'default', name: 'web', generation, node }] });
const failed = { result: 'Failed', code: 'EGW_ERR_NETLINK', message: 'links: ip link add egress.vxlan: A VXLAN device with the specified VNI already exists' };

function lookup(raw: Record<string, unknown>): (node: string) => NodeReport {
  return (node) => {
    if (!(node in raw)) return {};
    const { report, problems } = parseAppliedReport(raw[node]);
    return report ? { report } : { unusable: problems[0]! };
  };
}

const cases: { name: string; reports: Record<string, unknown>; pods?: string[]; assignment?: Assignment; want: [string, string, RegExp?] }[] = [
  { name: 'gateway and every node with pods applied it', reports: { 'gw-1': applied(), 'w-1': applied() }, pods: ['w-1'], want: ['True', 'Programmed'] },
  { name: 'no selected pods: the gateway alone', reports: { 'gw-1': applied() }, want: ['True', 'Programmed'] },
  { name: 'pods on the gateway node itself', reports: { 'gw-1': applied() }, pods: ['gw-1'], want: ['True', 'Programmed'] },
  {
    name: 'a worker has not applied it yet',
    reports: { 'gw-1': applied(), 'w-1': { result: 'Applied', policies: [] } },
    pods: ['w-1'],
    want: ['False', 'Pending', /^waiting for w-1: not applied yet$/],
  },
  {
    name: 'a worker applied an older generation',
    reports: { 'gw-1': applied(), 'w-1': applied(2) },
    pods: ['w-1'],
    want: ['False', 'Pending', /w-1: applied generation 2, not 3/],
  },
  {
    name: 'a worker still routes to the old gateway node',
    reports: { 'gw-1': applied(), 'w-1': applied(3, 'gw-2') },
    pods: ['w-1'],
    want: ['False', 'Pending', /w-1: applied for gateway node "gw-2", not "gw-1"/],
  },
  { name: 'the new gateway node has not taken it yet', reports: { 'gw-1': applied(3, 'gw-2'), 'w-1': applied() }, pods: ['w-1'], want: ['False', 'Pending', /^waiting for gw-1:/] },
  {
    name: 'a failed apply comes first, and names its code',
    reports: { 'gw-1': applied(), 'w-1': { result: 'Applied', policies: [] }, 'w-2': failed },
    pods: ['w-1', 'w-2'],
    want: ['False', 'ApplyFailed', /^not programmed on w-2: apply failed with EGW_ERR_NETLINK: links: .*already exists; w-1: not applied yet$/],
  },
  { name: 'no report from a worker', reports: { 'gw-1': applied() }, pods: ['w-1'], want: ['Unknown', 'NoReport', /w-1: no report from its agent/] },
  {
    name: 'a report that does not validate counts as none',
    reports: { 'gw-1': applied(), 'w-1': { result: 'Maybe' } },
    pods: ['w-1'],
    want: ['Unknown', 'NoReport', /w-1: its report is not used \(status\.applied\.result/],
  },
  {
    name: 'a cut report that does not list the policy',
    reports: { 'gw-1': applied(), 'w-1': { result: 'Applied', truncated: true, policies: [] } },
    pods: ['w-1'],
    want: ['Unknown', 'NoReport', /cut short/],
  },
  {
    name: 'an inactive policy',
    reports: {},
    assignment: { ...active, active: false, node: undefined, reason: 'NoReadyGatewayNode' } as Assignment,
    want: ['False', 'NotReady', /NoReadyGatewayNode/],
  },
];

for (const c of cases) {
  test(`Programmed: ${c.name}`, () => {
    const got = programmedCondition(policy, c.assignment ?? active, new Set(c.pods ?? []), lookup(c.reports));
    assert.deepEqual([got.status, got.reason], c.want.slice(0, 2), got.message);
    if (c.want[2]) assert.match(got.message, c.want[2]);
    assert.equal(got.observedGeneration, 3);
  });
}

test('Programmed: a node speaks only for itself, and a long list of nodes is counted, not spelled out', () => {
  const pods = Array.from({ length: 12 }, (_, i) => `w-${String(i).padStart(2, '0')}`);
  // w-00's tunnel lists the others' policy as if it spoke for them: it changes nothing for them
  const got = programmedCondition(policy, active, new Set(pods), lookup({ 'gw-1': applied(), 'w-00': applied() }));
  assert.equal(got.reason, 'NoReport');
  assert.doesNotMatch(got.message, /w-00/);
  assert.match(got.message, /w-01: no report from its agent; .*; w-08: no report from its agent; and 3 more nodes$/);
});

test('the nodes with selected pods come from the endpoint slices, per policy', () => {
  const endpoint = (node: string) => ({ namespace: 'default', pod: `p-${node}`, node, ipv4: [], ipv6: [] });
  const nodes = nodesWithSelectedPods([
    { name: 'a', namespace: 'default', policyKey: 'default/web', endpoints: [endpoint('w-1'), endpoint('w-2')] },
    { name: 'b', namespace: 'default', policyKey: 'default/web', endpoints: [endpoint('w-2'), endpoint('w-3')] },
    { name: 'c', namespace: '', policyKey: 'all', endpoints: [] },
  ]);
  assert.deepEqual([...nodes.get('default/web')!].sort(), ['w-1', 'w-2', 'w-3']);
  assert.deepEqual([...nodes.get('all')!], []);
});
